//! Reconnection timing: exponential backoff with jitter, as socket.io-client
//! schedules it (`reconnectionDelay`, `reconnectionDelayMax`,
//! `randomizationFactor`, `reconnectionAttempts`).

/// The reconnection settings of one socket, in milliseconds: how long to
/// wait before each attempt. The attempts of an outage are counted by the
/// socket's lifecycle (`lifecycle::Outage`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// The first delay (`reconnectionDelay`, default 1000).
    pub delay: f64,
    /// The largest delay (`reconnectionDelayMax`, default 5000).
    pub delay_max: f64,
    /// How far each delay may stray, as a fraction (`randomizationFactor`, default 0.5).
    pub randomization: f64,
    /// How many attempts before giving up (`reconnectionAttempts`, default unlimited).
    pub max_attempts: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            delay: 1000.0,
            delay_max: 5000.0,
            randomization: 0.5,
            max_attempts: f64::INFINITY,
        }
    }
}

impl Backoff {
    /// The delay before the next attempt when `attempts` were made already,
    /// or `None` when the attempts are used up.
    ///
    /// `random` is a number in `[0, 1)` (the browser's `Math.random()`): it
    /// picks the direction and size of the jitter. The delay doubles with each
    /// attempt and never exceeds `delay_max`.
    pub fn delay(&self, attempts: u32, random: f64) -> Option<u32> {
        if f64::from(attempts) >= self.max_attempts {
            return None;
        }
        let exponent = attempts.min(64) as i32;
        let mut ms = self.delay.max(0.0) * 2f64.powi(exponent);
        let randomization = self.randomization.clamp(0.0, 1.0);
        if randomization > 0.0 {
            let deviation = (random * randomization * ms).floor();
            if ((random * 10.0).floor() as u32) & 1 == 0 {
                ms -= deviation;
            } else {
                ms += deviation;
            }
        }
        let ms = ms.min(self.delay_max.max(0.0)).max(0.0);
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
        Backoff {
            randomization: 0.0,
            max_attempts,
            ..Backoff::default()
        }
    }

    #[test]
    fn doubles_up_to_the_maximum() {
        let backoff = no_jitter(f64::INFINITY);
        let delays: Vec<_> = (0..5).map(|n| backoff.delay(n, 0.3).unwrap()).collect();
        assert_eq!(delays, [1000, 2000, 4000, 5000, 5000]);
        assert_eq!(backoff.delay(u32::MAX, 0.3), Some(5000));
    }

    #[test]
    fn stops_after_the_allowed_attempts() {
        let backoff = no_jitter(2.0);
        assert_eq!(backoff.delay(0, 0.0), Some(1000));
        assert_eq!(backoff.delay(1, 0.0), Some(2000));
        assert_eq!(backoff.delay(2, 0.0), None);
    }

    #[test]
    fn jitter_stays_within_the_randomization_factor() {
        let backoff = Backoff::default();
        for step in 0..100 {
            let random = f64::from(step) / 100.0;
            let delay = backoff.delay(0, random).unwrap();
            assert!((500..=1500).contains(&delay), "{random}: {delay}");
        }
        // Even tenths shorten the delay, odd ones lengthen it.
        assert_eq!(backoff.delay(0, 0.45), Some(775));
        assert_eq!(backoff.delay(0, 0.15), Some(1075));
    }

    #[test]
    fn zero_attempts_means_no_reconnection() {
        assert_eq!(no_jitter(0.0).delay(0, 0.0), None);
    }
}
