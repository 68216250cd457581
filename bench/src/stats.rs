//! Percentiles over recorded samples, and the one-line report the bench parses.

use std::fmt::Write as _;

/// Latency samples in microseconds.
#[derive(Debug, Default, Clone)]
pub struct Samples(Vec<u32>);

impl Samples {
    /// Records one sample.
    pub fn push(&mut self, micros: u64) {
        self.0.push(u32::try_from(micros).unwrap_or(u32::MAX));
    }

    /// Takes every sample of `other`.
    pub fn merge(&mut self, other: Samples) {
        self.0.extend(other.0);
    }

    /// How many samples there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Sorts the samples so that [`Samples::percentile`] can read them.
    pub fn sort(&mut self) {
        self.0.sort_unstable();
    }

    /// The `q` quantile (0..=1) of sorted samples, nearest rank; `None` if empty.
    pub fn percentile(&self, q: f64) -> Option<u32> {
        let n = self.0.len();
        if n == 0 {
            return None;
        }
        let rank = (q * n as f64).ceil() as usize;
        Some(self.0[rank.clamp(1, n) - 1])
    }
}

/// The machine-readable result of one scenario run: `result key=value …`
/// on stdout (keys without spaces, values numbers or single words).
#[derive(Debug, Default)]
pub struct Report(String);

impl Report {
    /// A report for `scenario`.
    pub fn new(scenario: &str) -> Self {
        Self(format!("result scenario={scenario}"))
    }

    /// Adds a number (omitted when unknown).
    pub fn num(mut self, key: &str, value: Option<f64>) -> Self {
        if let Some(value) = value.filter(|v| v.is_finite()) {
            let _ = write!(self.0, " {key}={value:.3}");
        }
        self
    }

    /// Adds a count.
    pub fn count(mut self, key: &str, value: u64) -> Self {
        let _ = write!(self.0, " {key}={value}");
        self
    }

    /// The p50, p99, p99.9 and max of `samples` under `prefix` (`lat_p50_us`, …).
    pub fn percentiles(mut self, prefix: &str, samples: &mut Samples) -> Self {
        samples.sort();
        for (name, q) in [("p50", 0.5), ("p99", 0.99), ("p999", 0.999), ("max", 1.0)] {
            if let Some(value) = samples.percentile(q) {
                let _ = write!(self.0, " {prefix}_{name}_us={value}");
            }
        }
        self
    }

    /// The line.
    pub fn line(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut samples = Samples::default();
        for v in (1..=100).rev() {
            samples.push(v);
        }
        samples.sort();
        assert_eq!(samples.percentile(0.5), Some(50));
        assert_eq!(samples.percentile(0.99), Some(99));
        assert_eq!(samples.percentile(1.0), Some(100));
        assert_eq!(samples.percentile(0.0), Some(1));
        assert_eq!(Samples::default().percentile(0.5), None);
    }

    #[test]
    fn report_line() {
        let line = Report::new("x")
            .count("ok", 3)
            .num("rate", Some(1.5))
            .num("cpu", None);
        assert_eq!(line.line(), "result scenario=x ok=3 rate=1.500");
    }
}
