//! `http_base_path`: every endpoint under the prefix, the index page at the prefix with links
//! under it, the prefix normalised as the reference normalises it (missing or extra
//! slashes), and unclean request paths redirected; both servers asked the same requests.

mod monitoring_http;

use std::collections::BTreeSet;
use std::path::Path;

use conformance::server::free_port;
use conformance::{our_binary, reference_binary, ServerProcess};
use monitoring_http::{get, json, Http};

/// A server whose monitor listens on 127.0.0.1 with `http_base_path` set to `base`.
fn start(bin: &Path, base: &str, tag: &str) -> (ServerProcess, u16, std::path::PathBuf) {
    let http = free_port();
    let conf = std::env::temp_dir().join(format!(
        "conformance-base-path-{tag}-{http}-{}.conf",
        std::process::id()
    ));
    std::fs::write(
        &conf,
        format!("http: \"127.0.0.1:{http}\"\nhttp_base_path: \"{base}\"\n"),
    )
    .expect("write config");
    let server = ServerProcess::start(bin, &["-c", &conf.display().to_string()]);
    (server, http, conf)
}

/// Status, location and (for errors) body: what must be equal on both servers.
fn outcome(r: &Http) -> (u16, Option<String>, Option<String>) {
    let body = (r.status != 200).then(|| r.body.clone());
    (r.status, r.location.clone(), body)
}

/// The `href=` targets of an index page.
fn links(body: &str) -> BTreeSet<String> {
    body.split("href=")
        .skip(1)
        .filter_map(|rest| rest.split(['>', ' ', '"']).next())
        .filter(|l| l.starts_with("./"))
        .map(str::to_string)
        .collect()
}

/// Requests asked of both servers for a base path whose clean form is `root`.
fn requests(root: &str) -> Vec<String> {
    let under = |e: &str| {
        if root == "/" {
            format!("/{e}")
        } else {
            format!("{root}/{e}")
        }
    };
    vec![
        root.to_string(),
        format!("{root}/"),
        under("varz"),
        under("connz?subs=1"),
        under("subsz"),
        under("subscriptionsz"),
        under("healthz"),
        under("varz/"),
        under("nope"),
        "/varz".to_string(),
        "/".to_string(),
        format!("/{}", under("varz")),
        format!("{root}/./varz?x=1"),
        under("connz/../varz"),
    ]
}

#[test]
fn base_paths_match_the_reference() {
    // (as written in the file, its clean form)
    let cases = [
        ("mon/", "/mon"),
        ("/mon", "/mon"),
        ("//a//b/", "/a/b"),
        ("/", "/"),
    ];
    for (i, (base, root)) in cases.iter().enumerate() {
        let tag = format!("{i}");
        let (reference, ref_http, ref_conf) = start(&reference_binary(), base, &tag);
        let (ours, our_http, our_conf) = start(&our_binary(), base, &tag);
        let mut failures = Vec::new();
        for path in requests(root) {
            let (r, o) = (get(ref_http, &path), get(our_http, &path));
            if outcome(&r) != outcome(&o) {
                failures.push(format!(
                    "base {base:?} GET {path}:\n  reference {:?}\n  ours      {:?}",
                    outcome(&r),
                    outcome(&o)
                ));
            }
        }
        // The index links every endpoint under the base, as the reference writes them.
        let (r, o) = (get(ref_http, root), get(our_http, root));
        let (rl, ol) = (links(&r.body), links(&o.body));
        let ours_only: Vec<_> = ol
            .difference(&rl)
            .filter(|l| !l.ends_with("/metrics"))
            .collect();
        if !ours_only.is_empty() || !ol.iter().any(|l| l.ends_with("varz")) {
            failures.push(format!(
                "base {base:?}: index links\n  reference {rl:?}\n  ours      {ol:?}"
            ));
        }
        let varz_path = if *root == "/" {
            "/varz".to_string()
        } else {
            format!("{root}/varz")
        };
        let (rv, ov) = (json(ref_http, &varz_path), json(our_http, &varz_path));
        // The option is reported as written; requests are counted per endpoint.
        for key in [
            "http_base_path",
            "http_req_stats",
            "http_host",
            "https_port",
        ] {
            if rv[key] != ov[key] {
                failures.push(format!(
                    "base {base:?} {key}: reference {}, ours {}",
                    rv[key], ov[key]
                ));
            }
        }
        assert_eq!(ov["http_port"], our_http);
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
        drop(reference);
        drop(ours);
        let _ = std::fs::remove_file(ref_conf);
        let _ = std::fs::remove_file(our_conf);
    }
}

#[test]
fn unclean_paths_redirect_without_a_base_path() {
    let reference = ServerProcess::start(&reference_binary(), &["-m", &free_port().to_string()]);
    let ours = ServerProcess::start(&our_binary(), &["-m", &free_port().to_string()]);
    let port_of = |s: &ServerProcess| -> u16 {
        let args = s
            .log_lines()
            .into_iter()
            .find_map(|l| {
                l.split("Starting http monitor on ")
                    .nth(1)
                    .map(str::to_string)
            })
            .expect("monitor log line");
        args.rsplit(':')
            .next()
            .and_then(|p| p.trim().parse().ok())
            .expect("monitor port")
    };
    let (rp, op) = (port_of(&reference), port_of(&ours));
    for path in [
        "//varz",
        "/./connz?state=all",
        "/a/../subsz",
        "/varz//",
        "/.",
    ] {
        let (r, o) = (get(rp, path), get(op, path));
        assert_eq!(r.status, 307, "{path}: {r:?}");
        assert_eq!(outcome(&r), outcome(&o), "{path}");
        assert_eq!(r.content_type, o.content_type, "{path}");
    }
}
