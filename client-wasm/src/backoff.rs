//! Reconnection timing: exponential backoff with jitter, as socket.io-client
//! schedules it (`reconnectionDelay`, `reconnectionDelayMax`,
//! `randomizationFactor`, `reconnectionAttempts`).

/// The reconnection settings of one socket, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackoffConfig {
    /// The first delay (`reconnectionDelay`, default 1000).
    pub delay: f64,
    /// The largest delay (`reconnectionDelayMax`, default 5000).
    pub delay_max: f64,
    /// How far each delay may stray, as a fraction (`randomizationFactor`, default 0.5).
    pub randomization: f64,
    /// How many attempts before giving up (`reconnectionAttempts`, default unlimited).
    pub max_attempts: f64,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        Self {
            delay: 1000.0,
            delay_max: 5000.0,
            randomization: 0.5,
            max_attempts: f64::INFINITY,
        }
    }
}

/// Counts reconnection attempts and says how long to wait before the next one.
#[derive(Debug, Clone, PartialEq)]
pub struct Backoff {
    config: BackoffConfig,
    attempts: u32,
}

impl Backoff {
    /// A backoff that has made no attempt yet.
    pub fn new(config: BackoffConfig) -> Self {
        Self {
            config,
            attempts: 0,
        }
    }

    /// How many attempts were scheduled since the last [`Backoff::reset`].
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Takes new settings, keeping the count of attempts.
    pub fn set_config(&mut self, config: BackoffConfig) {
        self.config = config;
    }

    /// Forgets past attempts (after a successful connection).
    pub fn reset(&mut self) {
        self.attempts = 0;
    }

    /// The delay before the next attempt, or `None` when the attempts are used up.
    ///
    /// `random` is a number in `[0, 1)` (the browser's `Math.random()`): it
    /// picks the direction and size of the jitter. The delay doubles with each
    /// attempt and never exceeds `delay_max`.
    pub fn next_delay(&mut self, random: f64) -> Option<u32> {
        if f64::from(self.attempts) >= self.config.max_attempts {
            return None;
        }
        let exponent = self.attempts.min(64) as i32;
        self.attempts += 1;
        let mut ms = self.config.delay.max(0.0) * 2f64.powi(exponent);
        let randomization = self.config.randomization.clamp(0.0, 1.0);
        if randomization > 0.0 {
            let deviation = (random * randomization * ms).floor();
            if ((random * 10.0).floor() as u32) & 1 == 0 {
                ms -= deviation;
            } else {
                ms += deviation;
            }
        }
        let ms = ms.min(self.config.delay_max.max(0.0)).max(0.0);
        Some(if ms >= f64::from(u32::MAX) {
            u32::MAX
        } else {
            ms as u32
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_jitter(max_attempts: f64) -> Backoff {
        Backoff::new(BackoffConfig {
            randomization: 0.0,
            max_attempts,
            ..BackoffConfig::default()
        })
    }

    #[test]
    fn doubles_up_to_the_maximum() {
        let mut backoff = no_jitter(f64::INFINITY);
        let delays: Vec<_> = (0..5).map(|_| backoff.next_delay(0.3).unwrap()).collect();
        assert_eq!(delays, [1000, 2000, 4000, 5000, 5000]);
        assert_eq!(backoff.attempts(), 5);
    }

    #[test]
    fn stops_after_the_allowed_attempts_and_resets() {
        let mut backoff = no_jitter(2.0);
        assert!(backoff.next_delay(0.0).is_some());
        assert!(backoff.next_delay(0.0).is_some());
        assert_eq!(backoff.next_delay(0.0), None);
        backoff.reset();
        assert_eq!(backoff.next_delay(0.0), Some(1000));
    }

    #[test]
    fn jitter_stays_within_the_randomization_factor() {
        for step in 0..100 {
            let random = f64::from(step) / 100.0;
            let mut backoff = Backoff::new(BackoffConfig::default());
            let delay = backoff.next_delay(random).unwrap();
            assert!((500..=1500).contains(&delay), "{random}: {delay}");
        }
        // Even tenths shorten the delay, odd ones lengthen it.
        let mut shorter = Backoff::new(BackoffConfig::default());
        assert_eq!(shorter.next_delay(0.45), Some(775));
        let mut longer = Backoff::new(BackoffConfig::default());
        assert_eq!(longer.next_delay(0.15), Some(1075));
    }

    #[test]
    fn zero_attempts_means_no_reconnection() {
        assert_eq!(no_jitter(0.0).next_delay(0.0), None);
    }
}
