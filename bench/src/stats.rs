//! Percentiles over recorded samples, and the record of a run that the bench reads.

use sails_bench_record::{Key, Percentiles, Record, RecordError, Scenario};

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

/// The record of one scenario run, as the generator builds it
/// (`sails_bench_record` defines its figures and its line on stdout).
#[derive(Debug, Clone)]
pub struct Report(Record);

impl Report {
    /// A report for `scenario`.
    pub fn new(scenario: Scenario) -> Self {
        Self(Record::new(scenario))
    }

    /// Adds a measured value, to three decimals (omitted when unknown).
    pub fn num(mut self, key: Key, value: Option<f64>) -> Self {
        if let Some(value) = value {
            self.0.set(key, (value * 1000.0).round() / 1000.0);
        }
        self
    }

    /// Adds a count.
    pub fn count(mut self, key: Key, value: u64) -> Self {
        self.0.set(key, value as f64);
        self
    }

    /// The p50, p99, p99.9 and max of `samples`, under the series' keys.
    pub fn percentiles(mut self, keys: Percentiles, samples: &mut Samples) -> Self {
        samples.sort();
        for (key, q) in [
            (keys.p50, 0.5),
            (keys.p99, 0.99),
            (keys.p999, 0.999),
            (keys.max, 1.0),
        ] {
            if let Some(value) = samples.percentile(q) {
                self.0.set(key, f64::from(value));
            }
        }
        self
    }

    /// The record.
    pub fn record(&self) -> &Record {
        &self.0
    }

    /// The line that carries the record on stdout.
    pub fn line(&self) -> Result<String, RecordError> {
        sails_bench_record::to_line(&self.0)
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
    fn report_rounds_to_three_decimals_and_skips_the_unknown() {
        let mut samples = Samples::default();
        samples.push(7);
        let report = Report::new(Scenario::Requests)
            .count(Key::Ok, 3)
            .num(Key::Rate, Some(1.23456))
            .num(Key::CpuUs, None)
            .percentiles(sails_bench_record::LATENCY, &mut samples);
        let record = report.record();
        assert_eq!(record.get(Key::Ok), Some(3.0));
        assert_eq!(record.get(Key::Rate), Some(1.235));
        assert_eq!(record.get(Key::CpuUs), None);
        assert_eq!(record.get(Key::LatMaxUs), Some(7.0));
        assert!(report.line().unwrap().starts_with("result {"));
    }
}
