//! Command-line options of `nats-bench`.

use std::time::Duration;

use crate::error::{BenchError, Result};

/// Usage text printed for `--help` and on bad input.
pub const USAGE: &str = "\
nats-bench <SCENARIO> [OPTIONS]

Scenarios:
  pub      publishers only, no subscribers (pipelined 64 KiB writes)
  pubsub   1 publisher, 1 subscriber on another connection
  fanout   1 publisher, --subs subscribers
  reqrep   sequential request/reply through a responder client
  rss      connect once and print the server's VmRSS (needs --pid)

Options:
  --server ADDR        server address host:port or nats://host:port [127.0.0.1:4222]
  --sub-server ADDR    pubsub/fanout: subscribers connect here instead (another server
                       of the same cluster); publishing starts once their interest
                       crossed the route [--server]
  --msgs N             messages (requests for reqrep) [pub 2000000, pubsub 1000000,
                       fanout 300000, reqrep 20000]
  --size B             payload size in bytes [16]
  --subs K             fan-out subscribers [5]
  --pubs P             publisher connections for `pub` [1]
  --window-bytes W     max bytes in flight between publisher and slowest subscriber [8388608]
  --warmup N           reqrep warm-up requests, not measured [500]
  --subject S          subject to publish on [bench.s]
  --pid PID            server process id: required by `rss`; elsewhere adds
                       server CPU time and messages per server CPU second
  --stall-secs S       give up after S seconds without progress [10]

Output: one line of key=value pairs on stdout.
";

/// Which benchmark to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Publishers only.
    Pub,
    /// One publisher, one subscriber.
    PubSub,
    /// One publisher, many subscribers.
    FanOut,
    /// Sequential request/reply latency.
    ReqRep,
    /// Server memory after one connection.
    Rss,
}

impl Scenario {
    /// The scenario's name as typed on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Pub => "pub",
            Self::PubSub => "pubsub",
            Self::FanOut => "fanout",
            Self::ReqRep => "reqrep",
            Self::Rss => "rss",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "pub" => Self::Pub,
            "pubsub" => Self::PubSub,
            "fanout" => Self::FanOut,
            "reqrep" => Self::ReqRep,
            "rss" => Self::Rss,
            other => return Err(BenchError::Usage(format!("unknown scenario {other:?}"))),
        })
    }

    fn default_msgs(self) -> u64 {
        match self {
            Self::Pub => 2_000_000,
            Self::PubSub => 1_000_000,
            Self::FanOut => 300_000,
            Self::ReqRep => 20_000,
            Self::Rss => 0,
        }
    }
}

/// Fully resolved settings for one run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The benchmark to run.
    pub scenario: Scenario,
    /// `host:port` of the server.
    pub server: String,
    /// `host:port` of the server subscribers use, when not `server`.
    pub sub_server: Option<String>,
    /// Number of messages (or requests).
    pub msgs: u64,
    /// Payload size in bytes.
    pub size: usize,
    /// Subscriber count for fan-out.
    pub subs: usize,
    /// Publisher connections for `pub`.
    pub pubs: usize,
    /// Flow-control window in bytes.
    pub window_bytes: u64,
    /// Unmeasured warm-up requests for `reqrep`.
    pub warmup: u64,
    /// Subject used by publishers.
    pub subject: String,
    /// Server pid, for `rss` and CPU accounting.
    pub pid: Option<u32>,
    /// Maximum time without progress before giving up.
    pub stall: Duration,
}

/// Either options to run with, or a request for help.
#[derive(Debug)]
pub enum Command {
    /// Run a benchmark.
    Run(Options),
    /// Print [`USAGE`].
    Help,
}

/// Parses the arguments that follow the program name.
pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Command> {
    let mut args = args.into_iter();
    let mut scenario = None;
    let mut server = "127.0.0.1:4222".to_string();
    let mut sub_server = None;
    let (mut msgs, mut size, mut subs, mut pubs) = (None, 16usize, 5usize, 1usize);
    let (mut window_bytes, mut warmup, mut pid, mut stall_secs) = (8u64 << 20, 500u64, None, 10u64);
    let mut subject = "bench.s".to_string();
    // Each iteration consumes at least one argument.
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| BenchError::Usage(format!("{arg} needs a value")))
        };
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--server" => server = value()?.trim_start_matches("nats://").to_string(),
            "--sub-server" => sub_server = Some(value()?.trim_start_matches("nats://").to_string()),
            "--msgs" => msgs = Some(number(&arg, &value()?)?),
            "--size" => size = number(&arg, &value()?)?,
            "--subs" => subs = number(&arg, &value()?)?,
            "--pubs" => pubs = number(&arg, &value()?)?,
            "--window-bytes" => window_bytes = number(&arg, &value()?)?,
            "--warmup" => warmup = number(&arg, &value()?)?,
            "--subject" => subject = value()?,
            "--pid" => pid = Some(number(&arg, &value()?)?),
            "--stall-secs" => stall_secs = number(&arg, &value()?)?,
            s if s.starts_with('-') => {
                return Err(BenchError::Usage(format!("unknown option {s}")))
            }
            s if scenario.is_none() => scenario = Some(Scenario::parse(s)?),
            s => return Err(BenchError::Usage(format!("unexpected argument {s:?}"))),
        }
    }
    let scenario = scenario.ok_or_else(|| BenchError::Usage("missing scenario".into()))?;
    if subs == 0 || pubs == 0 {
        return Err(BenchError::Usage(
            "--subs and --pubs must be at least 1".into(),
        ));
    }
    if scenario == Scenario::Rss && pid.is_none() {
        return Err(BenchError::Usage("rss needs --pid".into()));
    }
    Ok(Command::Run(Options {
        scenario,
        server,
        sub_server,
        msgs: msgs.unwrap_or_else(|| scenario.default_msgs()),
        size,
        subs,
        pubs,
        window_bytes,
        warmup,
        subject,
        pid,
        stall: Duration::from_secs(stall_secs.max(1)),
    }))
}

fn number<T: std::str::FromStr>(name: &str, text: &str) -> Result<T> {
    text.parse()
        .map_err(|_| BenchError::Usage(format!("{name}: {text:?} is not a valid number")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Command> {
        parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn defaults_depend_on_scenario() {
        let Command::Run(o) = run(&["fanout", "--size", "128"]).unwrap() else {
            panic!()
        };
        assert_eq!(
            (o.scenario, o.msgs, o.size, o.subs),
            (Scenario::FanOut, 300_000, 128, 5)
        );
        let Command::Run(o) = run(&["pub", "--server", "nats://h:1", "--msgs", "7"]).unwrap()
        else {
            panic!()
        };
        assert_eq!((o.server.as_str(), o.msgs), ("h:1", 7));
        assert_eq!(o.sub_server, None);
        let Command::Run(o) = run(&["fanout", "--sub-server", "nats://h:2"]).unwrap() else {
            panic!()
        };
        assert_eq!(o.sub_server.as_deref(), Some("h:2"));
    }

    #[test]
    fn rejects_bad_input() {
        assert!(run(&[]).is_err());
        assert!(run(&["nope"]).is_err());
        assert!(run(&["pub", "--msgs"]).is_err());
        assert!(run(&["pub", "--msgs", "x"]).is_err());
        assert!(run(&["rss"]).is_err());
        assert!(matches!(run(&["--help"]), Ok(Command::Help)));
    }
}
