//! The command line of `cargo xtask bench`.

use crate::error::{Error, Result};

const USAGE: &str = "usage: cargo xtask bench [--quick] [--runs N] [--only startup|blueprints] | \
                     cargo xtask bench --only instructions [--save-baseline] | \
                     cargo xtask bench --soak [--soak-seconds S] | \
                     cargo xtask bench --cluster [--quick] [--runs N] | \
                     cargo xtask bench --recovery [--quick] [--runs N]";

/// The soak runs this long unless told otherwise.
pub(super) const SOAK_SECONDS: u64 = 600;

/// What `cargo xtask bench` was asked for.
#[derive(Debug, PartialEq)]
pub(super) struct Request {
    /// The smaller, shorter scenarios (the CI smoke run).
    pub(super) quick: bool,
    /// Runs of each scenario on each server.
    pub(super) runs: usize,
    /// Only the client start-up, no server scenario.
    pub(super) startup_only: bool,
    /// Only the blueprint scenarios (no start-up, no instruction counts).
    pub(super) blueprints_only: bool,
    /// Only the instruction counts; with `save_baseline`, written as the new baseline.
    pub(super) instructions_only: bool,
    /// Writes the counts as the new baseline.
    pub(super) save_baseline: bool,
    /// The soak alone, for this many seconds.
    pub(super) soak_seconds: Option<u64>,
    /// Many servers on one Redis, ours against Sails.
    pub(super) cluster: bool,
    /// What connection-state recovery costs our server.
    pub(super) recovery: bool,
}

fn usage() -> Error {
    Error::Usage(USAGE.into())
}

fn positive(flag: &str, value: Option<&String>) -> Result<usize> {
    let value = value.ok_or_else(usage)?;
    value
        .parse::<usize>()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| Error::BadValue {
            flag: flag.to_owned(),
            value: value.clone(),
            expected: "a positive number",
        })
}

/// Reads the arguments after `bench`.
pub(super) fn parse(args: &[String]) -> Result<Request> {
    let mut quick = false;
    let mut runs = None;
    let mut startup_only = false;
    let mut blueprints_only = false;
    let mut instructions_only = false;
    let mut save_baseline = false;
    let mut soak = false;
    let mut soak_seconds = None;
    let mut cluster = false;
    let mut recovery = false;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--runs" => runs = Some(positive(arg, rest.next())?),
            "--only" => match rest.next().map(String::as_str) {
                Some("startup") => startup_only = true,
                Some("blueprints") => blueprints_only = true,
                Some("instructions") => instructions_only = true,
                _ => return Err(usage()),
            },
            "--save-baseline" => save_baseline = true,
            "--soak" => soak = true,
            "--cluster" => cluster = true,
            "--recovery" => recovery = true,
            "--soak-seconds" => soak_seconds = Some(positive(arg, rest.next())? as u64),
            _ => return Err(usage()),
        }
    }
    let soak_seconds = match (soak, soak_seconds) {
        (true, seconds)
            if !quick
                && runs.is_none()
                && !startup_only
                && !blueprints_only
                && !instructions_only =>
        {
            Some(seconds.unwrap_or(SOAK_SECONDS))
        }
        (false, None) => None,
        _ => return Err(usage()),
    };
    let only = [startup_only, blueprints_only, instructions_only];
    let chosen = only.iter().filter(|&&only| only).count();
    if (save_baseline && !instructions_only)
        || chosen > 1
        || ((cluster || recovery) && (chosen > 0 || soak_seconds.is_some()))
        || (cluster && recovery)
    {
        return Err(usage());
    }
    Ok(Request {
        quick,
        runs: runs.unwrap_or(if quick { 1 } else { 3 }),
        startup_only,
        blueprints_only,
        instructions_only,
        save_baseline,
        soak_seconds,
        cluster,
        recovery,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_strs(args: &[&str]) -> Result<Request> {
        parse(&args.iter().map(|arg| (*arg).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn bench_arguments() {
        let full = parse_strs(&[]).unwrap();
        assert_eq!(
            (full.quick, full.runs, full.startup_only),
            (false, 3, false)
        );
        assert_eq!(full.soak_seconds, None);
        assert_eq!(parse_strs(&["--quick"]).unwrap().runs, 1);
        assert!(
            parse_strs(&["--quick", "--only", "startup"])
                .unwrap()
                .startup_only
        );
        assert_eq!(
            parse_strs(&["--soak"]).unwrap().soak_seconds,
            Some(SOAK_SECONDS)
        );
        assert_eq!(
            parse_strs(&["--soak", "--soak-seconds", "60"])
                .unwrap()
                .soak_seconds,
            Some(60)
        );
        let cluster = parse_strs(&["--cluster", "--quick"]).unwrap();
        assert!(cluster.cluster && cluster.quick);
        let recovery = parse_strs(&["--recovery", "--quick"]).unwrap();
        assert!(recovery.recovery && recovery.quick && !recovery.cluster);
        assert_eq!(recovery.runs, 1);
        let recovery = parse_strs(&["--recovery", "--runs", "5"]).unwrap();
        assert!(recovery.recovery && !recovery.quick);
        assert_eq!(recovery.runs, 5);
        assert!(!full.recovery);
        assert!(
            parse_strs(&["--only", "blueprints"])
                .unwrap()
                .blueprints_only
        );
        let counting = parse_strs(&["--only", "instructions", "--save-baseline"]).unwrap();
        assert!(counting.instructions_only && counting.save_baseline);
        for wrong in [
            &["--save-baseline"][..],
            &["--only", "startup", "--only", "instructions"],
            &["--only", "blueprints", "--only", "startup"],
            &["--only", "fanout"][..],
            &["--soak-seconds", "60"],
            &["--soak", "--quick"],
            &["--runs", "0"],
            &["--cluster", "--soak"],
            &["--cluster", "--only", "startup"],
            &["--recovery", "--soak"],
            &["--recovery", "--cluster"],
            &["--recovery", "--only", "instructions"],
            &["--recovery", "--runs"],
        ] {
            assert!(parse_strs(wrong).is_err(), "{wrong:?}");
        }
        let zero = parse_strs(&["--runs", "0"]).unwrap_err().to_string();
        assert_eq!(zero, "--runs: `0` is not a positive number");
    }
}
