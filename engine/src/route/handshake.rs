//! The route handshake: the INFO and CONNECT this server sends, and the checks on the
//! peer's CONNECT.

use proto::route::{RouteConnect, RouteInfo};

use super::dial::RouteSlot;
use crate::config::ClusterConfig;
use crate::server::Server;

/// Protocol level of routes.
const ROUTE_PROTO: i64 = 3;

/// The `go` field of INFO: the toolchain the reference was built with (peers only log it).
const GO_VERSION: &str = "go1.27.2";

/// Our route INFO: on accept (`slot: None`) or, for a solicited connection, naming the
/// pool index or pinned account it is.
pub(crate) fn our_info(
    server: &Server,
    cluster: &ClusterConfig,
    slot: Option<&RouteSlot>,
    nonce: Option<String>,
) -> RouteInfo {
    let table = server.routes();
    let (name, dynamic) = table.cluster_name();
    let start = table.start_info();
    let (host, port) = match (&cluster.advertise, &start) {
        (Some(adv), _) => match adv.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.parse().unwrap_or(i64::from(cluster.port))),
            None => (adv.clone(), i64::from(cluster.port)),
        },
        (None, Some(s)) => (cluster.host.clone(), i64::from(s.listen.port())),
        (None, None) => (cluster.host.clone(), i64::from(cluster.port)),
    };
    let config = server.config();
    let mut info = RouteInfo {
        server_id: server.id().to_string(),
        server_name: server.name().to_string(),
        version: crate::VERSION.to_string(),
        proto: ROUTE_PROTO,
        go: GO_VERSION.to_string(),
        host,
        port,
        headers: config.headers,
        max_payload: i64::from(config.max_payload),
        auth_required: cluster.auth.is_some(),
        tls_required: cluster.tls.is_some(),
        tls_verify: cluster.tls.is_some(),
        nonce: nonce.unwrap_or_default(),
        cluster: name,
        cluster_dynamic: dynamic,
        connect_urls: match (cluster.no_advertise, start) {
            (false, Some(s)) => s.client_urls,
            _ => Vec::new(),
        },
        compression: "off".to_string(),
        lnoc: true,
        lnocu: true,
        ln: true,
        route_pool_size: i64::try_from(cluster.pool_size).unwrap_or(0),
        ..RouteInfo::default()
    };
    if cluster.advertise.is_some() {
        // An advertised address is the one to dial, also when gossiped.
        let host = if info.host.contains(':') {
            format!("[{}]", info.host)
        } else {
            info.host.clone()
        };
        info.ip = format!("nats-route://{host}:{}/", info.port);
    }
    if let Some(p) = &cluster.permissions {
        let wire = |r: &crate::auth::SubjectRules| proto::route::SubjectPermission {
            allow: r.allow.clone(),
            deny: r.deny.clone(),
        };
        info.import = p.import.as_ref().map(wire);
        info.export = p.export.as_ref().map(wire);
    }
    match slot {
        Some(RouteSlot::Pool(i)) => info.route_pool_idx = i64::try_from(*i).unwrap_or(0),
        Some(RouteSlot::Pinned(a)) => info.route_account = a.clone(),
        None => {}
    }
    info
}

/// Our CONNECT on a solicited route, with the URL's credentials.
pub(crate) fn our_connect(server: &Server, user: Option<&str>, pass: Option<&str>) -> RouteConnect {
    let (name, dynamic) = server.routes().cluster_name();
    let mut c = RouteConnect::reference(server.id(), &name, server.config().headers);
    c.cluster_dynamic = dynamic;
    c.tls_required = server
        .config()
        .cluster
        .as_ref()
        .is_some_and(|c| c.tls.is_some());
    c.user = user.unwrap_or_default().to_string();
    c.pass = pass.unwrap_or_default().to_string();
    c
}

/// Why a peer's CONNECT is refused: the `-ERR` text to send (if any) and the close reason.
pub(crate) struct Refusal {
    pub text: Option<String>,
    pub reason: crate::CloseReason,
    pub log: String,
}

/// Checks a peer's CONNECT against our cluster settings, adopting its cluster name when
/// ours was generated.
pub(crate) fn check_connect(
    server: &Server,
    cluster: &ClusterConfig,
    c: &RouteConnect,
) -> Result<(), Refusal> {
    if !c.lang.is_empty() || !c.gateway.is_empty() {
        return Err(Refusal {
            text: None,
            reason: crate::CloseReason::ProtocolViolation,
            log: "Connection is not a route".to_string(),
        });
    }
    if let Some(auth) = &cluster.auth {
        let ok = c.user == auth.user && auth.password.verify(&c.pass);
        if !ok {
            return Err(Refusal {
                text: Some("Authorization Violation".to_string()),
                reason: crate::CloseReason::AuthenticationViolation,
                log: format!("authentication error - User {:?}", c.user),
            });
        }
    }
    let table = server.routes();
    let (ours, our_dynamic) = table.cluster_name();
    if c.cluster != ours {
        if our_dynamic || c.cluster_dynamic {
            table.adopt_name(&c.cluster, c.cluster_dynamic);
        } else {
            return Err(Refusal {
                text: Some(format!(
                    "Rejecting connection, cluster name {:?} does not match {:?}",
                    c.cluster, ours
                )),
                reason: crate::CloseReason::ClusterNameConflict,
                log: format!(
                    "Rejecting connection, cluster name {:?} does not match {:?}",
                    c.cluster, ours
                ),
            });
        }
    }
    Ok(())
}
