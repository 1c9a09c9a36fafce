//! Arbitrary bytes, cut at fuzzer-chosen points, fed to `proto::RouteParser`: no panic, the
//! same ops and error whatever the cuts (whole, at the cuts, one byte at a time), and every
//! op encodes to bytes that parse back to the same op.
//!
//! Input layout (as the `parser` target): byte 0 = options (bit 0: connection pinned to an
//! account, bit 1: `LS-` carries the origin, bit 2: a 64-byte control line limit, bit 3: an
//! 8-byte payload limit), byte 1 = number of cuts `n` (mod 8), then `2n` bytes of cut
//! positions (little-endian `u16`, modulo the stream length), then the stream.
//!
//! ```text
//! cd fuzz && cargo +nightly fuzz run route_parser -- -max_total_time=60
//! ```
#![no_main]

use bytes::{Bytes, BytesMut};
use proto::route::encode;
use proto::{ParserLimits, RouteOp, RouteParseError, RouteParser};

/// The options byte turned into a parser.
fn parser(flags: u8) -> RouteParser {
    let limits = ParserLimits {
        max_control_line: if flags & 4 != 0 { 64 } else { 65536 },
        max_payload: if flags & 8 != 0 { 8 } else { -1 },
    };
    let mut p = RouteParser::new(limits);
    if flags & 1 != 0 {
        p.set_pinned_account(Some(Bytes::from_static(b"ACC")));
    }
    p.set_leaf_unsub_origin(flags & 2 != 0);
    p
}

/// One parsed op and the parser settings in force right after it (for the round trip).
#[derive(Debug, PartialEq)]
enum Outcome {
    Op(Box<RouteOp>, Option<Bytes>, bool),
    Err(RouteParseError),
}

fn drive(flags: u8, chunks: &[&[u8]]) -> Vec<Outcome> {
    let mut p = parser(flags);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        // Every call that returns an op consumes bytes: bounded by the bytes present.
        for _ in 0..=buf.len() + 1 {
            let before = buf.len();
            match p.next_op(&mut buf) {
                Ok(Some(op)) => {
                    assert!(buf.len() < before, "an op without consuming bytes");
                    let settings = (p.pinned_account().cloned(), p.leaf_unsub_origin());
                    out.push(Outcome::Op(Box::new(op), settings.0, settings.1));
                }
                Ok(None) => break,
                Err(e) => {
                    out.push(Outcome::Err(e));
                    return out;
                }
            }
        }
    }
    out
}

/// Encodes `op` and parses it back with the same settings.
fn round_trip(op: &RouteOp, pinned: &Option<Bytes>, leaf_origin: bool) {
    // An -ERR text holding a line feed cannot be written on one line.
    if matches!(op, RouteOp::Err(t) if t.contains('\n')) {
        return;
    }
    let mut wire = BytesMut::new();
    encode::op(&mut wire, op);
    let mut p = RouteParser::default();
    p.set_pinned_account(pinned.clone());
    p.set_leaf_unsub_origin(leaf_origin);
    let back = p.next_op(&mut wire);
    assert_eq!(
        back.as_ref().ok().and_then(|o| o.as_ref()),
        Some(op),
        "round trip"
    );
    assert!(wire.is_empty(), "round trip left bytes");
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
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
    let mut chunks = Vec::with_capacity(cuts.len() + 1);
    let mut at = 0;
    for &cut in &cuts {
        chunks.push(&stream[at..cut]);
        at = cut;
    }
    chunks.push(&stream[at..]);

    let whole = drive(flags, &[stream]);
    assert_eq!(drive(flags, &chunks), whole, "cuts changed the outcome");
    let bytes: Vec<&[u8]> = stream.chunks(1).collect();
    assert_eq!(
        drive(flags, &bytes),
        whole,
        "byte-at-a-time changed the outcome"
    );
    for o in &whole {
        if let Outcome::Op(op, pinned, leaf_origin) = o {
            round_trip(op, pinned, *leaf_origin);
        }
    }
});
