//! Answers the system account's requests (`$SYS.REQ.SERVER.PING`, `...PING.VARZ`, ...) and
//! publishes its client advisories (`$SYS.ACCOUNT.<acc>.CONNECT`/`DISCONNECT`), with the
//! same JSON documents the monitoring endpoints serve, wrapped as the reference wraps them.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime};

use engine::monitor::{self, time::rfc3339, Clock, Context, HttpListen, MonitorError};
use engine::system::{SystemEvent, SystemHandler, SystemRequest, SystemRequestKind};
use engine::{ClientSnapshot, Server};
use serde_json::{json, Value};

use super::process::ProcessSampler;
use super::request_options::RequestOptions;

/// The runtime's [`SystemHandler`]: builds answers and advisories and publishes them.
#[derive(Debug)]
pub struct SystemResponder {
    sampler: ProcessSampler,
    anchor: Clock,
    seq: AtomicU64,
    id_seed: u64,
    http: HttpListen,
    tls_cert_not_after: Option<SystemTime>,
}

impl SystemResponder {
    /// A responder whose documents report the monitoring listener `http` and the client
    /// TLS certificate's expiry.
    pub fn new(http: HttpListen, tls_cert_not_after: Option<SystemTime>) -> SystemResponder {
        let mut seed = [0u8; 8];
        let _ = getrandom::fill(&mut seed);
        SystemResponder {
            sampler: ProcessSampler::new(Instant::now()),
            anchor: Clock {
                now: Instant::now(),
                wall: SystemTime::now(),
            },
            seq: AtomicU64::new(1),
            id_seed: u64::from_le_bytes(seed),
            http,
            tls_cert_not_after,
        }
    }

    fn context(&self, now: Instant) -> Context {
        Context {
            clock: Clock {
                now,
                wall: self.anchor.wall_of(now),
            },
            http: self.http.clone(),
            process: self.sampler.sample(now),
            http_req_stats: BTreeMap::new(),
            tls_cert_not_after: self.tls_cert_not_after,
        }
    }

    /// The `server` block every system message carries.
    fn server_block(&self, server: &Server, ctx: &Context) -> Value {
        json!({
            "name": server.name(),
            "host": server.config().host,
            "id": server.id(),
            "ver": engine::VERSION,
            "feature_flags": {
                "js_ack_fc_v2": false,
                "js_api_reply_v2": false,
                "js_raft_delete_range": true,
                "js_snapshot_sources": false
            },
            "jetstream": false,
            "flags": 0,
            "seq": self.seq.fetch_add(1, Ordering::Relaxed),
            "time": rfc3339(ctx.clock.wall),
        })
    }

    /// A unique event id (22 base-62 characters, like the reference's).
    fn event_id(&self) -> String {
        const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut n = u128::from(self.seq.fetch_add(1, Ordering::Relaxed))
            ^ (u128::from(self.id_seed) << 64 | u128::from(self.id_seed.rotate_left(29)));
        (0..22)
            .map(|_| {
                let d = DIGITS[(n % 62) as usize] as char;
                n /= 62;
                d
            })
            .collect()
    }

    fn statsz(&self, server: &Server, ctx: &Context) -> Value {
        let st = &server.stats;
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let (in_msgs, in_bytes) = (load(&st.in_msgs), load(&st.in_bytes));
        let (out_msgs, out_bytes) = (load(&st.out_msgs), load(&st.out_bytes));
        let active_accounts = server
            .accounts()
            .iter()
            .filter(|a| a.sublist.count() > 0)
            .count();
        json!({
            "server": self.server_block(server, ctx),
            "statsz": {
                "start": ctx.clock.rfc3339(server.start_time()),
                "mem": ctx.process.rss_bytes,
                "cores": ctx.process.cores,
                "cpu": ctx.process.cpu_percent,
                "connections": server.num_clients(),
                "total_connections": load(&st.total_connections),
                "active_accounts": active_accounts,
                "subscriptions": server.num_subscriptions(),
                "sent": {"msgs": out_msgs, "bytes": out_bytes},
                "sent_to_clients": {"msgs": out_msgs, "bytes": out_bytes},
                "received": {"msgs": in_msgs, "bytes": in_bytes},
                "received_from_clients": {"msgs": in_msgs, "bytes": in_bytes},
                "slow_consumers": load(&st.slow_consumers),
                "active_servers": 1,
                "gomaxprocs": ctx.process.max_procs,
            }
        })
    }

    /// The answer to one request, `None` when its filters leave this server out. As the
    /// reference: a body that does not decode is answered with code 400, a document that
    /// cannot be built with code 500.
    fn answer(&self, server: &Server, req: &SystemRequest, ctx: &Context) -> Option<Value> {
        let opts = match RequestOptions::parse(&req.payload) {
            Ok(o) => o,
            Err(e) => return Some(self.error(server, ctx, 400, &e.to_string())),
        };
        let routes = server.routes();
        let cluster = if routes.is_enabled() {
            routes.cluster_name().0
        } else {
            String::new()
        };
        if !opts.selects(server.name(), &server.config().host, &cluster) {
            return None;
        }
        let data: Result<Value, MonitorError> = match req.kind {
            SystemRequestKind::Statsz => return Some(self.statsz(server, ctx)),
            SystemRequestKind::Idz => {
                return Some(json!({
                    "name": server.name(),
                    "host": server.config().host,
                    "id": server.id(),
                }))
            }
            SystemRequestKind::Varz => Ok(to_value(&monitor::varz(server, ctx))),
            SystemRequestKind::Connz => opts
                .connz()
                .and_then(|o| monitor::connz(server, &o, ctx))
                .map(|d| to_value(&d)),
            SystemRequestKind::Subsz => {
                monitor::subsz(server, &opts.subsz(), ctx).map(|d| to_value(&d))
            }
            SystemRequestKind::Routez => {
                Ok(to_value(&monitor::routez_with(server, opts.routez(), ctx)))
            }
            SystemRequestKind::Gatewayz => Ok(to_value(&monitor::gatewayz(server, ctx))),
            SystemRequestKind::Leafz => Ok(to_value(&monitor::leafz(server, ctx))),
            SystemRequestKind::Accountz => {
                monitor::accountz(server, &opts.accountz(), ctx).map(|d| to_value(&d))
            }
            SystemRequestKind::Healthz => {
                // Over the system account the status code is always part of the answer.
                let mut v = to_value(&monitor::healthz(&Default::default()));
                if let Value::Object(m) = &mut v {
                    m.entry("status_code").or_insert(json!(200));
                }
                Ok(v)
            }
        };
        Some(match data {
            Ok(data) => json!({"server": self.server_block(server, ctx), "data": data}),
            Err(e) => self.error(server, ctx, 500, &e.to_string()),
        })
    }

    /// An error answer: the server block and `{"code", "description"}`.
    fn error(&self, server: &Server, ctx: &Context, code: u16, description: &str) -> Value {
        json!({
            "server": self.server_block(server, ctx),
            "error": {"code": code, "description": description},
        })
    }

    /// The `client` block of an advisory.
    fn client_block(
        snapshot: &ClientSnapshot,
        account: &str,
        user: Option<&str>,
        ctx: &Context,
    ) -> serde_json::Map<String, Value> {
        let mut c = serde_json::Map::new();
        c.insert("start".into(), ctx.clock.rfc3339(snapshot.start).into());
        c.insert("host".into(), snapshot.peer.ip().to_string().into());
        c.insert("id".into(), snapshot.cid.into());
        c.insert("acc".into(), account.into());
        if let Some(u) = user {
            c.insert("user".into(), u.into());
        }
        if let Some(info) = snapshot.connect.as_deref() {
            for (key, v) in [
                ("name", &info.name),
                ("lang", &info.lang),
                ("ver", &info.version),
            ] {
                if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                    c.insert(key.into(), v.into());
                }
            }
        }
        c
    }

    fn advisory(
        &self,
        server: &Server,
        event: &SystemEvent,
        ctx: &Context,
    ) -> Option<(String, Value)> {
        let (kind, account, mut client, extra) = match event {
            SystemEvent::ClientConnect {
                client,
                account,
                user,
            } => (
                "client_connect",
                account,
                Self::client_block(client, account, user.as_deref(), ctx),
                None,
            ),
            SystemEvent::ClientDisconnect {
                client,
                account,
                user,
            } => {
                let mut c = Self::client_block(&client.snapshot, account, user.as_deref(), ctx);
                // The last round-trip time, in nanoseconds as the reference writes it.
                let rtt = u64::try_from(client.snapshot.rtt.as_nanos()).unwrap_or(u64::MAX);
                c.insert("rtt".into(), rtt.into());
                c.insert("stop".into(), ctx.clock.rfc3339(client.stop).into());
                let s = &client.snapshot;
                let extra = json!({
                    "sent": {"msgs": s.out_msgs, "bytes": s.out_bytes},
                    "received": {"msgs": s.in_msgs, "bytes": s.in_bytes},
                    "reason": client.reason.to_string(),
                });
                ("client_disconnect", account, c, Some(extra))
            }
            SystemEvent::Request(_) => return None,
        };
        client.insert("name_tag".into(), account.as_str().into());
        client.insert("kind".into(), "Client".into());
        client.insert("client_type".into(), "nats".into());
        let mut doc = json!({
            "type": format!("io.nats.server.advisory.v1.{kind}"),
            "id": self.event_id(),
            "timestamp": rfc3339(ctx.clock.wall),
            "server": self.server_block(server, ctx),
            "client": client,
        });
        if let (Some(Value::Object(extra)), Value::Object(d)) = (extra, &mut doc) {
            d.extend(extra);
        }
        let suffix = if kind == "client_connect" {
            "CONNECT"
        } else {
            "DISCONNECT"
        };
        Some((format!("$SYS.ACCOUNT.{account}.{suffix}"), doc))
    }
}

fn to_value<T: serde::Serialize>(doc: &T) -> Value {
    serde_json::to_value(doc).unwrap_or(Value::Null)
}

impl SystemHandler for SystemResponder {
    fn handle(&self, server: &Server, event: SystemEvent) {
        let ctx = self.context(Instant::now());
        let system = server.system_account();
        match &event {
            SystemEvent::Request(req) => {
                if let Some(body) = self.answer(server, req, &ctx) {
                    let bytes = serde_json::to_vec(&body).unwrap_or_default();
                    server.publish_internal(&system, &req.reply, &bytes);
                }
            }
            _ => {
                if let Some((subject, doc)) = self.advisory(server, &event, &ctx) {
                    let bytes = serde_json::to_vec(&doc).unwrap_or_default();
                    server.publish_internal(&system, subject.as_bytes(), &bytes);
                }
            }
        }
    }
}
