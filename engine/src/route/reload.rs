//! Config reload of the `cluster {}` options, as the reference does it: the cluster listener
//! cannot move (host and port refused), a new name is taken at once, routes added to
//! `routes` are dialled and removed ones closed and no longer dialled, and changes that
//! decide how routes are set up (authorization, pool size, dedicated accounts, permissions)
//! make the affected route connections start again under the new options.

use crate::close::CloseReason;
use crate::config::ClusterConfig;
use crate::server::{ReloadError, Server};

use super::RouteUrl;

/// The cluster listener as the reference compares it on reload (no cluster: no host,
/// port 0).
fn listener(c: Option<&ClusterConfig>) -> (String, u16) {
    c.map_or((String::new(), 0), |c| (c.host.clone(), c.port))
}

/// Refuses a reload that moves the cluster listener, in the reference's words
/// (`config reload not supported for cluster port: old=6222, new=6223`). A new port of 0
/// (`-1`/`0`: any free port) keeps the one listened on.
pub(crate) fn check(
    old: Option<&ClusterConfig>,
    new: Option<&ClusterConfig>,
) -> Result<(), ReloadError> {
    let (old_host, old_port) = listener(old);
    let (new_host, mut new_port) = listener(new);
    if new_port == 0 && old.is_some() && new.is_some() {
        new_port = old_port;
    }
    if old_host != new_host && old.is_some() && new.is_some() {
        return Err(ReloadError::NotSupported {
            option: "cluster host",
            old: old_host,
            new: new_host,
        });
    }
    if old_port != new_port {
        return Err(ReloadError::NotSupported {
            option: "cluster port",
            old: old_port.to_string(),
            new: new_port.to_string(),
        });
    }
    Ok(())
}

/// What a reload changed in the cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterReload {
    /// The new cluster name, when it changed.
    pub name: Option<String>,
    /// The configured route of each connection closed because its route was removed from
    /// `routes` (one entry per connection, as the reference logs `Removed route <url>`).
    pub removed_routes: Vec<RouteUrl>,
    /// Route connections closed to start again under new options.
    pub restarted: usize,
}

/// Whether the cluster options apart from the routes to dial and the listener changed (what
/// the reference reports as `Reloaded: cluster`).
pub fn settings_changed(old: &ClusterConfig, new: &ClusterConfig) -> bool {
    // The listener is compared apart (it cannot change), the routes too.
    let strip = |c: &ClusterConfig| ClusterConfig {
        routes: Vec::new(),
        host: String::new(),
        port: 0,
        ..c.clone()
    };
    strip(old) != strip(new)
}

/// Applies the cluster part of a reload once the new options are in force.
pub(crate) fn apply(
    server: &Server,
    old: Option<&ClusterConfig>,
    new: Option<&ClusterConfig>,
) -> ClusterReload {
    let mut out = ClusterReload::default();
    let (Some(old), Some(new)) = (old, new) else {
        return out;
    };
    let table = server.routes();
    if let Some(name) = new.name.as_ref().filter(|n| old.name.as_ref() != Some(*n)) {
        table.set_name(name.clone(), false);
        out.name = Some(name.clone());
    }
    // Routes removed from the configuration: their connections close and are not dialled
    // again; added ones are dialled.
    let removed: Vec<&RouteUrl> = old
        .routes
        .iter()
        .filter(|u| !new.routes.contains(u))
        .collect();
    for h in table.routes() {
        let url = h.redial.lock().as_ref().map(|d| d.url.clone());
        let Some(url) = url.filter(|u| removed.contains(&u)) else {
            continue;
        };
        if let Some(dial) = h.redial.lock().take() {
            table.dial_done(&dial);
        }
        h.configured
            .store(false, std::sync::atomic::Ordering::Release);
        h.shared.outbound.close(CloseReason::ClientClosed);
        h.shared.outbound.flush();
        out.removed_routes.push(url);
    }
    for url in new.routes.iter().filter(|u| !old.routes.contains(u)) {
        server.dial_route_set(url.clone(), true);
    }
    // How routes are set up changed: every connection starts again (the ones we dialled
    // are dialled again, peers dial theirs again), as the reference reconnects its routes
    // after a pool or account change. A new authorization only concerns the routes peers
    // dialled (they authenticate again).
    let setup = old.pool_size != new.pool_size
        || old.pinned_accounts != new.pinned_accounts
        || old.permissions != new.permissions;
    let auth = old.auth != new.auth;
    if setup || auth {
        for h in table.routes() {
            if h.is_removed() || (!setup && h.solicited) {
                continue;
            }
            h.shared.outbound.close(CloseReason::ClientClosed);
            h.shared.outbound.flush();
            out.restarted += 1;
        }
    }
    out
}

/// Whether `url` is still a configured route (a dial for a route removed by a reload is
/// dropped instead of retried).
pub(crate) fn still_configured(server: &Server, url: &RouteUrl) -> bool {
    server
        .config()
        .cluster
        .as_ref()
        .is_some_and(|c| c.routes.contains(url))
}
