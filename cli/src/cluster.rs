//! Clustering options from the command line (`--cluster`, `--routes`, ...) merged over the
//! file's `cluster {}` block, and the cluster listener.

use std::net::{SocketAddr, TcpListener, ToSocketAddrs};

use engine::conf::cluster_block::ClusterFileOptions;
use engine::config::{ClusterConfig, RouteAuth, RoutePermissions};
use engine::route::RouteUrl;

use crate::flags::Flags;

/// The cluster options of the flags over those of the file; `None` without a cluster.
/// Errors are worded as the reference words them.
pub fn config(
    flags: &Flags,
    file: Option<&ClusterFileOptions>,
) -> Result<Option<ClusterConfig>, String> {
    let f = &flags.cluster;
    // A file block without a port does not start a cluster listener (the reference needs
    // a port).
    if f.listen.is_none() && file.is_none_or(|f| f.port.is_none()) {
        if f.routes.is_some() {
            return Err("solicited routes require cluster capabilities, e.g. --cluster".into());
        }
        return Ok(None);
    }
    let mut c = ClusterConfig::default();
    if let Some(file) = file {
        if let Some(t) = &file.tls {
            c.tls = Some(engine::config::RouteTlsSettings {
                timeout: t.timeout.unwrap_or(std::time::Duration::from_secs(2)),
            });
        }
        c.name = file.name.clone();
        if let Some(h) = &file.host {
            c.host = h.clone();
        }
        if let Some(p) = file.port {
            c.port = port(p)?;
        }
        c.advertise = file.advertise.clone();
        c.no_advertise = file.no_advertise.unwrap_or(false);
        for r in &file.routes {
            c.routes.push(route_url(r)?);
        }
        if let Some(user) = &file.user {
            c.auth = Some(RouteAuth {
                user: user.clone(),
                password: engine::auth::Secret::new(file.password.clone().unwrap_or_default()),
            });
        }
        if let Some(t) = file.auth_timeout {
            c.auth_timeout = t;
        }
        if let Some(n) = file.connect_retries {
            c.connect_retries = u32::try_from(n.max(0)).unwrap_or(u32::MAX);
        }
        if let Some(n) = file.pool_size {
            c.pool_size = usize::try_from(n.max(0)).unwrap_or(0);
        }
        c.pinned_accounts = file.accounts.clone();
        if file.import.is_some() || file.export.is_some() {
            c.permissions = Some(RoutePermissions {
                import: file.import.clone(),
                export: file.export.clone(),
            });
        }
    }
    if let Some(listen) = &f.listen {
        let url = listen_url(listen)?;
        c.host = url.host;
        c.port = url.port;
        if let Some(user) = url.user {
            c.auth = Some(RouteAuth {
                user,
                password: engine::auth::Secret::new(url.password.unwrap_or_default()),
            });
        }
    }
    if let Some(routes) = &f.routes {
        c.routes = routes
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(route_url)
            .collect::<Result<_, _>>()?;
    }
    if let Some(name) = &f.name {
        if name.contains(' ') {
            return Err("cluster name cannot contain spaces".into());
        }
        c.name = Some(name.clone());
    }
    if let Some(a) = &f.advertise {
        c.advertise = Some(a.clone());
    }
    if let Some(n) = f.no_advertise {
        c.no_advertise = n;
    }
    if let Some(n) = f.connect_retries {
        c.connect_retries = u32::try_from(n.max(0)).unwrap_or(u32::MAX);
    }
    Ok(Some(c))
}

fn port(p: i64) -> Result<u16, String> {
    if p <= 0 {
        Ok(0)
    } else {
        u16::try_from(p).map_err(|_| format!("invalid cluster port {p}"))
    }
}

/// `--cluster nats://[user:pass@]host:port` (`-1`: any free port).
fn listen_url(s: &str) -> Result<RouteUrl, String> {
    if !s.contains("://") {
        return Err(format!(
            "parse {s:?}: first path segment in URL cannot contain colon"
        ));
    }
    let (scheme, rest) = s.split_once("://").unwrap_or(("nats", s));
    let hostport = rest
        .rsplit('@')
        .next()
        .unwrap_or(rest)
        .trim_end_matches('/');
    if !hostport.contains(':') || hostport.ends_with(']') {
        return Err(format!("address {hostport}: missing port in address"));
    }
    // `nats://:6222` listens on every address; `-1` picks a free port.
    let rest = rest.replace("@:", "@0.0.0.0:");
    let rest = match rest.strip_prefix(':') {
        Some(port) => format!("0.0.0.0:{port}"),
        None => rest,
    };
    let normalized = format!("{scheme}://{}", rest.replace(":-1", ":0"));
    RouteUrl::parse(&normalized).map_err(|e| e.to_string())
}

fn route_url(s: &str) -> Result<RouteUrl, String> {
    RouteUrl::parse(s).map_err(|e| format!("error parsing route url [{s:?}]: {e}"))
}

/// The rustls configurations of route TLS (the `tls {}` block of `cluster {}`): certificates
/// are presented and verified both ways, as the reference does on routes.
pub fn route_tls(
    file: Option<&ClusterFileOptions>,
) -> Result<Option<crate::runtime::RouteTls>, String> {
    let Some(t) = file.and_then(|f| f.tls.as_ref()) else {
        return Ok(None);
    };
    let (Some(cert), Some(key)) = (t.cert_file.as_deref(), t.key_file.as_deref()) else {
        return Err("missing 'cert_file' in cluster tls configuration".to_string());
    };
    let files = crate::tls::TlsFiles {
        cert_file: std::path::Path::new(cert),
        key_file: std::path::Path::new(key),
        ca_file: t.ca_file.as_deref().map(std::path::Path::new),
        verify: true,
        tls13_only: t.tls13_only,
    };
    let server = crate::tls::server_config(files).map_err(|e| e.to_string())?;
    let client = crate::tls::client_config(files).map_err(|e| e.to_string())?;
    Ok(Some(crate::runtime::RouteTls { server, client }))
}

/// Binds the cluster listener.
pub fn bind(c: &ClusterConfig) -> Result<TcpListener, String> {
    let addr: SocketAddr = (c.host.as_str(), c.port)
        .to_socket_addrs()
        .map_err(|e| format!("Error listening on router port: {}:{}, {e}", c.host, c.port))?
        .next()
        .ok_or_else(|| format!("no address for {}", c.host))?;
    TcpListener::bind(addr).map_err(|e| {
        format!(
            "Error listening on router port: {}:{}, \"listen tcp {addr}: {e}\"",
            c.host, c.port
        )
    })
}

/// This server's client URLs as peers advertise them: the client host and port, or for
/// an any-address listener every address other hosts reach us by (IPv4 and IPv6).
pub fn client_urls(host: &str, port: u16) -> Vec<String> {
    let any = host.is_empty() || host == "0.0.0.0" || host == "::" || host == "[::]";
    if !any {
        return vec![crate::host_port(host, port)];
    }
    let ips = crate::host_ips::global_unicast_ips();
    if ips.is_empty() {
        return vec![crate::host_port("127.0.0.1", port)];
    }
    ips.iter()
        .map(|ip| crate::host_port(&ip.to_string(), port))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(args: &[&str]) -> Flags {
        crate::flags::parse(args.iter().map(Into::into).collect()).unwrap()
    }

    #[test]
    fn flags_as_the_reference_reads_them() {
        let c = config(
            &flags(&[
                "--cluster",
                "nats://ruser:pw@127.0.0.1:6333",
                "--routes",
                "nats-route://ruser:pw@127.0.0.1:6334, nats://127.0.0.1:6335",
                "--cluster_name",
                "t",
            ]),
            None,
        )
        .unwrap()
        .unwrap();
        assert_eq!((c.host.as_str(), c.port), ("127.0.0.1", 6333));
        assert_eq!(c.auth.as_ref().map(|a| a.user.as_str()), Some("ruser"));
        assert_eq!(c.routes.len(), 2);
        assert_eq!(c.routes[0].password.as_deref(), Some("pw"));
        assert_eq!(c.name.as_deref(), Some("t"));
        assert_eq!(
            config(&flags(&["--routes", "nats://h:1"]), None).unwrap_err(),
            "solicited routes require cluster capabilities, e.g. --cluster"
        );
        assert!(config(&flags(&["--cluster", "127.0.0.1:1"]), None).is_err());
        assert_eq!(
            config(&flags(&["--cluster", "nats://127.0.0.1"]), None).unwrap_err(),
            "address 127.0.0.1: missing port in address"
        );
        let c = config(&flags(&["--cluster", "nats://:6333"]), None)
            .unwrap()
            .unwrap();
        assert_eq!((c.host.as_str(), c.port), ("0.0.0.0", 6333));
        let c = config(&flags(&["--cluster", "nats://127.0.0.1:-1"]), None)
            .unwrap()
            .unwrap();
        assert_eq!(c.port, 0);
        assert_eq!(c.name, None);
    }
}
