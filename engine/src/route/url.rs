//! Route URLs: `nats-route://user:pass@host:port`, `nats://host:port`.

/// Where to dial a route, with the credentials to present.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RouteUrl {
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// Port.
    pub port: u16,
    /// User from the URL, if any.
    pub user: Option<String>,
    /// Password from the URL, if any.
    pub password: Option<String>,
}

/// Why a route URL could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteUrlError {
    /// The URL has no `scheme://` or an unexpected scheme.
    #[error("invalid route URL scheme in {0:?}")]
    Scheme(String),
    /// The host or port is missing or not a number.
    #[error("invalid route URL address in {0:?}")]
    Address(String),
}

impl RouteUrl {
    /// Reads `scheme://[user[:pass]@]host[:port][/]`; the port defaults to 6222 (the schemes
    /// the reference accepts for routes are `nats-route`, `nats` and `route`; TLS ones too).
    pub fn parse(url: &str) -> Result<RouteUrl, RouteUrlError> {
        let url = url.trim();
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(RouteUrlError::Scheme(url.to_string()));
        };
        if !matches!(
            scheme.to_ascii_lowercase().as_str(),
            "nats-route" | "nats" | "route" | "tls" | "nats+tls" | "nats-route+tls"
        ) {
            return Err(RouteUrlError::Scheme(url.to_string()));
        }
        let rest = rest.split(['/', '?']).next().unwrap_or_default();
        let (userinfo, hostport) = match rest.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, rest),
        };
        let (user, password) = match userinfo {
            Some(u) => match u.split_once(':') {
                Some((u, p)) => (Some(percent_decode(u)), Some(percent_decode(p))),
                None => (Some(percent_decode(u)), None),
            },
            None => (None, None),
        };
        let (host, port) =
            split_host_port(hostport).ok_or_else(|| RouteUrlError::Address(url.to_string()))?;
        if host.is_empty() {
            return Err(RouteUrlError::Address(url.to_string()));
        }
        Ok(RouteUrl {
            host: host.to_string(),
            port,
            user: user.filter(|u| !u.is_empty()),
            password,
        })
    }

    /// `host:port` as dialled (IPv6 in brackets).
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The URL with the password masked, as the reference shows a route it dials again
    /// (`nats-route://user:xxxxx@h:p`).
    pub fn masked(&self) -> String {
        let userinfo = match (&self.user, &self.password) {
            (Some(u), Some(_)) => format!("{u}:xxxxx@"),
            (Some(u), None) => format!("{u}@"),
            (None, Some(_)) => ":xxxxx@".to_string(),
            (None, None) => String::new(),
        };
        format!("nats-route://{userinfo}{}", self.address())
    }

    /// The URL without credentials, as the reference shows routes (`nats-route://h:p/`).
    pub fn redacted(&self) -> String {
        format!("nats-route://{}", self.address())
    }
}

/// `host[:port]` or `[v6][:port]`; the port defaults to 6222.
fn split_host_port(s: &str) -> Option<(&str, u16)> {
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if after.is_empty() => 6222,
            None => return None,
        };
        return Some((host, port));
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => Some((h, p.parse().ok()?)),
        Some(_) => None,
        None => Some((s, 6222)),
    }
}

/// Decodes `%XX` escapes of URL user info.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn masked_as_the_reference_shows_a_redial() {
        let u = RouteUrl::parse("nats-route://ruser:T0pS3cr3t@127.0.0.1:6222").unwrap();
        assert_eq!(u.masked(), "nats-route://ruser:xxxxx@127.0.0.1:6222");
        let u = RouteUrl::parse("nats://127.0.0.1:6223").unwrap();
        assert_eq!(u.masked(), "nats-route://127.0.0.1:6223");
    }

    use super::*;

    #[test]
    fn parses_the_reference_forms() {
        let u = RouteUrl::parse("nats-route://ruser:T0pS3cr3t@127.0.0.1:6222").unwrap();
        assert_eq!(u.host, "127.0.0.1");
        assert_eq!(u.port, 6222);
        assert_eq!(u.user.as_deref(), Some("ruser"));
        assert_eq!(u.password.as_deref(), Some("T0pS3cr3t"));
        let u = RouteUrl::parse("nats://[::1]:7000/").unwrap();
        assert_eq!(u.address(), "[::1]:7000");
        assert_eq!(u.user, None);
        assert_eq!(RouteUrl::parse("nats://h").unwrap().port, 6222);
        assert!(RouteUrl::parse("http://h:1").is_err());
        assert!(RouteUrl::parse("h:1").is_err());
        assert!(RouteUrl::parse("nats://h:x").is_err());
    }
}
