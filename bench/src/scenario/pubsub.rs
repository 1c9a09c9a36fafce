//! `pubsub`: one publisher, one subscriber; rate measured at the subscriber.

use super::delivery;
use crate::error::Result;
use crate::options::Options;
use crate::report::Report;

/// Runs one publisher against one subscriber.
pub fn run(o: &Options) -> Result<Report> {
    let d = delivery::run(o, 1)?;
    let received = d.delivered();
    let window = d.receive_window();
    let mut r = Report::new("pubsub");
    r.add("size", o.size)
        .add("msgs", o.msgs)
        .add("received", received);
    r.add("lost", o.msgs - received.min(o.msgs));
    r.add("secs", format!("{:.3}", window.as_secs_f64()));
    r.rate("msgs_per_sec", received as f64, window);
    r.mbps("mb_per_sec", (received * o.size as u64) as f64, window);
    r.rate("pub_msgs_per_sec", o.msgs as f64, d.pub_elapsed);
    r.cpu("msgs_per_cpu_sec", received as f64, d.server_cpu);
    if let Some(e) = d.error() {
        r.add("error", format!("{e:?}"));
    }
    Ok(r)
}
