//! Which monitoring listener to start, from the flags and the configuration file, with the
//! reference's checks: HTTP or HTTPS (never both), HTTPS only with a TLS certificate.

use std::sync::Arc;

/// The protocol the monitor speaks.
#[derive(Clone)]
pub enum Scheme {
    /// Plain HTTP (`-m`, `http`, `http_port`, `monitor_port`).
    Http,
    /// HTTPS (`-ms`, `https`, `https_port`) with this TLS configuration.
    Https(Arc<rustls::ServerConfig>),
}

impl std::fmt::Debug for Scheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Scheme {
    /// `http` or `https`, as the log line and URLs write it.
    pub fn name(&self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https(_) => "https",
        }
    }
}

/// A monitoring listener to start.
#[derive(Debug, Clone)]
pub struct MonitorSettings {
    /// Host to bind (`http_host` of the file, else the client host).
    pub host: String,
    /// Port to bind (0: any free port).
    pub port: u16,
    /// HTTP or HTTPS.
    pub scheme: Scheme,
    /// `http_base_path` as written (empty: none).
    pub base_path: String,
}

/// A monitoring setup the reference refuses; `Display` is its wording (after
/// `Can't start monitoring: `).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// Both an HTTP and an HTTPS port.
    #[error("can't specify both HTTP ({http}) and HTTPs ({https}) ports")]
    BothPorts {
        /// The HTTP port as given.
        http: i64,
        /// The HTTPS port as given.
        https: i64,
    },
    /// HTTPS without a TLS certificate and key.
    #[error("TLS cert and key required for HTTPS")]
    TlsRequired,
    /// A port outside 0..=65535 (other than -1).
    #[error("invalid monitor port {0}")]
    InvalidPort(i64),
}

/// What the command line and the file ask for, merged (the command line wins).
#[derive(Debug, Clone, Default)]
pub struct Requested<'a> {
    /// HTTP port (`-1`: any free port, `0` or absent: off).
    pub http_port: Option<i64>,
    /// HTTPS port (same conventions).
    pub https_port: Option<i64>,
    /// Host of the file's `http`/`https` option, if any.
    pub http_host: Option<&'a str>,
    /// The client listener's host (the default).
    pub client_host: &'a str,
    /// `http_base_path`.
    pub base_path: Option<&'a str>,
}

fn port(p: i64) -> Result<u16, SettingsError> {
    if p < 0 {
        Ok(0)
    } else {
        u16::try_from(p).map_err(|_| SettingsError::InvalidPort(p))
    }
}

/// Decides the listener. `tls` builds the HTTPS configuration; it is only called when HTTPS
/// is asked for, and returns `None` when no certificate is configured.
pub fn resolve<F>(req: &Requested<'_>, tls: F) -> Result<Option<MonitorSettings>, SettingsError>
where
    F: FnOnce() -> Option<Arc<rustls::ServerConfig>>,
{
    let http = req.http_port.unwrap_or(0);
    let https = req.https_port.unwrap_or(0);
    if http != 0 && https != 0 {
        return Err(SettingsError::BothPorts { http, https });
    }
    let (port, scheme) = if http != 0 {
        (port(http)?, Scheme::Http)
    } else if https != 0 {
        let config = tls().ok_or(SettingsError::TlsRequired)?;
        (port(https)?, Scheme::Https(config))
    } else {
        return Ok(None);
    };
    let host = req
        .http_host
        .filter(|h| !h.is_empty())
        .unwrap_or(req.client_host);
    Ok(Some(MonitorSettings {
        host: host.to_string(),
        port,
        scheme,
        base_path: req.base_path.unwrap_or_default().to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_tls() -> Option<Arc<rustls::ServerConfig>> {
        None
    }

    #[test]
    fn off_unless_a_port_is_given() {
        let req = Requested {
            client_host: "0.0.0.0",
            ..Requested::default()
        };
        assert!(resolve(&req, no_tls).unwrap().is_none());
        let req = Requested {
            http_port: Some(0),
            https_port: Some(0),
            ..req
        };
        assert!(resolve(&req, no_tls).unwrap().is_none());
    }

    #[test]
    fn reference_refusals() {
        let req = Requested {
            http_port: Some(8222),
            https_port: Some(-1),
            client_host: "0.0.0.0",
            ..Requested::default()
        };
        let e = resolve(&req, no_tls).unwrap_err();
        assert_eq!(
            e.to_string(),
            "can't specify both HTTP (8222) and HTTPs (-1) ports"
        );
        let req = Requested {
            http_port: None,
            ..req
        };
        let e = resolve(&req, no_tls).unwrap_err();
        assert_eq!(e.to_string(), "TLS cert and key required for HTTPS");
        let req = Requested {
            http_port: Some(70000),
            https_port: None,
            ..req
        };
        assert_eq!(
            resolve(&req, no_tls).unwrap_err(),
            SettingsError::InvalidPort(70000)
        );
    }

    #[test]
    fn file_host_and_base_path() {
        let req = Requested {
            http_port: Some(-1),
            http_host: Some("127.0.0.1"),
            client_host: "0.0.0.0",
            base_path: Some("/mon"),
            ..Requested::default()
        };
        let s = resolve(&req, no_tls).unwrap().unwrap();
        assert_eq!((s.host.as_str(), s.port), ("127.0.0.1", 0));
        assert_eq!(s.base_path, "/mon");
        assert_eq!(s.scheme.name(), "http");
        let req = Requested {
            http_host: Some(""),
            ..req
        };
        assert_eq!(resolve(&req, no_tls).unwrap().unwrap().host, "0.0.0.0");
    }
}
