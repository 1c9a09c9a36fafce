//! `fanout`: one publisher, K subscribers; total delivered rate.

use super::delivery;
use crate::error::Result;
use crate::options::Options;
use crate::report::Report;

/// Runs one publisher against `o.subs` subscribers of the same subject.
pub fn run(o: &Options) -> Result<Report> {
    let d = delivery::run(o, o.subs)?;
    let delivered = d.delivered();
    let expected = o.msgs * o.subs as u64;
    let window = d.receive_window();
    let mut r = Report::new("fanout");
    r.add("size", o.size)
        .add("msgs", o.msgs)
        .add("subs", o.subs);
    r.add("delivered", delivered)
        .add("lost", expected - delivered.min(expected));
    r.add("secs", format!("{:.3}", window.as_secs_f64()));
    r.rate("msgs_per_sec", delivered as f64, window);
    r.mbps("mb_per_sec", (delivered * o.size as u64) as f64, window);
    r.rate("pub_msgs_per_sec", o.msgs as f64, d.pub_elapsed);
    r.cpu("msgs_per_cpu_sec", delivered as f64, d.server_cpu);
    if let Some(e) = d.error() {
        r.add("error", format!("{e:?}"));
    }
    Ok(r)
}
