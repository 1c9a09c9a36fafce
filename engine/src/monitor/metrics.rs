//! `/metrics`: the monitoring counters in the Prometheus text exposition format (0.0.4).
//!
//! The reference server has no such endpoint; people scrape it through
//! `prometheus-nats-exporter`. To keep their dashboards and alerts working unchanged, the
//! metric names are the exporter's: `gnatsd_<endpoint>_<json field>` (for example
//! `gnatsd_varz_in_msgs`, `gnatsd_subsz_num_subscriptions`), labelled with `server_id`,
//! plus per-account series `gnatsd_accstatz_*{account="..."}`. Monotonic counts are typed
//! `counter`, the rest `gauge`.

use std::fmt::Write;

use super::subsz::SublistStatz;
use super::{accstatz, varz, Context};
use crate::server::Server;

/// `Content-Type` of the exposition.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Prometheus metric type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
        }
    }
}

/// Escapes a label value (`\`, `"` and newlines).
fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Accumulates families: a `# HELP`/`# TYPE` header, then samples.
struct Exposition {
    out: String,
}

impl Exposition {
    fn family(&mut self, name: &str, kind: Kind, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {}", kind.as_str());
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{k}=\"{}\"", escape(v));
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {value}");
    }

    fn single(&mut self, name: &str, kind: Kind, help: &str, labels: &[(&str, &str)], v: f64) {
        self.family(name, kind, help);
        self.sample(name, labels, v);
    }
}

/// Renders the exposition.
pub fn render(server: &Server, ctx: &Context) -> String {
    use Kind::{Counter, Gauge};
    let v = varz(server, ctx);
    let sub = SublistStatz::of(server);
    let acc = accstatz(server, true, ctx);
    let mut e = Exposition {
        out: String::with_capacity(4096),
    };
    let id = v.server_id.as_str();
    let l = [("server_id", id)];
    // Integer counters are far below 2^53 in practice; f64 is the exposition's number type.
    let n = |x: u64| x as f64;
    let z = |x: usize| x as f64;
    let varz_metrics: [(&str, Kind, &str, f64); 19] = [
        (
            "connections",
            Gauge,
            "Current client connections",
            z(v.connections),
        ),
        (
            "total_connections",
            Counter,
            "Client connections accepted since start",
            n(v.total_connections),
        ),
        (
            "subscriptions",
            Gauge,
            "Current subscriptions",
            z(v.subscriptions),
        ),
        (
            "in_msgs",
            Counter,
            "Messages received from clients",
            n(v.in_msgs),
        ),
        (
            "out_msgs",
            Counter,
            "Messages sent to clients",
            n(v.out_msgs),
        ),
        (
            "in_bytes",
            Counter,
            "Payload bytes received from clients",
            n(v.in_bytes),
        ),
        (
            "out_bytes",
            Counter,
            "Payload bytes sent to clients",
            n(v.out_bytes),
        ),
        (
            "slow_consumers",
            Counter,
            "Clients cut off as slow consumers",
            n(v.slow_consumers),
        ),
        (
            "stale_connections",
            Counter,
            "Connections closed as stale",
            n(v.stale_connections),
        ),
        ("routes", Gauge, "Current route connections", n(v.routes)),
        ("remotes", Gauge, "Current remote servers", n(v.remotes)),
        (
            "leafnodes",
            Gauge,
            "Current leaf node connections",
            n(v.leafnodes),
        ),
        ("mem", Gauge, "Resident memory in bytes", n(v.mem)),
        ("cpu", Gauge, "CPU use in percent of one core", v.cpu),
        ("cores", Gauge, "CPU cores", z(v.cores)),
        (
            "max_connections",
            Gauge,
            "Configured connection limit",
            z(v.max_connections),
        ),
        (
            "max_payload",
            Gauge,
            "Configured payload limit in bytes",
            f64::from(v.max_payload),
        ),
        (
            "max_pending",
            Gauge,
            "Configured pending bytes limit per client",
            z(v.max_pending),
        ),
        (
            "uptime_seconds",
            Gauge,
            "Seconds since the server started",
            ctx.clock
                .now
                .saturating_duration_since(server.start_time())
                .as_secs_f64(),
        ),
    ];
    for (field, kind, help, value) in varz_metrics {
        e.single(&format!("gnatsd_varz_{field}"), kind, help, &l, value);
    }
    let subsz_metrics: [(&str, Kind, &str, f64); 5] = [
        (
            "num_subscriptions",
            Gauge,
            "Subscriptions in the index",
            z(sub.num_subscriptions),
        ),
        (
            "num_inserts",
            Counter,
            "Subscriptions inserted since start",
            n(sub.num_inserts),
        ),
        (
            "num_removes",
            Counter,
            "Subscriptions removed since start",
            n(sub.num_removes),
        ),
        (
            "num_matches",
            Counter,
            "Subject lookups since start",
            n(sub.num_matches),
        ),
        (
            "cache_hit_rate",
            Gauge,
            "Share of lookups answered from a cache",
            sub.cache_hit_rate,
        ),
    ];
    for (field, kind, help, value) in subsz_metrics {
        e.single(&format!("gnatsd_subsz_{field}"), kind, help, &l, value);
    }
    e.single("gnatsd_routez_num_routes", Gauge, "Current routes", &l, 0.0);
    e.single(
        "gnatsd_leafz_leafnodes",
        Gauge,
        "Current leaf nodes",
        &l,
        0.0,
    );
    type Field = fn(&super::accounts::AccountStat) -> f64;
    let acc_metrics: [(&str, Kind, &str, Field); 8] = [
        (
            "current_connections",
            Gauge,
            "Current connections of the account",
            |a| a.conns as f64,
        ),
        (
            "total_connections",
            Gauge,
            "Connections of the account, leaf nodes included",
            |a| a.total_conns as f64,
        ),
        (
            "leaf_nodes",
            Gauge,
            "Leaf node connections of the account",
            |a| a.leafnodes as f64,
        ),
        (
            "subscriptions",
            Gauge,
            "Subscriptions of the account",
            |a| a.num_subscriptions as f64,
        ),
        (
            "sent_messages",
            Counter,
            "Messages sent to the account's clients",
            |a| a.sent.msgs as f64,
        ),
        (
            "sent_bytes",
            Counter,
            "Bytes sent to the account's clients",
            |a| a.sent.bytes as f64,
        ),
        (
            "received_messages",
            Counter,
            "Messages received from the account's clients",
            |a| a.received.msgs as f64,
        ),
        (
            "received_bytes",
            Counter,
            "Bytes received from the account's clients",
            |a| a.received.bytes as f64,
        ),
    ];
    for (field, kind, help, get) in acc_metrics {
        let name = format!("gnatsd_accstatz_{field}");
        e.family(&name, kind, help);
        for a in &acc.account_statz {
            e.sample(&name, &[("server_id", id), ("account", &a.acc)], get(a));
        }
    }
    let name = "gnatsd_accstatz_slow_consumers";
    e.family(name, Counter, "Slow consumers of the account");
    for a in &acc.account_statz {
        e.sample(
            name,
            &[("server_id", id), ("account", &a.acc)],
            n(a.slow_consumers),
        );
    }
    e.out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(escape("$G"), "$G");
    }
}
