//! Recognising op names (case-insensitive), byte by byte like the reference.

/// An op name the parsers know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verb {
    Connect,
    Info,
    Pub,
    HPub,
    Sub,
    Unsub,
    Msg,
    HMsg,
    Ping,
    Pong,
    Ok,
    Err,
}

/// What may follow an op name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterName {
    /// Anything up to the end of the line is ignored (`PING`, `PONG`, `+OK`).
    RestIgnored,
    /// At least one space or tab, then the argument (`PUB`, `SUB`, `-ERR`, ...).
    SeparatorRequired,
    /// Optional spaces or tabs, then the argument (`CONNECT`, `INFO`).
    SeparatorOptional,
}

impl Verb {
    /// Upper-case spelling of the name.
    pub(crate) fn name(self) -> &'static [u8] {
        match self {
            Verb::Connect => b"CONNECT",
            Verb::Info => b"INFO",
            Verb::Pub => b"PUB",
            Verb::HPub => b"HPUB",
            Verb::Sub => b"SUB",
            Verb::Unsub => b"UNSUB",
            Verb::Msg => b"MSG",
            Verb::HMsg => b"HMSG",
            Verb::Ping => b"PING",
            Verb::Pong => b"PONG",
            Verb::Ok => b"+OK",
            Verb::Err => b"-ERR",
        }
    }

    /// What the grammar allows after the name.
    pub(crate) fn after_name(self) -> AfterName {
        match self {
            Verb::Ping | Verb::Pong | Verb::Ok => AfterName::RestIgnored,
            Verb::Connect | Verb::Info => AfterName::SeparatorOptional,
            Verb::Pub
            | Verb::HPub
            | Verb::Sub
            | Verb::Unsub
            | Verb::Msg
            | Verb::HMsg
            | Verb::Err => AfterName::SeparatorRequired,
        }
    }
}

/// Which side's op set to recognise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// What a client may send: no `MSG` (the reference rejects `M` as a first byte).
    FromClient,
    /// What a server sends.
    FromServer,
}

/// Outcome of matching the start of a buffer against the op names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VerbMatch {
    /// The buffer ends inside a name that could still match.
    Incomplete,
    /// No name matches the bytes seen so far.
    Unknown,
    /// This name matched, spelled in its full length.
    Matched(Verb),
}

fn candidate(side: Side, first: u8, second: Option<u8>) -> Result<Option<Verb>, ()> {
    let lower = |b: u8| b.to_ascii_lowercase();
    let needs_second = |f: fn(u8) -> Option<Verb>| match second {
        None => Ok(None),
        Some(b) => f(lower(b)).map(Some).ok_or(()),
    };
    match lower(first) {
        b'p' => needs_second(|b| match b {
            b'u' => Some(Verb::Pub),
            b'i' => Some(Verb::Ping),
            b'o' => Some(Verb::Pong),
            _ => None,
        }),
        b'h' => needs_second(|b| match b {
            b'p' => Some(Verb::HPub),
            b'm' => Some(Verb::HMsg),
            _ => None,
        }),
        b'c' => Ok(Some(Verb::Connect)),
        b'i' => Ok(Some(Verb::Info)),
        b's' => Ok(Some(Verb::Sub)),
        b'u' => Ok(Some(Verb::Unsub)),
        b'm' if side == Side::FromServer => Ok(Some(Verb::Msg)),
        b'+' => Ok(Some(Verb::Ok)),
        b'-' => Ok(Some(Verb::Err)),
        _ => Err(()),
    }
}

/// Matches an op name at the start of `buf` (which must not be empty), case-insensitively.
/// A mismatch is reported as soon as the first wrong byte is present, as the reference does.
pub(crate) fn match_verb(side: Side, buf: &[u8]) -> VerbMatch {
    let Some(&first) = buf.first() else {
        return VerbMatch::Incomplete;
    };
    let verb = match candidate(side, first, buf.get(1).copied()) {
        Err(()) => return VerbMatch::Unknown,
        Ok(None) => return VerbMatch::Incomplete,
        Ok(Some(v)) => v,
    };
    let name = verb.name();
    for (i, &want) in name.iter().enumerate() {
        match buf.get(i) {
            None => return VerbMatch::Incomplete,
            Some(b) if b.to_ascii_uppercase() == want => {}
            Some(_) => return VerbMatch::Unknown,
        }
    }
    VerbMatch::Matched(verb)
}

/// Whether `b` separates arguments on a control line of `PUB`/`HPUB` (space or tab).
pub(crate) fn is_space(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_in_any_case() {
        for (text, verb) in [
            (&b"PUB"[..], Verb::Pub),
            (b"pub", Verb::Pub),
            (b"HpUb", Verb::HPub),
            (b"ping", Verb::Ping),
            (b"PONG", Verb::Pong),
            (b"+ok", Verb::Ok),
            (b"-eRr", Verb::Err),
            (b"connect", Verb::Connect),
            (b"Info", Verb::Info),
            (b"unsub", Verb::Unsub),
            (b"SUB", Verb::Sub),
            (b"hmsg", Verb::HMsg),
        ] {
            assert_eq!(match_verb(Side::FromClient, text), VerbMatch::Matched(verb));
        }
    }

    #[test]
    fn prefixes_are_incomplete_and_wrong_bytes_unknown() {
        assert_eq!(match_verb(Side::FromClient, b"P"), VerbMatch::Incomplete);
        assert_eq!(
            match_verb(Side::FromClient, b"CONNE"),
            VerbMatch::Incomplete
        );
        assert_eq!(match_verb(Side::FromClient, b"PX"), VerbMatch::Unknown);
        assert_eq!(match_verb(Side::FromClient, b"CONX"), VerbMatch::Unknown);
        assert_eq!(match_verb(Side::FromClient, b"+O\r"), VerbMatch::Unknown);
        assert_eq!(match_verb(Side::FromClient, b"\r\n"), VerbMatch::Unknown);
        assert_eq!(match_verb(Side::FromClient, b"MSG"), VerbMatch::Unknown);
        assert_eq!(
            match_verb(Side::FromServer, b"msg"),
            VerbMatch::Matched(Verb::Msg)
        );
    }
}
