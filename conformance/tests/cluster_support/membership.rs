//! Joining and advertising: the container seed scenario, refused routes,
//! dynamic cluster names, `connect_urls`, `--no_advertise`, `--cluster_advertise`.

use super::*;

/// The container scenario: a server with the default container
/// configuration, a second one with the same configuration plus
/// `--routes=nats-route://ruser:T0pS3cr3t@…` and `-DV`; the second one's
/// log shows the route connected and the first one's subscriptions arriving.
pub fn seed_scenario(kinds: [Kind; 2], cluster_name: &str) {
    let mut cluster = Cluster::new(cluster_name);
    let config = container_config();
    let auth = Some(RouteAuth::container_default());
    let first = cluster.add(
        cluster
            .spec(kinds[0], "seed")
            .via(ClusterVia::Verbatim)
            .auth(auth.clone())
            .config(&config),
    );
    let seed_url = cluster.node(first).route_url();
    assert!(seed_url.starts_with("nats-route://ruser:T0pS3cr3t@127.0.0.1:"));
    let second = cluster.add(
        cluster
            .spec(kinds[1], "joiner")
            .via(ClusterVia::Verbatim)
            .auth(auth)
            .config(&config)
            .route(seed_url)
            .args(&["-DV"]),
    );
    if let Err(e) = cluster.wait_for_mesh(MESH_TIMEOUT) {
        panic!("{e}\n{}", cluster.logs());
    }
    let joiner = cluster.node(second);
    let log_bound = Duration::from_secs(10);
    assert!(
        joiner.wait_for_log("Route connection created", log_bound),
        "no route-connected line in the joiner's log:\n{}",
        cluster.logs()
    );
    let rt = runtime();
    rt.block_on(async {
        let on_seed = connect_anonymous(&cluster.node(first).url()).await;
        let on_joiner = connect_anonymous(&cluster.node(second).url()).await;
        let mut plain = subscribe(&on_seed, "seed.sub").await;
        let _queue = queue_subscribe(&on_seed, "seed.q", "grp").await;
        for needle in ["<<- [RS+ $G seed.sub]", "<<- [RS+ $G seed.q grp 1]"] {
            assert!(
                joiner.wait_for_log(needle, log_bound),
                "no {needle:?} trace line in the joiner's log:\n{}",
                cluster.logs()
            );
        }
        wait_interest(&on_joiner, "seed.sub", &mut [&mut plain]).await;
        send_and_expect(&on_joiner, "seed.sub", 0..10, &mut [&mut plain]).await;
    });
}

/// With `--no_advertise` on every node, clients are not told about the
/// other nodes (`connect_urls` lists none of them), while messages still
/// cross the route.
pub fn no_advertise(kinds: [Kind; 2], cluster_name: &str) {
    let mut cluster = Cluster::new(cluster_name);
    let a = cluster.add(cluster.spec(kinds[0], "A").args(&["--no_advertise"]));
    let seed = cluster.node(a).route_url();
    let b = cluster.add(
        cluster
            .spec(kinds[1], "B")
            .route(seed)
            .args(&["--no_advertise"]),
    );
    if let Err(e) = cluster.wait_for_mesh(MESH_TIMEOUT) {
        panic!("{e}\n{}", cluster.logs());
    }
    let rt = runtime();
    rt.block_on(async {
        let on_a = connect_anonymous(&cluster.node(a).url()).await;
        let on_b = connect_anonymous(&cluster.node(b).url()).await;
        for (client, other) in [(&on_a, b), (&on_b, a)] {
            let urls = client.server_info().connect_urls;
            let other = cluster.node(other).addr();
            assert!(
                !urls.contains(&other),
                "--no_advertise, yet connect_urls {urls:?} lists {other}"
            );
        }
        let mut sub = subscribe(&on_b, "na.s").await;
        wait_interest(&on_a, "na.s", &mut [&mut sub]).await;
        send_and_expect(&on_a, "na.s", 0..10, &mut [&mut sub]).await;
    });
}

/// Routes that must be refused are: wrong credentials (the acceptor closes
/// them as an authentication failure) and another cluster name (closed as a
/// name conflict); a server without a cluster name adopts its peer's and
/// joins. `kinds` = (acceptor, joiners).
pub fn refusals_and_dynamic_name(kinds: [Kind; 2], cluster_name: &str) {
    let mut cluster = Cluster::new(cluster_name);
    let auth = RouteAuth::container_default();
    let a = cluster.add(
        cluster
            .spec(kinds[0], "A")
            .via(ClusterVia::Config)
            .auth(Some(auth.clone())),
    );
    let port = cluster.node(a).ports().cluster;
    let bad_password = format!("nats-route://{}:wrong@127.0.0.1:{port}", auth.user);
    let good = cluster.node(a).route_url();
    let intruder = cluster.add(cluster.spec(kinds[1], "B").route(bad_password));
    let foreigner = cluster
        .add(NodeSpec::new(kinds[1], "C", &format!("{cluster_name}-other")).route(good.clone()));
    let nameless = cluster.add(NodeSpec::new(kinds[1], "D", "").route(good));
    let acceptor = cluster.node(a);
    let bound = MESH_TIMEOUT;
    for (needle, what) in [
        (
            "Router connection closed: Authentication Failure",
            "wrong credentials",
        ),
        (
            "Router connection closed: Cluster Name Conflict",
            "another cluster name",
        ),
    ] {
        assert!(
            acceptor.wait_for_log(needle, bound),
            "{what}: no {needle:?} in the acceptor's log\n{}",
            cluster.logs()
        );
    }
    if let Err(e) = cluster
        .node(nameless)
        .wait_for_routes(1, ROUTES_PER_PEER, bound)
    {
        panic!("the nameless server did not join: {e}\n{}", cluster.logs());
    }
    let varz = cluster.node(nameless).varz().expect("/varz");
    assert_eq!(
        varz["cluster"]["name"], cluster_name,
        "adopted name: {varz}"
    );
    for refused in [intruder, foreigner] {
        let view = cluster.node(refused).route_view().expect("/routez");
        assert_eq!(
            view.num_routes,
            0,
            "{}: {view:?}",
            cluster.node(refused).label()
        );
    }
    let view = acceptor.route_view().expect("/routez");
    assert_eq!(
        view.peers.len(),
        1,
        "only the nameless server joined: {view:?}"
    );
}

/// A client connected (with `"protocol":1`) before a second node joins is
/// sent an `INFO` whose `connect_urls` lists the new node, and another one
/// without it after the node is killed. Raw socket, so every INFO is seen.
pub fn connect_urls_follow_membership(kinds: [Kind; 2], cluster_name: &str) {
    use conformance::raw::RawClient;
    let mut cluster = Cluster::new(cluster_name);
    let a = cluster.add(cluster.spec(kinds[0], "A"));
    let mut client = RawClient::connect(&cluster.node(a).addr()).expect("connect");
    client
        .send(b"CONNECT {\"verbose\":false,\"protocol\":1}\r\nPING\r\n")
        .expect("send CONNECT");
    let seed = cluster.node(a).route_url();
    let b = cluster.add(cluster.spec(kinds[1], "B").route(seed));
    if let Err(e) = cluster.wait_for_mesh(MESH_TIMEOUT) {
        panic!("{e}\n{}", cluster.logs());
    }
    let joined = cluster.node(b).addr();
    let urls_of = |frame: &[u8]| -> Option<Vec<String>> {
        let info = conformance::normalize::info_json(frame)?;
        Some(
            info["connect_urls"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|u| u.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
        )
    };
    let wait_for = |client: &mut RawClient, want_listed: bool| -> Vec<Vec<String>> {
        let deadline = Instant::now() + MESH_TIMEOUT;
        let mut seen = Vec::new();
        while Instant::now() < deadline {
            let collected = client
                .collect_for(Duration::from_millis(200))
                .expect("read");
            assert!(!collected.closed, "the server closed the client");
            for frame in &collected.frames {
                if let Some(urls) = urls_of(frame) {
                    let listed = urls.contains(&joined);
                    seen.push(urls);
                    if listed == want_listed {
                        return seen;
                    }
                }
            }
        }
        panic!("no INFO with {joined} listed={want_listed}; INFOs seen: {seen:?}");
    };
    wait_for(&mut client, true);
    cluster.node_mut(b).kill();
    wait_for(&mut client, false);
}

/// A server process started without `-a` (so it listens on every address,
/// as in the container), killed when dropped.
struct AnyAddressServer(std::process::Child);

impl Drop for AnyAddressServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// For two servers running the container configuration as is (listening on
/// every address) — the seed of kind `kinds[0]` and a joiner of kind
/// `kinds[1]` — the hosts each one advertises for its own client port, read
/// from its clients' `INFO connect_urls` once both ports are listed.
pub fn advertised_hosts(kinds: [Kind; 2]) -> [Vec<String>; 2] {
    use conformance::raw::RawClient;
    use conformance::server::free_port;
    let config = container_config();
    let dir = std::env::temp_dir();
    let ports: Vec<[u16; 3]> = (0..2)
        .map(|_| [free_port(), free_port(), free_port()])
        .collect();
    let mut servers = Vec::new();
    for (index, kind) in kinds.into_iter().enumerate() {
        let [client, cluster, monitor] = ports[index];
        let text = config
            .replace("{client_port}", &client.to_string())
            .replace("{cluster_port}", &cluster.to_string())
            .replace("{monitor_port}", &monitor.to_string());
        let path = dir.join(format!("nats-any-{}-{client}.conf", std::process::id()));
        std::fs::write(&path, text).expect("write config");
        let mut command = std::process::Command::new(kind.binary());
        command.arg("-c").arg(&path);
        if index == 1 {
            command.arg(format!(
                "--routes=nats-route://ruser:T0pS3cr3t@127.0.0.1:{}",
                ports[0][1]
            ));
        }
        let child = command
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn server");
        servers.push(AnyAddressServer(child));
    }
    let deadline = Instant::now() + MESH_TIMEOUT;
    let own_hosts = |index: usize| -> Option<Vec<String>> {
        let client = RawClient::connect(&format!("127.0.0.1:{}", ports[index][0])).ok()?;
        let info = client.info_json()?;
        let urls: Vec<String> = info["connect_urls"]
            .as_array()?
            .iter()
            .filter_map(|u| u.as_str().map(str::to_string))
            .collect();
        let port_of = |url: &str, port: u16| url.ends_with(&format!(":{port}"));
        if !ports.iter().all(|p| urls.iter().any(|u| port_of(u, p[0]))) {
            return None;
        }
        let suffix = format!(":{}", ports[index][0]);
        let mut hosts: Vec<String> = urls
            .iter()
            .filter_map(|u| u.strip_suffix(&suffix).map(str::to_string))
            .collect();
        hosts.sort();
        Some(hosts)
    };
    loop {
        if let (Some(seed), Some(joiner)) = (own_hosts(0), own_hosts(1)) {
            return [seed, joiner];
        }
        assert!(
            Instant::now() < deadline,
            "the two servers never both listed each other in connect_urls"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Servers listening on every address advertise the same hosts to clients
/// as the reference does on this machine.
pub fn advertised_hosts_match_reference(kinds: [Kind; 2]) {
    let reference = advertised_hosts([Kind::Reference; 2]);
    let got = advertised_hosts(kinds);
    assert_eq!(
        got, reference,
        "hosts advertised by (seed, joiner) = {kinds:?}"
    );
}

/// `--cluster_advertise`: node C (kind `kinds[1]`) advertises a proxy in
/// front of its cluster port and joins by soliciting B (reference), which
/// gossips C to A (kind `kinds[0]`). A advertises an address where nothing
/// listens, so the A-C route can only be A dialling C's advertised address,
/// through the proxy.
pub fn cluster_advertise(kinds: [Kind; 2], cluster_name: &str) {
    use conformance::server::free_port;
    let mut cluster = Cluster::new(cluster_name);
    let nowhere = format!("127.0.0.1:{}", free_port());
    let a = cluster.add(
        cluster
            .spec(kinds[0], "A")
            .args(&["--cluster_advertise", &nowhere]),
    );
    let seed = cluster.node(a).route_url();
    let b = cluster.add(cluster.spec(Kind::Reference, "B").route(seed));
    if let Err(e) = cluster.wait_for_mesh(MESH_TIMEOUT) {
        panic!("{e}\n{}", cluster.logs());
    }
    // Listening before C starts; forwarding once C's cluster port is known.
    let proxy = TcpProxy::start_on(0, 0).expect("proxy");
    let advertised = format!("127.0.0.1:{}", proxy.port());
    let via_b = cluster.node(b).route_url();
    let c = cluster.add(
        cluster
            .spec(kinds[1], "C")
            .route(via_b)
            .args(&["--cluster_advertise", &advertised]),
    );
    proxy.set_target(cluster.node(c).ports().cluster);
    if let Err(e) = cluster.wait_for_mesh(MESH_TIMEOUT) {
        panic!("{e}\n{}", cluster.logs());
    }
    assert!(
        proxy.forwarded() > 0,
        "A reached C without C's advertised address\n{}",
        cluster.logs()
    );
}
