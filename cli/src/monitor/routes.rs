//! Routing a monitoring request to its document.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use engine::monitor::{self, Clock, Context, HttpListen};
use engine::Server;
use serde::Serialize;

use super::path::{canonical_request_path, BasePath};
use super::process::ProcessSampler;
use super::query::{Query, QueryError};

/// An answer to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status code.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Whether to send `Access-Control-Allow-Origin: *` (the reference does on documents).
    pub cors: bool,
    /// Body.
    pub body: Vec<u8>,
    /// `Location` of a redirect.
    pub location: Option<String>,
}

const JSON: &str = "application/json";
const TEXT: &str = "text/plain; charset=utf-8";
const HTML: &str = "text/html; charset=utf-8";

impl Reply {
    fn json<T: Serialize>(doc: &T) -> Reply {
        match serde_json::to_vec_pretty(doc) {
            Ok(body) => Reply {
                status: 200,
                content_type: JSON,
                cors: true,
                body,
                location: None,
            },
            Err(e) => Reply::text(500, format!("Error marshaling response: {e}")),
        }
    }

    fn text(status: u16, body: String) -> Reply {
        Reply {
            status,
            content_type: TEXT,
            cors: false,
            body: body.into_bytes(),
            location: None,
        }
    }

    /// Go's `307 Temporary Redirect` to the cleaned form of a request path.
    fn redirect(to: String) -> Reply {
        let body = format!(
            "<a href=\"{}\">Temporary Redirect</a>.\n\n",
            html_escape(&to)
        );
        Reply {
            status: 307,
            content_type: HTML,
            cors: false,
            body: body.into_bytes(),
            location: Some(to),
        }
    }

    fn bad_request(e: QueryError) -> Reply {
        Reply::text(400, e.to_string())
    }

    /// Go's `404 page not found`.
    pub fn not_found() -> Reply {
        Reply::text(404, "404 page not found\n".to_string())
    }
}

/// What every request handler shares.
#[derive(Debug)]
pub struct MonitorState {
    /// The server observed.
    pub server: Arc<Server>,
    /// Where the monitor listens.
    pub http: HttpListen,
    /// Where the endpoints are served (`http_base_path`).
    base: BasePath,
    sampler: ProcessSampler,
    /// A monotonic reading and the wall-clock time taken with it: every instant is mapped
    /// to wall-clock time through this one pair, so times stay stable between requests.
    anchor: Clock,
    req_stats: Mutex<BTreeMap<String, u64>>,
    tls_cert_not_after: Option<SystemTime>,
}

/// Endpoints served, in the order the index page lists them.
const ENDPOINTS: [(&str, &str); 10] = [
    ("varz", "General"),
    ("connz", "Connections"),
    ("accountz", "Accounts"),
    ("accstatz", "Account Stats"),
    ("subsz", "Subscriptions"),
    ("routez", "Routes"),
    ("leafz", "LeafNodes"),
    ("gatewayz", "Gateways"),
    ("healthz", "Health Probe"),
    ("metrics", "Prometheus Metrics"),
];

impl MonitorState {
    /// State for a monitor of `server` listening at `http`; `tls_cert_not_after` is the
    /// expiry of the client TLS certificate, if TLS is on.
    pub fn new(
        server: Arc<Server>,
        http: HttpListen,
        tls_cert_not_after: Option<SystemTime>,
    ) -> MonitorState {
        MonitorState {
            server,
            base: BasePath::new(&http.base_path),
            http,
            sampler: ProcessSampler::new(Instant::now()),
            anchor: Clock {
                now: Instant::now(),
                wall: SystemTime::now(),
            },
            req_stats: Mutex::new(BTreeMap::new()),
            tls_cert_not_after,
        }
    }

    /// Counts a request of `path` and returns the counts so far.
    fn count(&self, path: &str) -> BTreeMap<String, u64> {
        let mut stats = self.req_stats.lock().unwrap_or_else(|e| e.into_inner());
        *stats.entry(path.to_string()).or_insert(0) += 1;
        stats.clone()
    }

    fn context(&self, path: &str, now: Instant) -> Context {
        Context {
            clock: Clock {
                now,
                wall: self.anchor.wall_of(now),
            },
            http: self.http.clone(),
            process: self.sampler.sample(now),
            http_req_stats: self.count(path),
            tls_cert_not_after: self.tls_cert_not_after,
        }
    }

    /// Answers `path?query` at `now`. Paths that are not clean are redirected to their clean
    /// form first, as the reference's router does.
    pub fn handle(&self, path: &str, query: &str, now: Instant) -> Reply {
        let canonical = canonical_request_path(path);
        if canonical != path {
            let to = if query.is_empty() {
                canonical
            } else {
                format!("{canonical}?{query}")
            };
            return Reply::redirect(to);
        }
        let endpoint = match self.base.strip(path) {
            Some("") => "",
            // The reference's old name of `/subsz`, still served (and counted as `/subsz`).
            Some("subscriptionsz") => "subsz",
            Some(e) if ENDPOINTS.iter().any(|(p, _)| *p == e) => e,
            _ => return Reply::not_found(),
        };
        // Requests are counted by endpoint, whatever the base path.
        let ctx = self.context(&format!("/{endpoint}"), now);
        let q = Query::parse(query);
        let server = &self.server;
        let result: Result<Reply, QueryError> = match endpoint {
            "" => Ok(index_page(&self.base)),
            "varz" => Ok(Reply::json(&monitor::varz(server, &ctx))),
            "connz" => q
                .connz()
                .and_then(|o| Ok(monitor::connz(server, &o, &ctx)?))
                .map(|d| Reply::json(&d)),
            "routez" => q
                .route_subs()
                .map(|subs| Reply::json(&monitor::routez_with(server, subs, &ctx))),
            "gatewayz" => Ok(Reply::json(&monitor::gatewayz(server, &ctx))),
            "leafz" => Ok(Reply::json(&monitor::leafz(server, &ctx))),
            "subsz" => q
                .subsz()
                .and_then(|o| Ok(monitor::subsz(server, &o, &ctx)?))
                .map(|d| Reply::json(&d)),
            "accountz" => monitor::accountz(server, &q.accountz(), &ctx)
                .map(|d| Reply::json(&d))
                .map_err(QueryError::from),
            "accstatz" => q
                .bool("unused")
                .map(|unused| Reply::json(&monitor::accstatz(server, unused, &ctx))),
            "healthz" => q.healthz().map(|o| health_reply(&monitor::healthz(&o))),
            "metrics" => Ok(Reply {
                status: 200,
                content_type: monitor::metrics::CONTENT_TYPE,
                cors: false,
                body: monitor::metrics::render(server, &ctx).into_bytes(),
                location: None,
            }),
            _ => Ok(Reply::not_found()),
        };
        result.unwrap_or_else(Reply::bad_request)
    }
}

/// `/healthz` is compact JSON, `400` when a check failed.
fn health_reply(h: &monitor::HealthStatus) -> Reply {
    let body = serde_json::to_vec(h).unwrap_or_default();
    Reply {
        status: if h.is_ok() { 200 } else { 400 },
        content_type: JSON,
        cors: true,
        body,
        location: None,
    }
}

/// The index page: a link per endpoint, relative to the page (under the base path).
fn index_page(base: &BasePath) -> Reply {
    let mut html = String::from(
        "<html lang=\"en\">\n<head><title>NATS Server</title></head>\n<body>\n\
         <h1>NATS Server</h1>\n",
    );
    html.push_str(&format!("<p>v{}</p>\n", engine::VERSION));
    for (path, title) in ENDPOINTS {
        let link = base.link(path);
        html.push_str(&format!("<a href={link}>{title} /{path}</a><br/>\n"));
    }
    html.push_str(
        "<a href=https://docs.nats.io/running-a-nats-service/nats_admin/monitoring>Help</a>\n\
         </body>\n</html>\n",
    );
    Reply {
        status: 200,
        content_type: HTML,
        cors: false,
        body: html.into_bytes(),
        location: None,
    }
}

/// Escapes the characters HTML gives a meaning to (for the redirect body).
fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
