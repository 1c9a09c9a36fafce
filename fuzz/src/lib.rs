//! Properties the fuzz targets check (in `fuzz_targets/`), kept here so that they also run
//! as ordinary tests on stable Rust over the seed transcripts in `seeds/`.
//!
//! Input layout: byte 0 holds parser options, byte 1 the number of cuts `n` (mod 8), the
//! next `2n` bytes the cut positions (little-endian `u16`, taken modulo the stream length),
//! and the rest is the byte stream. The stream is parsed three ways, whole, cut at those
//! points, and one byte at a time, and the outcomes must be equal. The checks panic on a
//! violation: that is how a fuzzer learns about it.
//!
//! Running (nightly and `cargo install cargo-fuzz` needed):
//!
//! ```text
//! cd fuzz && cargo +nightly fuzz run parser -- -max_total_time=30
//! cd fuzz && cargo +nightly fuzz run server_parser -- -max_total_time=30
//! ```
//!
//! Run them from this folder: `fuzz/.cargo/config.toml` turns off the workspace's fat LTO,
//! with which the instrumented targets fail to link. From the workspace root, set
//! `CARGO_PROFILE_RELEASE_LTO=false` instead. `seeds/` holds starting transcripts; pass it
//! after the (git-ignored) corpus folder, which receives the new inputs:
//! `cargo +nightly fuzz run parser corpus/parser seeds`.

use bytes::BytesMut;
use proto::{ClientOp, ClientParser, ParseError, ParserLimits, ServerOp, ServerParser};

/// What a parser produced for a whole stream: every op and every error, up to and
/// including the first error after which the reference closes the connection.
#[derive(Debug, PartialEq)]
pub enum Outcome<Op> {
    /// An op.
    Op(Op),
    /// An error.
    Err(ParseError),
}

/// A fuzz input taken apart.
#[derive(Debug)]
pub struct Input<'a> {
    /// Parser options byte.
    pub flags: u8,
    /// Sorted cut positions within `stream`.
    pub cuts: Vec<usize>,
    /// The bytes to parse.
    pub stream: &'a [u8],
}

impl<'a> Input<'a> {
    /// Splits raw fuzzer data into options, cuts and stream.
    pub fn new(data: &'a [u8]) -> Self {
        let flags = data.first().copied().unwrap_or(0);
        let n = usize::from(data.get(1).copied().unwrap_or(0) % 8);
        let header = (2 + 2 * n).min(data.len());
        let stream = &data[header..];
        let mut cuts: Vec<usize> = data[2.min(data.len())..header]
            .chunks(2)
            .map(|c| {
                let v = usize::from(c[0]) | usize::from(c.get(1).copied().unwrap_or(0)) << 8;
                v % (stream.len() + 1)
            })
            .collect();
        cuts.sort_unstable();
        Input {
            flags,
            cuts,
            stream,
        }
    }

    /// The stream as chunks between the cuts.
    pub fn chunks(&self) -> Vec<&'a [u8]> {
        let mut out = Vec::with_capacity(self.cuts.len() + 1);
        let mut at = 0;
        for &cut in &self.cuts {
            out.push(&self.stream[at..cut]);
            at = cut;
        }
        out.push(&self.stream[at..]);
        out
    }
}

/// Feeds `chunks` to `next` (a parser's `next_op`) and records the outcome.
fn drive<Op>(
    chunks: &[&[u8]],
    mut next: impl FnMut(&mut BytesMut) -> Result<Option<Op>, ParseError>,
) -> Vec<Outcome<Op>> {
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        // Every call either consumes bytes or returns; bounded by the bytes present.
        for _ in 0..=buf.len() + 1 {
            let before = buf.len();
            match next(&mut buf) {
                Ok(Some(op)) => out.push(Outcome::Op(op)),
                Ok(None) => break,
                Err(e) => {
                    let closes = e.closes();
                    out.push(Outcome::Err(e));
                    if closes {
                        return out;
                    }
                }
            }
            assert!(buf.len() < before || before == 0, "no progress");
        }
    }
    out
}

/// A client parser configured from the options byte.
fn client_parser(flags: u8) -> ClientParser {
    let limits = ParserLimits {
        max_control_line: if flags & 1 != 0 { 16 } else { 4096 },
        max_payload: match (flags >> 1) & 3 {
            0 => 1024 * 1024,
            1 => 8,
            2 => 0,
            _ => -1,
        },
    };
    let mut p = ClientParser::new(limits);
    p.set_auth_required(flags & 8 != 0);
    p.set_server_headers(flags & 16 == 0);
    p
}

/// Checks `ClientParser` on one fuzz input (see the crate docs).
pub fn check_client_parser(data: &[u8]) {
    let input = Input::new(data);
    let run = |chunks: &[&[u8]]| -> Vec<Outcome<ClientOp>> {
        let mut p = client_parser(input.flags);
        drive(chunks, |b| p.next_op(b))
    };
    let whole = run(&[input.stream]);
    assert_eq!(run(&input.chunks()), whole, "cut stream differs");
    let bytes: Vec<&[u8]> = input.stream.chunks(1).collect();
    assert_eq!(run(&bytes), whole, "byte-at-a-time stream differs");
}

/// Checks `ServerParser` on one fuzz input (see the crate docs).
pub fn check_server_parser(data: &[u8]) {
    let input = Input::new(data);
    let run = |chunks: &[&[u8]]| -> Vec<Outcome<ServerOp>> {
        let mut p = ServerParser::new();
        drive(chunks, |b| p.next_op(b))
    };
    let whole = run(&[input.stream]);
    assert_eq!(run(&input.chunks()), whole, "cut stream differs");
    let bytes: Vec<&[u8]> = input.stream.chunks(1).collect();
    assert_eq!(run(&bytes), whole, "byte-at-a-time stream differs");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seeds(prefix: &str) -> Vec<Vec<u8>> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
        let mut out: Vec<Vec<u8>> = std::fs::read_dir(&dir)
            .expect("seeds dir")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
            .map(|e| std::fs::read(e.path()).expect("seed file"))
            .collect();
        out.sort();
        assert!(!out.is_empty(), "no {prefix} seeds");
        out
    }

    /// Deterministic variations of a seed: flags and cut points from a simple LCG.
    fn variations(seed: &[u8], count: u32) -> Vec<Vec<u8>> {
        let mut state: u32 = 0x1234_5678;
        let mut next = move || {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            state >> 8
        };
        (0..count)
            .map(|_| {
                let mut v = vec![next() as u8, 7];
                for _ in 0..7 {
                    v.extend_from_slice(&(next() as u16).to_le_bytes());
                }
                v.extend_from_slice(&seed[seed.len().min(2 + 2 * usize::from(seed[1] % 8))..]);
                v
            })
            .collect()
    }

    #[test]
    fn client_seeds_hold_the_property() {
        for seed in seeds("client") {
            check_client_parser(&seed);
            for v in variations(&seed, 64) {
                check_client_parser(&v);
            }
        }
    }

    #[test]
    fn server_seeds_hold_the_property() {
        for seed in seeds("server") {
            check_server_parser(&seed);
            for v in variations(&seed, 64) {
                check_server_parser(&v);
            }
        }
    }

    #[test]
    fn input_layout() {
        let i = Input::new(&[0, 2, 3, 0, 1, 0, b'a', b'b', b'c', b'd']);
        assert_eq!(i.stream, b"abcd");
        assert_eq!(i.cuts, vec![1, 3]);
        assert_eq!(i.chunks(), vec![&b"a"[..], b"bc", b"d"]);
        assert_eq!(Input::new(&[]).stream, b"");
    }
}
