//! When to change a socket's read timeout so a blocking read returns close to the client's
//! next deadline without a `setsockopt` before every read.

use std::time::Duration;

/// The read timeout currently set on the socket (`None`: reads block until data arrives).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ReadTimer {
    armed: Option<Duration>,
}

impl ReadTimer {
    /// The timeout to set before the next read, if the one set is not good enough for a
    /// deadline `remaining` away: too long (the read would overshoot the deadline by more than
    /// a small slack) or far too short (the thread would wake many times for nothing).
    /// `remaining` must not be zero when `Some`.
    pub(crate) fn rearm(&self, remaining: Option<Duration>) -> Option<Option<Duration>> {
        let change = match (self.armed, remaining) {
            (None, None) => false,
            (Some(_), None) | (None, Some(_)) => true,
            (Some(armed), Some(rem)) => {
                let slack = rem / 64 + Duration::from_millis(1);
                armed > rem + slack || armed * 2 < rem
            }
        };
        change.then_some(remaining)
    }

    /// Records that the socket's read timeout is now `timeout`.
    pub(crate) fn armed(&mut self, timeout: Option<Duration>) {
        self.armed = timeout;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn first_deadline_arms() {
        let t = ReadTimer::default();
        assert_eq!(t.rearm(Some(2 * S)), Some(Some(2 * S)));
        assert_eq!(t.rearm(None), None);
    }

    #[test]
    fn deadline_gone_disarms() {
        let mut t = ReadTimer::default();
        t.armed(Some(S));
        assert_eq!(t.rearm(None), Some(None));
    }

    #[test]
    fn keeps_timeout_while_overshoot_is_small() {
        let mut t = ReadTimer::default();
        t.armed(Some(120 * S));
        assert_eq!(t.rearm(Some(120 * S)), None);
        assert_eq!(t.rearm(Some(119 * S)), None);
    }

    #[test]
    fn shortens_when_deadline_comes_closer() {
        let mut t = ReadTimer::default();
        t.armed(Some(120 * S));
        assert_eq!(t.rearm(Some(100 * S)), Some(Some(100 * S)));
        t.armed(Some(2 * S));
        assert_eq!(
            t.rearm(Some(Duration::from_millis(10))),
            Some(Some(Duration::from_millis(10)))
        );
    }

    #[test]
    fn lengthens_when_far_too_short() {
        let mut t = ReadTimer::default();
        t.armed(Some(Duration::from_millis(10)));
        assert_eq!(t.rearm(Some(120 * S)), Some(Some(120 * S)));
    }
}
