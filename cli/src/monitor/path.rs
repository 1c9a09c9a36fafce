//! URL paths as the reference's HTTP router sees them: lexical cleaning (Go's `path.Clean`),
//! the `http_base_path` prefix, and where each endpoint lives under it.

/// Lexically cleans a slash-separated path as Go's `path.Clean` does: repeated slashes become
/// one, `.` elements go, `..` removes the element before it (never above the root), and no
/// trailing slash is kept except for the root itself. An empty result is `.`.
pub fn clean(p: &str) -> String {
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// The canonical form of a request path the router answers directly (Go's `ServeMux`
/// cleaning): rooted and cleaned, with a trailing slash kept when one was given. A request
/// whose path differs from this is redirected to it.
pub fn canonical_request_path(p: &str) -> String {
    if p.is_empty() {
        return "/".to_string();
    }
    let rooted = if p.starts_with('/') {
        p.to_string()
    } else {
        format!("/{p}")
    };
    let mut np = clean(&rooted);
    if rooted.ends_with('/') && np != "/" {
        np.push('/');
    }
    np
}

/// Where the endpoints are served: the `http_base_path` option made rooted and clean
/// (`mon/` and `//mon` are both `/mon`; empty is `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasePath {
    /// Cleaned, rooted, no trailing slash except for the root.
    root: String,
}

impl BasePath {
    /// The base path of the option's value as written.
    pub fn new(option: &str) -> BasePath {
        BasePath {
            root: clean(&format!("/{option}")),
        }
    }

    /// The path of the index page (the base itself).
    pub fn index(&self) -> &str {
        &self.root
    }

    /// The path of `endpoint` (`varz`, ...) under the base.
    pub fn endpoint(&self, endpoint: &str) -> String {
        if self.root == "/" {
            format!("/{endpoint}")
        } else {
            format!("{}/{endpoint}", self.root)
        }
    }

    /// The endpoint a request path names, if it is one under the base (`Some("")` for the
    /// index page).
    pub fn strip<'a>(&self, path: &'a str) -> Option<&'a str> {
        if path == self.index() {
            return Some("");
        }
        let rest = if self.root == "/" {
            path.strip_prefix('/')?
        } else {
            path.strip_prefix(self.root.as_str())?.strip_prefix('/')?
        };
        (!rest.is_empty()).then_some(rest)
    }

    /// The link the index page gives to `endpoint`: relative to the page, as the reference
    /// writes it (`./varz`, or `./mon/varz` under `/mon`).
    pub fn link(&self, endpoint: &str) -> String {
        format!(".{}", self.endpoint(endpoint))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_matches_go() {
        for (input, want) in [
            ("", "."),
            ("/", "/"),
            ("//mon//x/", "/mon/x"),
            ("/mon/./x", "/mon/x"),
            ("/mon/../x", "/x"),
            ("/../..", "/"),
            ("a/../..", ".."),
            ("a/b/", "a/b"),
        ] {
            assert_eq!(clean(input), want, "{input:?}");
        }
    }

    #[test]
    fn request_paths_keep_a_trailing_slash() {
        assert_eq!(canonical_request_path("/varz/"), "/varz/");
        assert_eq!(canonical_request_path("//varz"), "/varz");
        assert_eq!(canonical_request_path("/connz/../varz"), "/varz");
        assert_eq!(canonical_request_path(""), "/");
        assert_eq!(canonical_request_path("/"), "/");
        assert_eq!(canonical_request_path("/a/./"), "/a/");
    }

    #[test]
    fn base_path_forms_the_reference_accepts() {
        for option in ["mon", "/mon", "/mon/", "mon/", "//mon"] {
            let b = BasePath::new(option);
            assert_eq!(b.index(), "/mon", "{option:?}");
            assert_eq!(b.endpoint("varz"), "/mon/varz");
            assert_eq!(b.link("varz"), "./mon/varz");
            assert_eq!(b.strip("/mon/varz"), Some("varz"));
            assert_eq!(b.strip("/mon"), Some(""));
            assert_eq!(b.strip("/monvarz"), None);
            assert_eq!(b.strip("/mon/"), None);
            assert_eq!(b.strip("/varz"), None);
        }
        for option in ["", "/"] {
            let b = BasePath::new(option);
            assert_eq!(b.index(), "/");
            assert_eq!(b.link("varz"), "./varz");
            assert_eq!(b.strip("/varz"), Some("varz"));
            assert_eq!(b.strip("/"), Some(""));
        }
        assert_eq!(BasePath::new("/mon/../x").endpoint("connz"), "/x/connz");
    }
}
