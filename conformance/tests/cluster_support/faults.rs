//! Faults: kill -9 of a node with client failover, and a route cut by a proxy.

use super::*;

/// Waits (bounded) until `client` is connected to a server other than the
/// one on `old_port`; returns the new server's port.
pub async fn wait_reconnected_elsewhere(client: &Client, old_port: u16) -> u16 {
    let deadline = Instant::now() + INTEREST_WAIT;
    loop {
        let info = client.server_info();
        if client.connection_state() == async_nats::connection::State::Connected
            && info.port != old_port
        {
            return info.port;
        }
        assert!(
            Instant::now() < deadline,
            "client did not reconnect away from port {old_port}: state {:?}, info {info:?}",
            client.connection_state()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Kill -9 of the seed node: a client that was given only the seed's URL
/// fails over to a node it learnt from `connect_urls`, interest follows it,
/// the node comes back on the same ports and rejoins, and no message is
/// delivered twice.
pub fn failover(topology: Topology, cluster_name: &str) {
    let mut cluster = topology.start(cluster_name);
    let rt = runtime();
    let subject = "fo.s";
    let (x, p, mut sx) = rt.block_on(async {
        let x = connect(&cluster.node(0).url(), ALICE).await;
        let urls = x.server_info().connect_urls;
        for peer in [1, 2] {
            let addr = cluster.node(peer).addr();
            assert!(
                urls.contains(&addr),
                "INFO connect_urls {urls:?} lacks {addr} ({})",
                cluster.describe()
            );
        }
        let p = connect(&cluster.node(2).url(), ALICE).await;
        let mut sx = subscribe(&x, subject).await;
        wait_interest(&p, subject, &mut [&mut sx]).await;
        send_and_expect(&p, subject, 0..50, &mut [&mut sx]).await;
        (x, p, sx)
    });
    let seed_port = cluster.node(0).ports().client;
    cluster.node_mut(0).kill();
    if let Err(e) = cluster.wait_for_mesh(MESH_TIMEOUT) {
        panic!("survivors lost each other: {e}\n{}", cluster.logs());
    }
    rt.block_on(async {
        let port = wait_reconnected_elsewhere(&x, seed_port).await;
        assert!(
            [1, 2]
                .iter()
                .any(|&i| cluster.node(i).ports().client == port),
            "reconnected to unknown port {port}"
        );
        wait_interest(&p, subject, &mut [&mut sx]).await;
        send_and_expect(&p, subject, 50..100, &mut [&mut sx]).await;
    });
    cluster.node_mut(0).restart();
    if let Err(e) = cluster.wait_for_mesh(MESH_TIMEOUT) {
        panic!("the restarted node did not rejoin: {e}\n{}", cluster.logs());
    }
    rt.block_on(async {
        let y = connect(&cluster.node(0).url(), ALICE).await;
        let q = connect(&cluster.node(0).url(), ALICE).await;
        let mut sy = subscribe(&y, subject).await;
        wait_interest(&p, subject, &mut [&mut sy]).await;
        wait_interest(&q, subject, &mut [&mut sx]).await;
        send_and_expect(&p, subject, 100..150, &mut [&mut sx, &mut sy]).await;
        send_and_expect(&q, subject, 150..200, &mut [&mut sx, &mut sy]).await;
        assert_no_extra(&mut [&mut sx, &mut sy], "duplicates after the restart").await;
    });
}

/// A route through a [`TcpProxy`] is cut and heals: messages flow both ways
/// before the cut and again after the soliciting node reconnected.
pub fn route_cut(kinds: [Kind; 2], cluster_name: &str) {
    let mut cluster = Cluster::new(cluster_name);
    let auth = Some(RouteAuth::container_default());
    let a = cluster.add(
        cluster
            .spec(kinds[0], "A")
            .via(ClusterVia::Config)
            .auth(auth.clone())
            .config(ACCOUNTS),
    );
    let proxy = TcpProxy::start(cluster.node(a).ports().cluster);
    let via_proxy = cluster.node(a).route_url_on(proxy.port());
    let b = cluster.add(
        cluster
            .spec(kinds[1], "B")
            .via(ClusterVia::Config)
            .auth(auth)
            .config(ACCOUNTS)
            .route(via_proxy),
    );
    if let Err(e) = cluster.wait_for_mesh(MESH_TIMEOUT) {
        panic!("{e}\n{}", cluster.logs());
    }
    let rt = runtime();
    let clients = rt.block_on(async {
        let on_a = connect(&cluster.node(a).url(), ALICE).await;
        let on_b = connect(&cluster.node(b).url(), ALICE).await;
        let mut sub_a = subscribe(&on_a, "cut.a").await;
        let mut sub_b = subscribe(&on_b, "cut.b").await;
        wait_interest(&on_a, "cut.b", &mut [&mut sub_b]).await;
        wait_interest(&on_b, "cut.a", &mut [&mut sub_a]).await;
        send_and_expect(&on_a, "cut.b", 0..20, &mut [&mut sub_b]).await;
        send_and_expect(&on_b, "cut.a", 0..20, &mut [&mut sub_a]).await;
        (on_a, on_b, sub_a, sub_b)
    });
    let (on_a, on_b, mut sub_a, mut sub_b) = clients;
    let forwarded_before = proxy.forwarded();
    proxy.cut();
    for node in [a, b] {
        if let Err(e) = cluster.node(node).wait_for_routes(0, 0, MESH_TIMEOUT) {
            panic!(
                "the cut did not take the routes down: {e}\n{}",
                cluster.logs()
            );
        }
    }
    proxy.restore();
    if let Err(e) = cluster.wait_for_mesh(MESH_TIMEOUT) {
        panic!("the route did not heal: {e}\n{}", cluster.logs());
    }
    assert!(
        proxy.forwarded() > forwarded_before,
        "healed without going through the proxy"
    );
    rt.block_on(async {
        wait_interest(&on_a, "cut.b", &mut [&mut sub_b]).await;
        wait_interest(&on_b, "cut.a", &mut [&mut sub_a]).await;
        send_and_expect(&on_a, "cut.b", 20..40, &mut [&mut sub_b]).await;
        send_and_expect(&on_b, "cut.a", 20..40, &mut [&mut sub_a]).await;
        assert_no_extra(&mut [&mut sub_a, &mut sub_b], "duplicates after healing").await;
    });
}
