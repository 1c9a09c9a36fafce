//! Time formatting as the reference's monitoring JSON writes it.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A monotonic instant mapped to wall-clock time, given one pair of readings taken together.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// Monotonic reading.
    pub now: Instant,
    /// Wall-clock reading taken at the same moment.
    pub wall: SystemTime,
}

impl Clock {
    /// The wall-clock time of `at` (earlier or later than `self.now`).
    pub fn wall_of(&self, at: Instant) -> SystemTime {
        if at <= self.now {
            let back = self.now.saturating_duration_since(at);
            self.wall.checked_sub(back).unwrap_or(UNIX_EPOCH)
        } else {
            let ahead = at.saturating_duration_since(self.now);
            self.wall.checked_add(ahead).unwrap_or(self.wall)
        }
    }

    /// RFC 3339 text of `at`.
    pub fn rfc3339(&self, at: Instant) -> String {
        rfc3339(self.wall_of(at))
    }
}

/// Days since 1970-01-01 to a civil (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // month in 1..=12 and day in 1..=31 by construction.
    (year, month as u32, day as u32)
}

/// UTC RFC 3339 with nanoseconds, trailing zeros of the fraction trimmed (Go's
/// `time.RFC3339Nano`), e.g. `2024-01-02T03:04:05.1234Z`.
pub fn rfc3339(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = i64::try_from(since.as_secs()).unwrap_or(i64::MAX / 2);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, mo, d) = civil_from_days(days);
    let (h, mi, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    let mut out = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
    let nanos = since.subsec_nanos();
    if nanos > 0 {
        let frac = format!("{nanos:09}");
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// The reference's uptime text: whole seconds as `[<y>y][<d>d][<h>h][<m>m]<s>s`, leading
/// units only once they are non-zero.
pub fn uptime(d: Duration) -> String {
    let secs = d.as_secs();
    let (mins, hours, days) = (secs / 60, secs / 3600, secs / 86_400);
    let years = days / 365;
    if years > 0 {
        format!(
            "{years}y{}d{}h{}m{}s",
            days % 365,
            hours % 24,
            mins % 60,
            secs % 60
        )
    } else if days > 0 {
        format!("{days}d{}h{}m{}s", hours % 24, mins % 60, secs % 60)
    } else if hours > 0 {
        format!("{hours}h{}m{}s", mins % 60, secs % 60)
    } else if mins > 0 {
        format!("{mins}m{}s", secs % 60)
    } else {
        format!("{secs}s")
    }
}

/// Go's `time.Duration.String()` (e.g. `0s`, `339µs`, `3.133692ms`, `1m2.5s`).
pub fn go_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".to_string();
    }
    if nanos < 1_000 {
        return format!("{nanos}ns");
    }
    if nanos < 1_000_000 {
        return format!("{}µs", decimal(nanos, 1_000));
    }
    if nanos < 1_000_000_000 {
        return format!("{}ms", decimal(nanos, 1_000_000));
    }
    let secs = d.as_secs();
    let frac = u128::from(d.subsec_nanos());
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    let sec_text = decimal(u128::from(s) * 1_000_000_000 + frac, 1_000_000_000);
    if h > 0 {
        format!("{h}h{m}m{sec_text}s")
    } else if m > 0 {
        format!("{m}m{sec_text}s")
    } else {
        format!("{sec_text}s")
    }
}

/// A round-trip time as the reference shows it: [`go_duration`] of the time truncated to
/// whole microseconds between 1 µs and 1 ms (`"831µs"`), to nanoseconds otherwise
/// (`"5.129427ms"`); `"0s"` when not measured.
pub fn rtt(d: Duration) -> String {
    let micro = Duration::from_micros(1);
    if d > micro && d < Duration::from_millis(1) {
        go_duration(Duration::from_micros(d.as_micros() as u64))
    } else {
        go_duration(d)
    }
}

/// `value / unit` as a decimal without trailing zeros.
fn decimal(value: u128, unit: u128) -> String {
    let whole = value / unit;
    let frac = value % unit;
    if frac == 0 {
        return whole.to_string();
    }
    let width = unit.ilog10() as usize;
    let text = format!("{frac:0width$}");
    format!("{whole}.{}", text.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_matches_go() {
        let t = UNIX_EPOCH + Duration::new(1_795_806_083, 339_746_347);
        assert_eq!(rfc3339(t), "2026-11-27T19:01:23.339746347Z");
        let t = UNIX_EPOCH + Duration::new(1_795_806_107, 75_218_180);
        assert_eq!(rfc3339(t), "2026-11-27T19:01:47.07521818Z");
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn uptime_units() {
        assert_eq!(uptime(Duration::from_millis(2_900)), "2s");
        assert_eq!(uptime(Duration::from_secs(946)), "15m46s");
        assert_eq!(uptime(Duration::from_secs(3600 + 2)), "1h0m2s");
        assert_eq!(uptime(Duration::from_secs(86_400 * 2 + 61)), "2d0h1m1s");
        assert_eq!(uptime(Duration::from_secs(86_400 * 366)), "1y1d0h0m0s");
    }

    #[test]
    fn go_duration_text() {
        assert_eq!(go_duration(Duration::ZERO), "0s");
        assert_eq!(go_duration(Duration::from_nanos(339_000)), "339µs");
        assert_eq!(go_duration(Duration::from_nanos(3_133_692)), "3.133692ms");
        assert_eq!(go_duration(Duration::from_millis(62_500)), "1m2.5s");
        assert_eq!(go_duration(Duration::from_nanos(17)), "17ns");
    }

    #[test]
    fn rtt_text() {
        assert_eq!(rtt(Duration::ZERO), "0s");
        assert_eq!(rtt(Duration::from_nanos(831_457)), "831µs");
        assert_eq!(rtt(Duration::from_nanos(5_129_427)), "5.129427ms");
        assert_eq!(rtt(Duration::from_nanos(1_000)), "1µs");
        assert_eq!(rtt(Duration::from_nanos(1_500)), "1µs");
        assert_eq!(rtt(Duration::from_nanos(999)), "999ns");
        assert_eq!(rtt(Duration::from_nanos(202_851_277)), "202.851277ms");
    }

    #[test]
    fn wall_of_past_and_future() {
        let now = Instant::now();
        let wall = UNIX_EPOCH + Duration::from_secs(100);
        let c = Clock { now, wall };
        let past = now.checked_sub(Duration::from_secs(10)).unwrap_or(now);
        assert!(c.wall_of(past) <= wall);
        assert_eq!(
            c.wall_of(now + Duration::from_secs(5)),
            wall + Duration::from_secs(5)
        );
    }
}
