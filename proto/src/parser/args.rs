//! Splitting control-line arguments and reading sizes, with the reference's rules.

use std::ops::Range;

/// Most arguments any op takes (`HMSG subject sid reply hdr total`).
const MAX_ARGS: usize = 5;

/// The arguments of one control line, as ranges into it.
#[derive(Debug, Clone)]
pub(crate) struct Args {
    ranges: [(usize, usize); MAX_ARGS],
    count: usize,
}

impl Args {
    /// Number of arguments found (`MAX_ARGS + 1` means "more than any op takes").
    pub(crate) fn count(&self) -> usize {
        self.count
    }

    /// The byte range of argument `i` (must be `< count`).
    pub(crate) fn range(&self, i: usize) -> Range<usize> {
        let (s, e) = self.ranges[i.min(MAX_ARGS - 1)];
        s..e
    }

    /// Argument `i` as a slice of `line`.
    pub(crate) fn get<'a>(&self, line: &'a [u8], i: usize) -> &'a [u8] {
        line.get(self.range(i)).unwrap_or_default()
    }
}

/// Splits `arg` into words separated by runs of bytes for which `is_sep` holds.
pub(crate) fn split(arg: &[u8], is_sep: fn(u8) -> bool) -> Args {
    let mut args = Args {
        ranges: [(0, 0); MAX_ARGS],
        count: 0,
    };
    let mut start: Option<usize> = None;
    let push = |args: &mut Args, s: usize, e: usize| {
        if args.count < MAX_ARGS {
            args.ranges[args.count] = (s, e);
        }
        args.count = (args.count + 1).min(MAX_ARGS + 1);
    };
    for (i, &b) in arg.iter().enumerate() {
        match (is_sep(b), start) {
            (true, Some(s)) => {
                push(&mut args, s, i);
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        push(&mut args, s, arg.len());
    }
    args
}

/// `PUB`/`HPUB`/`MSG` split on spaces and tabs only.
pub(crate) fn is_pub_sep(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// `SUB`/`UNSUB` split on spaces, tabs, CR and LF.
pub(crate) fn is_sub_sep(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// A size as the reference reads it: 1 to 9 ASCII digits (leading zeros allowed).
pub(crate) fn parse_size(d: &[u8]) -> Option<usize> {
    if d.is_empty() || d.len() > 9 {
        return None;
    }
    d.iter().try_fold(0usize, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + usize::from(b - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_counts_and_ranges() {
        let line = b"  foo \t bar\tbaz ";
        let a = split(line, is_pub_sep);
        assert_eq!(a.count(), 3);
        assert_eq!(a.get(line, 0), b"foo");
        assert_eq!(a.get(line, 1), b"bar");
        assert_eq!(a.get(line, 2), b"baz");
        assert_eq!(split(b"a b c d e f g", is_pub_sep).count(), MAX_ARGS + 1);
        assert_eq!(split(b"", is_pub_sep).count(), 0);
        assert_eq!(split(b"foo\r1", is_pub_sep).count(), 1);
        assert_eq!(split(b"foo\r1", is_sub_sep).count(), 2);
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size(b"0"), Some(0));
        assert_eq!(parse_size(b"000000002"), Some(2));
        assert_eq!(parse_size(b"999999999"), Some(999_999_999));
        assert_eq!(parse_size(b"1234567890"), None);
        assert_eq!(parse_size(b""), None);
        assert_eq!(parse_size(b"-1"), None);
        assert_eq!(parse_size(b"1x"), None);
    }
}
