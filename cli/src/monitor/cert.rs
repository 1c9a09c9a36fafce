//! The expiry of the server's TLS certificate (`tls_cert_not_after` in `/varz`), read from
//! the certificate's DER: `Certificate.tbsCertificate.validity.notAfter`.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

/// DER tags read on the way to the validity.
const SEQUENCE: u8 = 0x30;
const VERSION: u8 = 0xa0;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;

/// Splits one DER element off `input`: its tag, its content and what follows it.
fn element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// Days from 1970-01-01 to a civil date (proleptic Gregorian).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYMMDDHHMMSSZ` (UTCTime) or `YYYYMMDDHHMMSSZ` (GeneralizedTime) as a time.
fn asn1_time(tag: u8, text: &[u8]) -> Option<SystemTime> {
    let text = std::str::from_utf8(text).ok()?.strip_suffix('Z')?;
    let num = |s: &str| s.parse::<i64>().ok();
    let (year, rest) = match tag {
        UTC_TIME => {
            let yy = num(text.get(..2)?)?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, text.get(2..)?)
        }
        GENERALIZED_TIME => (num(text.get(..4)?)?, text.get(4..)?),
        _ => return None,
    };
    let field = |i: usize| num(rest.get(i..i + 2)?);
    let (month, day) = (field(0)?, field(2)?);
    let (hour, min, sec) = (field(4)?, field(6)?, field(8)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 {
        return None;
    }
    let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec;
    Some(UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).ok()?))
}

/// The `notAfter` of a DER certificate.
pub fn not_after(der: &[u8]) -> Option<SystemTime> {
    let (tag, cert, _) = element(der)?;
    let (tbs_tag, tbs, _) = element(cert)?;
    if tag != SEQUENCE || tbs_tag != SEQUENCE {
        return None;
    }
    let mut rest = tbs;
    let (tag, _, after) = element(rest)?;
    if tag == VERSION {
        rest = after;
    }
    // serialNumber, signature, issuer, then validity.
    for _ in 0..3 {
        rest = element(rest)?.2;
    }
    let (tag, validity, _) = element(rest)?;
    if tag != SEQUENCE {
        return None;
    }
    let (_, _, after_not_before) = element(validity)?;
    let (tag, text, _) = element(after_not_before)?;
    asn1_time(tag, text)
}

/// The `notAfter` of the first certificate of a PEM file (the server's own).
pub fn not_after_of_pem_file(path: &Path) -> Option<SystemTime> {
    let pem = std::fs::read(path).ok()?;
    let first = CertificateDer::pem_slice_iter(&pem).next()?.ok()?;
    not_after(first.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asn1_times() {
        let t = asn1_time(UTC_TIME, b"261129211752Z").unwrap();
        assert_eq!(engine::monitor::time::rfc3339(t), "2026-11-29T21:17:52Z");
        let t = asn1_time(GENERALIZED_TIME, b"40960101000000Z").unwrap();
        assert_eq!(engine::monitor::time::rfc3339(t), "4096-01-01T00:00:00Z");
        let t = asn1_time(UTC_TIME, b"991231235959Z").unwrap();
        assert_eq!(engine::monitor::time::rfc3339(t), "1999-12-31T23:59:59Z");
        assert!(asn1_time(UTC_TIME, b"261329211752Z").is_none());
        assert!(asn1_time(UTC_TIME, b"2611").is_none());
    }

    #[test]
    fn elements_with_long_lengths() {
        let mut der = vec![SEQUENCE, 0x82, 0x01, 0x00];
        der.extend(std::iter::repeat_n(7u8, 256));
        der.push(1);
        let (tag, content, rest) = element(&der).unwrap();
        assert_eq!((tag, content.len(), rest), (SEQUENCE, 256, &[1u8][..]));
        assert!(element(&[SEQUENCE, 0x82, 0x01]).is_none());
        assert!(element(&[SEQUENCE, 5, 1]).is_none());
    }

    #[test]
    fn garbage_is_not_a_certificate() {
        assert!(not_after(b"").is_none());
        assert!(not_after(&[SEQUENCE, 2, SEQUENCE, 0]).is_none());
    }
}
