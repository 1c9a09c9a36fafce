//! Incremental parser of what a route peer sends.

use std::ops::Range;

use bytes::{Buf, Bytes, BytesMut};
use memchr::memchr;
use nom::bytes::complete::{take_till1, take_while};
use nom::sequence::preceded;
use nom::{IResult, Parser};

use super::{QueueNames, RouteConnect, RouteInfo, RouteOp, RouteParseError};
use crate::ParserLimits;

/// Route op names, matched case-insensitively like the reference does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    Info,
    Connect,
    Ping,
    Pong,
    Ok,
    Err,
    RSub,
    RUnsub,
    LSub,
    LUnsub,
    RMsg,
    HMsg,
    LMsg,
    /// `PUB`/`HPUB`/`SUB`/`UNSUB`/`A+`/`A-` are accepted and ignored on routes.
    Pub,
    HPub,
    Sub,
    Unsub,
    ASub,
    AUnsub,
}

const VERBS: [Verb; 19] = [
    Verb::Info,
    Verb::Connect,
    Verb::Ping,
    Verb::Pong,
    Verb::Ok,
    Verb::Err,
    Verb::RSub,
    Verb::RUnsub,
    Verb::LSub,
    Verb::LUnsub,
    Verb::RMsg,
    Verb::HMsg,
    Verb::LMsg,
    Verb::Pub,
    Verb::HPub,
    Verb::Sub,
    Verb::Unsub,
    Verb::ASub,
    Verb::AUnsub,
];

/// What may follow an op name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum After {
    /// Anything up to the end of the line is ignored (`PING`, `PONG`, `+OK`).
    RestIgnored,
    /// At least one space or tab, then the argument.
    SeparatorRequired,
    /// Optional spaces or tabs, then the argument (`CONNECT`, `INFO`).
    SeparatorOptional,
}

impl Verb {
    fn name(self) -> &'static [u8] {
        match self {
            Verb::Info => b"INFO",
            Verb::Connect => b"CONNECT",
            Verb::Ping => b"PING",
            Verb::Pong => b"PONG",
            Verb::Ok => b"+OK",
            Verb::Err => b"-ERR",
            Verb::RSub => b"RS+",
            Verb::RUnsub => b"RS-",
            Verb::LSub => b"LS+",
            Verb::LUnsub => b"LS-",
            Verb::RMsg => b"RMSG",
            Verb::HMsg => b"HMSG",
            Verb::LMsg => b"LMSG",
            Verb::Pub => b"PUB",
            Verb::HPub => b"HPUB",
            Verb::Sub => b"SUB",
            Verb::Unsub => b"UNSUB",
            Verb::ASub => b"A+",
            Verb::AUnsub => b"A-",
        }
    }

    fn after(self) -> After {
        match self {
            Verb::Ping | Verb::Pong | Verb::Ok => After::RestIgnored,
            Verb::Info | Verb::Connect => After::SeparatorOptional,
            _ => After::SeparatorRequired,
        }
    }
}

enum VerbMatch {
    Incomplete,
    Unknown,
    Matched(Verb),
}

/// Matches an op name at the start of `buf`; a mismatch is reported on the first wrong
/// byte (no name is a prefix of another).
fn match_verb(buf: &[u8]) -> VerbMatch {
    let mut incomplete = false;
    for verb in VERBS {
        let name = verb.name();
        let n = name.len().min(buf.len());
        let agrees = buf[..n]
            .iter()
            .zip(name)
            .all(|(b, want)| b.to_ascii_uppercase() == *want);
        if agrees {
            if n == name.len() {
                return VerbMatch::Matched(verb);
            }
            incomplete = true;
        }
    }
    if incomplete {
        VerbMatch::Incomplete
    } else {
        VerbMatch::Unknown
    }
}

fn is_space(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Route arguments are split on spaces, tabs, CR and LF (as the reference does).
fn is_sep(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// One word (run of non-separators) after optional separators.
fn word(input: &[u8]) -> IResult<&[u8], &[u8]> {
    preceded(take_while(is_sep), take_till1(is_sep)).parse(input)
}

/// The byte ranges of the words of `line`. Each step consumes at least one byte.
pub(crate) fn word_ranges(line: &[u8]) -> impl Iterator<Item = Range<usize>> + '_ {
    let mut rest = line;
    std::iter::from_fn(move || match word(rest) {
        Ok((after, w)) => {
            let end = line.len() - after.len();
            rest = after;
            Some(end - w.len()..end)
        }
        Err(_) => None,
    })
}

/// A size as the reference reads it: 1 to 9 ASCII digits (leading zeros allowed).
fn parse_size(d: &[u8]) -> Option<usize> {
    if d.is_empty() || d.len() > 9 {
        return None;
    }
    d.iter().try_fold(0usize, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + usize::from(b - b'0'))
    })
}

const FIRST: usize = 8;
const LAST: usize = 3;

/// The words of a control line: the first 8 and the last 3 ranges (queue lists in the
/// middle of a message line can be arbitrarily long; they are taken as one span).
struct Words {
    first: [(usize, usize); FIRST],
    last: [(usize, usize); LAST],
    count: usize,
}

impl Words {
    fn new(line: &[u8]) -> Self {
        let mut w = Words {
            first: [(0, 0); FIRST],
            last: [(0, 0); LAST],
            count: 0,
        };
        for r in word_ranges(line) {
            if w.count < FIRST {
                w.first[w.count] = (r.start, r.end);
            }
            w.last[w.count % LAST] = (r.start, r.end);
            w.count += 1;
        }
        w
    }

    /// Word `i`, when it is among the first 8 or last 3.
    fn get(&self, i: usize) -> Option<Range<usize>> {
        let (s, e) = if i >= self.count {
            return None;
        } else if i < FIRST {
            self.first[i]
        } else if i + LAST >= self.count {
            self.last[i % LAST]
        } else {
            return None;
        };
        Some(s..e)
    }

    /// Word `i`, which the caller knows exists and is stored.
    fn at(&self, i: usize) -> Range<usize> {
        self.get(i).unwrap_or(0..0)
    }

    /// The span from the start of word `from` to the end of word `to` (inclusive);
    /// empty when `from > to`.
    fn span(&self, from: usize, to: usize) -> Range<usize> {
        if from > to {
            return 0..0;
        }
        match (self.get(from), self.get(to)) {
            (Some(a), Some(b)) => a.start..b.end,
            _ => 0..0,
        }
    }
}

/// Which message op a head belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MsgKind {
    R,
    H,
    L,
}

/// Ranges (into the argument) of a parsed message head.
#[derive(Debug, Clone)]
struct MsgRanges {
    kind: MsgKind,
    origin: Option<Range<usize>>,
    account: Option<Range<usize>>,
    subject: Range<usize>,
    reply: Option<Range<usize>>,
    queues: Range<usize>,
    hdr: usize,
    size: usize,
}

/// A message head with its fields as `Bytes`, waiting for the payload.
#[derive(Debug)]
struct MsgHead {
    kind: MsgKind,
    origin: Bytes,
    account: Option<Bytes>,
    subject: Bytes,
    reply: Option<Bytes>,
    queues: QueueNames,
    hdr: usize,
}

impl MsgHead {
    fn new(line: &Bytes, r: &MsgRanges) -> Self {
        MsgHead {
            kind: r.kind,
            origin: r.origin.clone().map(|o| line.slice(o)).unwrap_or_default(),
            account: r.account.clone().map(|a| line.slice(a)),
            subject: line.slice(r.subject.clone()),
            reply: r.reply.clone().map(|x| line.slice(x)),
            queues: QueueNames::from_wire(line.slice(r.queues.clone())),
            hdr: r.hdr,
        }
    }

    fn finish(self, data: Bytes) -> RouteOp {
        let MsgHead {
            kind,
            origin,
            account,
            subject,
            reply,
            queues,
            hdr,
        } = self;
        match kind {
            MsgKind::R => RouteOp::Msg {
                account,
                subject,
                reply,
                queues,
                payload: data,
            },
            MsgKind::H => RouteOp::HMsg {
                account,
                subject,
                reply,
                queues,
                headers: data.slice(..hdr),
                payload: data.slice(hdr..),
            },
            MsgKind::L => RouteOp::LMsg {
                origin,
                account,
                subject,
                reply,
                queues,
                headers: data.slice(..hdr),
                payload: data.slice(hdr..),
            },
        }
    }
}

/// Progress of the search for the `\n` ending an argument that starts at offset 0. As in
/// the reference, the first byte always belongs to the argument, and if a CR occurs after
/// it, the byte before the LF is dropped (normally that CR).
#[derive(Debug, Clone, Copy, Default)]
struct LineScan {
    scanned: usize,
    cr_seen: bool,
}

impl LineScan {
    fn find_end(&mut self, buf: &[u8]) -> Option<usize> {
        let from = self.scanned.max(1);
        let rest = buf.get(from..)?;
        match memchr(b'\n', rest) {
            Some(off) => {
                let lf = from + off;
                self.cr_seen = self.cr_seen || memchr(b'\r', &buf[from..lf]).is_some();
                self.scanned = lf;
                Some(lf)
            }
            None => {
                self.cr_seen = self.cr_seen || memchr(b'\r', rest).is_some();
                self.scanned = buf.len();
                None
            }
        }
    }

    fn arg_len(&self, end: usize) -> usize {
        if self.cr_seen {
            end.saturating_sub(1)
        } else {
            end
        }
    }
}

#[derive(Debug)]
enum State {
    Start,
    RestOfLine(Verb),
    Separators(Verb),
    Argument(Verb, LineScan),
    /// Waiting for `size` payload bytes and `\r\n`; `None` head: an ignored `PUB`/`HPUB`.
    Payload(usize, Option<MsgHead>),
}

enum Step {
    NeedMore,
    Next(State),
    Wait(State),
    Done(Option<RouteOp>),
    Fail(RouteParseError, usize),
}

/// Incremental, zero-copy parser of the route protocol (what a route peer sends).
///
/// Same style as [`crate::ClientParser`]: op names in any case, runs of spaces/tabs
/// between the op name and its argument, `\r\n` or `\n` line ends, payloads as `Bytes`
/// slices of the caller's buffer. Route arguments are split on spaces, tabs, CR and LF.
///
/// Two per-connection facts change how lines read, exactly as in the reference:
/// * the *pinned account*: on a connection dedicated to one account the account is left
///   out of every sub/unsub/message line. It is taken from the `route_account` of the first
///   INFO parsed (the accepting side learns it that way), or set with
///   [`RouteParser::set_pinned_account`] (the soliciting side knows it).
/// * whether `LS-` carries the origin cluster: the `lnocu` flag of the first INFO parsed
///   (default `false` until then), or [`RouteParser::set_leaf_unsub_origin`].
///
/// `PUB`, `HPUB` (payload skipped), `SUB`, `UNSUB`, `A+` and `A-` are consumed without an
/// op, as the reference ignores them on routes.
#[derive(Debug)]
pub struct RouteParser {
    limits: ParserLimits,
    state: State,
    pinned: Option<Bytes>,
    leaf_unsub_origin: bool,
    info_seen: bool,
}

impl Default for RouteParser {
    fn default() -> Self {
        RouteParser::new(RouteParser::default_limits())
    }
}

impl RouteParser {
    /// The reference's limits on routes: arguments up to 65536 bytes (16 × the default
    /// `max_control_line`), no payload limit (`max_payload` -1).
    pub fn default_limits() -> ParserLimits {
        ParserLimits {
            max_control_line: 16 * 4096,
            max_payload: -1,
        }
    }

    /// A parser with the given limits.
    pub fn new(limits: ParserLimits) -> Self {
        RouteParser {
            limits,
            state: State::Start,
            pinned: None,
            leaf_unsub_origin: false,
            info_seen: false,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> ParserLimits {
        self.limits
    }

    /// Changes the limits.
    pub fn set_limits(&mut self, limits: ParserLimits) {
        self.limits = limits;
    }

    /// Declares the connection dedicated to `account` (or not, with `None`): lines then
    /// carry no account. A later INFO does not override an explicit setting.
    pub fn set_pinned_account(&mut self, account: Option<Bytes>) {
        self.pinned = account;
    }

    /// The account the connection is dedicated to, if any.
    pub fn pinned_account(&self) -> Option<&Bytes> {
        self.pinned.as_ref()
    }

    /// Whether `LS-` lines start with the origin cluster.
    pub fn set_leaf_unsub_origin(&mut self, with_origin: bool) {
        self.leaf_unsub_origin = with_origin;
    }

    /// Whether `LS-` lines are read with an origin cluster.
    pub fn leaf_unsub_origin(&self) -> bool {
        self.leaf_unsub_origin
    }

    /// Parses the next op from the front of `buf`, splitting its bytes off. `Ok(None)`:
    /// no whole op yet; call again with more bytes appended. After an error the offending
    /// bytes seen so far are dropped; the reference closes the route on every error.
    pub fn next_op(&mut self, buf: &mut BytesMut) -> Result<Option<RouteOp>, RouteParseError> {
        // Every step either returns or consumes bytes / advances within one op (at most
        // four steps per op, and each op takes at least two bytes).
        let max_steps = 4 * (buf.len() + 2);
        for _ in 0..max_steps {
            let state = std::mem::replace(&mut self.state, State::Start);
            let step = match state {
                State::Start => self.start(buf),
                State::RestOfLine(verb) => rest_of_line(buf, verb),
                State::Separators(verb) => self.separators(buf, verb),
                State::Argument(verb, scan) => self.scan_argument(buf, verb, scan),
                State::Payload(size, head) => payload(buf, size, head),
            };
            match step {
                Step::NeedMore => return Ok(None),
                Step::Next(state) => self.state = state,
                Step::Wait(state) => {
                    self.state = state;
                    return Ok(None);
                }
                Step::Done(Some(op)) => return Ok(Some(op)),
                Step::Done(None) => {}
                Step::Fail(err, consumed) => {
                    buf.advance(consumed.min(buf.len()));
                    return Err(err);
                }
            }
        }
        Ok(None)
    }

    fn start(&mut self, buf: &mut BytesMut) -> Step {
        if buf.is_empty() {
            return Step::NeedMore;
        }
        let verb = match match_verb(buf) {
            VerbMatch::Incomplete => return Step::NeedMore,
            VerbMatch::Unknown => return Step::Fail(RouteParseError::UnknownOp, line_or_all(buf)),
            VerbMatch::Matched(verb) => verb,
        };
        let len = verb.name().len();
        match verb.after() {
            After::RestIgnored => {
                buf.advance(len);
                Step::Next(State::RestOfLine(verb))
            }
            After::SeparatorOptional => {
                buf.advance(len);
                Step::Next(State::Separators(verb))
            }
            After::SeparatorRequired => match buf.get(len) {
                None => Step::NeedMore,
                Some(&b) if is_space(b) => {
                    buf.advance(len + 1);
                    Step::Next(State::Separators(verb))
                }
                Some(_) => Step::Fail(RouteParseError::UnknownOp, line_or_all(buf)),
            },
        }
    }

    fn separators(&mut self, buf: &mut BytesMut, verb: Verb) -> Step {
        let n = buf.iter().take_while(|&&b| is_space(b)).count();
        buf.advance(n);
        if buf.is_empty() {
            Step::Wait(State::Separators(verb))
        } else {
            Step::Next(State::Argument(verb, LineScan::default()))
        }
    }

    fn scan_argument(&mut self, buf: &mut BytesMut, verb: Verb, mut scan: LineScan) -> Step {
        let limit = self.limits.max_control_line;
        match scan.find_end(buf) {
            None if scan.arg_len(buf.len()) > limit => {
                Step::Fail(RouteParseError::MaxControlLine, buf.len())
            }
            None => Step::Wait(State::Argument(verb, scan)),
            Some(lf) if scan.arg_len(lf) > limit => {
                Step::Fail(RouteParseError::MaxControlLine, lf + 1)
            }
            Some(lf) => self.line(buf, verb, lf, scan.arg_len(lf)),
        }
    }

    /// A whole line `buf[..=lf]` whose argument is `buf[..arg_len]`.
    fn line(&mut self, buf: &mut BytesMut, verb: Verb, lf: usize, arg_len: usize) -> Step {
        let arg = &buf[..arg_len];
        let fail = |e| Step::Fail(e, lf + 1);
        match verb {
            Verb::Info => {
                let Some(info) = json_or_null::<RouteInfo>(arg) else {
                    return fail(RouteParseError::InvalidInfo);
                };
                if !self.info_seen {
                    self.info_seen = true;
                    self.leaf_unsub_origin = info.lnocu;
                    if self.pinned.is_none() && !info.route_account.is_empty() {
                        self.pinned = Some(Bytes::from(info.route_account.clone()));
                    }
                }
                buf.advance(lf + 1);
                Step::Done(Some(RouteOp::Info(Box::new(info))))
            }
            Verb::Connect => {
                let Some(connect) = json_or_null::<RouteConnect>(arg) else {
                    return fail(RouteParseError::InvalidConnect);
                };
                buf.advance(lf + 1);
                Step::Done(Some(RouteOp::Connect(Box::new(connect))))
            }
            Verb::Err => {
                let n = arg.iter().rev().take_while(|&&b| is_space(b)).count();
                let text = match &arg[..arg.len() - n] {
                    [b'\'', inner @ .., b'\''] => inner,
                    other => other,
                };
                let text = String::from_utf8_lossy(text).into_owned();
                buf.advance(lf + 1);
                Step::Done(Some(RouteOp::Err(text)))
            }
            Verb::RSub | Verb::LSub | Verb::RUnsub | Verb::LUnsub => match self.sub_op(verb, arg) {
                Err(e) => fail(e),
                Ok(build) => {
                    let line = buf.split_to(lf + 1).freeze();
                    Step::Done(Some(build(&line)))
                }
            },
            Verb::RMsg | Verb::HMsg | Verb::LMsg => match self.msg_ranges(verb, arg) {
                Err(e) => fail(e),
                Ok(r) if self.limits.payload_too_big(r.size) => fail(RouteParseError::MaxPayload),
                Ok(r) => {
                    let start = lf + 1;
                    match check_terminator(buf, start, r.size) {
                        Err(consumed) => Step::Fail(RouteParseError::UnknownOp, consumed),
                        Ok(true) => {
                            let all = buf.split_to(start + r.size + 2).freeze();
                            let data = all.slice(start..start + r.size);
                            Step::Done(Some(MsgHead::new(&all, &r).finish(data)))
                        }
                        Ok(false) => {
                            let line = buf.split_to(start).freeze();
                            Step::Next(State::Payload(r.size, Some(MsgHead::new(&line, &r))))
                        }
                    }
                }
            },
            Verb::Pub | Verb::HPub => {
                let w = Words::new(arg);
                let sizes = if verb == Verb::Pub { 1 } else { 2 };
                let (lo, hi) = if verb == Verb::Pub { (2, 3) } else { (3, 4) };
                if w.count < lo || w.count > hi {
                    return fail(RouteParseError::InvalidMsg);
                }
                let size = parse_size(&arg[w.at(w.count - 1)]);
                let hdr = if sizes == 2 {
                    parse_size(&arg[w.at(w.count - 2)])
                } else {
                    Some(0)
                };
                match (hdr, size) {
                    (Some(h), Some(s)) if h <= s => {
                        buf.advance(lf + 1);
                        Step::Next(State::Payload(s, None))
                    }
                    _ => fail(RouteParseError::BadSize),
                }
            }
            Verb::Sub | Verb::Unsub | Verb::ASub | Verb::AUnsub => {
                buf.advance(lf + 1);
                Step::Done(None)
            }
            Verb::Ping | Verb::Pong | Verb::Ok => fail(RouteParseError::UnknownOp),
        }
    }

    /// Number of leading account words (0 on a pinned connection).
    fn acc_words(&self) -> usize {
        usize::from(self.pinned.is_none())
    }

    /// Checks an `RS+`/`RS-`/`LS+`/`LS-` argument and returns how to build the op from the
    /// frozen line.
    #[allow(clippy::type_complexity)]
    fn sub_op(
        &self,
        verb: Verb,
        arg: &[u8],
    ) -> Result<Box<dyn FnOnce(&Bytes) -> RouteOp>, RouteParseError> {
        let w = Words::new(arg);
        let has_origin = match verb {
            Verb::LSub => true,
            Verb::LUnsub => self.leaf_unsub_origin,
            _ => false,
        };
        let lead = usize::from(has_origin) + self.acc_words();
        let rest = w.count.checked_sub(lead + 1);
        let origin = has_origin.then(|| w.at(0));
        let account = (self.acc_words() == 1).then(|| w.at(lead - 1));
        let subject = w.at(lead);
        let is_sub = matches!(verb, Verb::RSub | Verb::LSub);
        if is_sub {
            let queue = match rest {
                Some(0) => None,
                Some(2) => {
                    let weight = parse_size(&arg[w.at(lead + 2)])
                        .and_then(|n| u32::try_from(n).ok())
                        .unwrap_or(1);
                    Some((w.at(lead + 1), weight))
                }
                _ => return Err(RouteParseError::InvalidSub),
            };
            Ok(Box::new(move |line: &Bytes| {
                let account = account.map(|a| line.slice(a));
                let subject = line.slice(subject);
                let queue = queue.map(|(q, n)| (line.slice(q), n));
                match origin {
                    Some(o) => RouteOp::LeafSub {
                        origin: line.slice(o),
                        account,
                        subject,
                        queue,
                    },
                    None => RouteOp::Sub {
                        account,
                        subject,
                        queue,
                    },
                }
            }))
        } else {
            let queue = match rest {
                Some(0) => None,
                Some(1) => Some(w.at(lead + 1)),
                _ => return Err(RouteParseError::InvalidUnsub),
            };
            let leaf = verb == Verb::LUnsub;
            Ok(Box::new(move |line: &Bytes| {
                let account = account.map(|a| line.slice(a));
                let subject = line.slice(subject);
                let queue = queue.map(|q| line.slice(q));
                if leaf {
                    RouteOp::LeafUnsub {
                        origin: origin.map(|o| line.slice(o)),
                        account,
                        subject,
                        queue,
                    }
                } else {
                    RouteOp::Unsub {
                        account,
                        subject,
                        queue,
                    }
                }
            }))
        }
    }

    /// Reads an `RMSG`/`HMSG`/`LMSG` argument.
    fn msg_ranges(&self, verb: Verb, arg: &[u8]) -> Result<MsgRanges, RouteParseError> {
        let w = Words::new(arg);
        let kind = match verb {
            Verb::RMsg => MsgKind::R,
            Verb::HMsg => MsgKind::H,
            _ => MsgKind::L,
        };
        let has_origin = kind == MsgKind::L;
        let sizes = if kind == MsgKind::R { 1 } else { 2 };
        let lead = usize::from(has_origin) + self.acc_words();
        // Words after the subject.
        let rest = w
            .count
            .checked_sub(lead + 1)
            .filter(|&r| r >= sizes)
            .ok_or(RouteParseError::InvalidMsg)?;
        let n = w.count;
        let (reply, queues) = match rest - sizes {
            0 => (None, 0..0),
            1 => (Some(w.at(lead + 1)), 0..0),
            _ => {
                let marker = &arg[w.at(lead + 1)];
                match marker {
                    b"+" => (Some(w.at(lead + 2)), w.span(lead + 3, n - 1 - sizes)),
                    b"|" => (None, w.span(lead + 2, n - 1 - sizes)),
                    _ => return Err(RouteParseError::BadReplyMarker),
                }
            }
        };
        let size = parse_size(&arg[w.at(n - 1)]).ok_or(RouteParseError::BadSize)?;
        let hdr = if sizes == 2 {
            parse_size(&arg[w.at(n - 2)]).ok_or(RouteParseError::BadSize)?
        } else {
            0
        };
        if hdr > size {
            return Err(RouteParseError::BadSize);
        }
        Ok(MsgRanges {
            kind,
            origin: has_origin.then(|| w.at(0)),
            account: (self.acc_words() == 1).then(|| w.at(lead - 1)),
            subject: w.at(lead),
            reply,
            queues,
            hdr,
            size,
        })
    }
}

/// Parses a JSON object (or `null`, read as all defaults, as Go does).
fn json_or_null<T: serde::de::DeserializeOwned + Default>(arg: &[u8]) -> Option<T> {
    match serde_json::from_slice::<serde_json::Value>(arg).ok()? {
        serde_json::Value::Null => Some(T::default()),
        v @ serde_json::Value::Object(_) => serde_json::from_value(v).ok(),
        _ => None,
    }
}

/// Skips the rest of a `PING`/`PONG`/`+OK` line.
fn rest_of_line(buf: &mut BytesMut, verb: Verb) -> Step {
    match memchr(b'\n', buf) {
        None => {
            buf.clear();
            Step::Wait(State::RestOfLine(verb))
        }
        Some(lf) => {
            buf.advance(lf + 1);
            Step::Done(Some(match verb {
                Verb::Ping => RouteOp::Ping,
                Verb::Pong => RouteOp::Pong,
                _ => RouteOp::Ok,
            }))
        }
    }
}

/// Checks the `\r\n` after a payload of `size` bytes at `buf[start..]`, as far as it has
/// arrived. `Err(consumed)` if a wrong byte is there.
fn check_terminator(buf: &[u8], start: usize, size: usize) -> Result<bool, usize> {
    let end = start + size;
    match (buf.get(end), buf.get(end + 1)) {
        (Some(b'\r'), Some(b'\n')) => Ok(true),
        (Some(b'\r'), None) | (None, _) => Ok(false),
        (Some(b'\r'), Some(_)) => Err(end + 2),
        (Some(_), _) => Err(end + 1),
    }
}

/// Waits for a payload, then completes the op (or drops an ignored `PUB`/`HPUB`).
fn payload(buf: &mut BytesMut, size: usize, head: Option<MsgHead>) -> Step {
    match check_terminator(buf, 0, size) {
        Ok(false) => Step::Wait(State::Payload(size, head)),
        Err(consumed) => Step::Fail(RouteParseError::UnknownOp, consumed),
        Ok(true) => {
            let mut data = buf.split_to(size + 2);
            data.truncate(size);
            Step::Done(head.map(|h| h.finish(data.freeze())))
        }
    }
}

/// Bytes to drop with an unknown op: up to its line end, or all that is there.
fn line_or_all(buf: &[u8]) -> usize {
    memchr(b'\n', buf).map_or(buf.len(), |lf| lf + 1)
}
