//! The benchmark scenarios; each returns a [`Report`].

mod delivery;
mod fanout;
mod publish;
mod pubsub;
mod reqrep;
mod route_interest;
mod rss;

use std::time::Duration;

use crate::error::Result;
use crate::options::{Options, Scenario};
use crate::report::Report;

/// How long to keep retrying the first connection and handshake.
const CONNECT_WAIT: Duration = Duration::from_secs(5);

/// Runs the scenario chosen in `opts`.
pub fn run(opts: &Options) -> Result<Report> {
    match opts.scenario {
        Scenario::Pub => publish::run(opts),
        Scenario::PubSub => pubsub::run(opts),
        Scenario::FanOut => fanout::run(opts),
        Scenario::ReqRep => reqrep::run(opts),
        Scenario::Rss => rss::run(opts),
    }
}
