//! What the bench reads about a server process from `/proc` (Linux only).

use std::fs;

/// The CPU time (user + system) a process has used so far, in clock ticks.
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces: count fields after its `)`.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_ascii_whitespace();
    // Fields 3.. follow; utime and stime are fields 14 and 15.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// The resident set size of a process, in KiB (`VmRSS`).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on every Linux we know of).
pub fn ticks_per_second() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .filter(|&ticks| ticks > 0)
        .unwrap_or(100)
}

/// This process's soft limit on open files (`Max open files` in `/proc/self/limits`).
pub fn open_files_limit() -> Option<u64> {
    let limits = fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_ascii_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The CPU use of a server (or of every process of a cluster) over a
/// measured window.
#[derive(Debug, Clone)]
pub struct CpuWindow {
    /// Each process and its ticks at the start.
    starts: Vec<(u32, Option<u64>)>,
}

impl CpuWindow {
    /// Starts measuring `pid` (no pid: nothing is measured).
    pub fn start(pid: Option<u32>) -> Self {
        Self::start_all(pid)
    }

    /// Starts measuring every process of `pids` together.
    pub fn start_all(pids: impl IntoIterator<Item = u32>) -> Self {
        Self {
            starts: pids.into_iter().map(|pid| (pid, cpu_ticks(pid))).collect(),
        }
    }

    /// Microseconds of CPU the processes used since the start (none when
    /// nothing is measured or one of them cannot be read).
    pub fn elapsed_us(&self, ticks_per_second: u64) -> Option<f64> {
        if self.starts.is_empty() {
            return None;
        }
        let mut ticks = 0;
        for (pid, start) in &self.starts {
            ticks += cpu_ticks(*pid)?.checked_sub((*start)?)?;
        }
        Some(ticks as f64 * 1e6 / ticks_per_second as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_its_own_process() {
        let pid = std::process::id();
        assert!(cpu_ticks(pid).is_some());
        assert!(rss_kib(pid).is_some_and(|kib| kib > 0));
        assert!(open_files_limit().is_some_and(|n| n > 0));
    }
}
