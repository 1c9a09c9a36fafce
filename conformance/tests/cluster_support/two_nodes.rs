//! Two-node behaviours: queue groups spread over the cluster, large payloads,
//! pinned accounts.

use super::*;

/// On a two-node cluster (B solicits A): a queue group with one member on
/// the publisher's node and one on the other gets every message once, spread
/// over both members (the reference picks among all members, local or not:
/// measured about half each).
pub fn queue_spread(kinds: [Kind; 2], cluster_name: &str) {
    let mut cluster = Cluster::new(cluster_name);
    let a = cluster.add(cluster.spec(kinds[0], "A"));
    let seed = cluster.node(a).route_url();
    let b = cluster.add(cluster.spec(kinds[1], "B").route(seed));
    if let Err(e) = cluster.wait_for_mesh(MESH_TIMEOUT) {
        panic!("{e}\n{}", cluster.logs());
    }
    let _logs = LogsOnPanic(&cluster);
    let rt = runtime();
    rt.block_on(async {
        let on_a = connect_anonymous(&cluster.node(a).url()).await;
        let on_b = connect_anonymous(&cluster.node(b).url()).await;
        let members_a = connect_anonymous(&cluster.node(a).url()).await;
        let members_b = connect_anonymous(&cluster.node(b).url()).await;
        // Local preference, from each side.
        for (publisher, local, remote, tag) in [
            (&on_a, &members_a, &members_b, "a"),
            (&on_b, &members_b, &members_a, "b"),
        ] {
            let subject = format!("lq.{tag}");
            let mut far = queue_subscribe(remote, &subject, "g").await;
            wait_interest(publisher, &subject, &mut [&mut far]).await;
            let mut near = queue_subscribe(local, &subject, "g").await;
            // A flush does not wait for the server: a probe proves the local
            // member is registered (reached at random on the reference).
            wait_interest(publisher, &subject, &mut [&mut near]).await;
            let mut members = vec![near, far];
            for payload in numbered("m", 100) {
                publish(publisher, &subject, payload.as_bytes()).await;
            }
            flush(publisher).await;
            let got = collect_spread(&mut members, 100).await;
            let mut seen = HashSet::new();
            for (_, payload) in got.iter().flatten() {
                assert!(seen.insert(payload.clone()), "{payload} twice ({tag})");
            }
            let split = [got[0].len(), got[1].len()];
            assert!(
                split[0] > 0 && split[1] > 0,
                "(local, remote) members got {split:?}: not spread over the cluster ({tag})"
            );
            let mut refs: Vec<&mut Subscriber> = members.iter_mut().collect();
            assert_no_extra(&mut refs, &format!("queue members ({tag})")).await;
        }
    });
}

/// On a two-node cluster (B solicits A), a payload close to `max_payload`
/// crosses the route intact, with headers, both ways.
pub fn large_payloads(kinds: [Kind; 2], cluster_name: &str) {
    let mut cluster = Cluster::new(cluster_name);
    let a = cluster.add(cluster.spec(kinds[0], "A"));
    let seed = cluster.node(a).route_url();
    let b = cluster.add(cluster.spec(kinds[1], "B").route(seed));
    if let Err(e) = cluster.wait_for_mesh(MESH_TIMEOUT) {
        panic!("{e}\n{}", cluster.logs());
    }
    let _logs = LogsOnPanic(&cluster);
    let rt = runtime();
    rt.block_on(async {
        let on_a = connect_anonymous(&cluster.node(a).url()).await;
        let on_b = connect_anonymous(&cluster.node(b).url()).await;
        // Large payloads with headers, both ways.
        let big: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        for (publisher, subscriber, tag) in [(&on_a, &on_b, "ab"), (&on_b, &on_a, "ba")] {
            let subject = format!("big.{tag}");
            let mut sub = subscribe(subscriber, &subject).await;
            wait_interest(publisher, &subject, &mut [&mut sub]).await;
            let mut headers = async_nats::HeaderMap::new();
            headers.insert("X-Big", "yes");
            publisher
                .publish_with_headers(subject.clone(), headers, big.clone().into())
                .await
                .expect("publish");
            flush(publisher).await;
            let deadline = Instant::now() + WAIT;
            let message = loop {
                let message = timeout(WAIT, sub.next())
                    .await
                    .expect("no large message")
                    .expect("subscription ended");
                if message.payload.as_ref() != PROBE {
                    break message;
                }
                assert!(Instant::now() < deadline, "only probes arrived");
            };
            assert!(
                message.payload.as_ref() == big.as_slice(),
                "payload altered ({tag})"
            );
            let header = message.headers.as_ref().and_then(|h| h.get("X-Big"));
            assert_eq!(
                header.map(|v| v.as_str()),
                Some("yes"),
                "header lost ({tag})"
            );
        }
    });
}

/// `cluster { accounts: [ACC_A] }` on both nodes pins ACC_A to a route
/// connection of its own (5 per peer); messages of the pinned account
/// (whose route lines leave the account out) and of a pooled one cross in
/// both directions, with replies, queue groups and headers.
pub fn pinned_account(kinds: [Kind; 2], cluster_name: &str) {
    let mut cluster = Cluster::new(cluster_name);
    let auth = Some(RouteAuth::container_default());
    let spec = |cluster: &Cluster, kind, name| {
        cluster
            .spec(kind, name)
            .via(ClusterVia::Config)
            .auth(auth.clone())
            .config(ACCOUNTS)
            .cluster_line("accounts: [ACC_A]")
    };
    let a = cluster.add(spec(&cluster, kinds[0], "A"));
    let seed = cluster.node(a).route_url();
    let b = cluster.add(spec(&cluster, kinds[1], "B").route(seed));
    if let Err(e) = cluster.wait_for_mesh_of(ROUTES_PER_PEER + 1, MESH_TIMEOUT) {
        panic!("{e}\n{}", cluster.logs());
    }
    let _logs = LogsOnPanic(&cluster);
    let rt = runtime();
    rt.block_on(async {
        for user in [ALICE, BOB] {
            for (from, to) in [(a, b), (b, a)] {
                let publisher = connect(&cluster.node(from).url(), user).await;
                let receiver = connect(&cluster.node(to).url(), user).await;
                let subject = format!("pin.{}.{from}", user.name);
                let mut plain = subscribe(&receiver, &subject).await;
                let mut queue = queue_subscribe(&receiver, &subject, "g").await;
                wait_interest(&publisher, &subject, &mut [&mut plain]).await;
                wait_interest(&publisher, &subject, &mut [&mut queue]).await;
                let mut headers = async_nats::HeaderMap::new();
                headers.insert("h", "1");
                publisher
                    .publish_with_reply(subject.clone(), "rep.x", "m-0".into())
                    .await
                    .expect("publish");
                publisher
                    .publish_with_headers(subject.clone(), headers, "m-1".into())
                    .await
                    .expect("publish");
                flush(&publisher).await;
                for sub in [&mut plain, &mut queue] {
                    let got: Vec<String> =
                        collect(sub, 2).await.into_iter().map(|(_, p)| p).collect();
                    assert_eq!(got, ["m-0", "m-1"], "{} from {from} to {to}", user.name);
                }
                let context = format!("{} from {from} to {to}", user.name);
                assert_no_extra(&mut [&mut plain, &mut queue], &context).await;
            }
        }
    });
}

/// Two nodes whose `cluster.pool_size` differ: A's is `pool_a`, B's the
/// default (3). The reference connects with the larger pool (plus `$SYS`),
/// or with one plain connection when one side disables pooling (-1), and
/// messages cross both ways.
pub fn pool_sizes(kinds: [Kind; 2], pool_a: i32, cluster_name: &str) {
    let mut cluster = Cluster::new(cluster_name);
    let a = cluster.add(
        cluster
            .spec(kinds[0], "A")
            .via(ClusterVia::Config)
            .cluster_line(&format!("pool_size: {pool_a}")),
    );
    let seed = cluster.node(a).route_url();
    let b = cluster.add(
        cluster
            .spec(kinds[1], "B")
            .via(ClusterVia::Config)
            .route(seed),
    );
    let per_peer = if pool_a < 0 {
        1
    } else {
        pool_a.max(3) as usize + 1
    };
    if let Err(e) = cluster.wait_for_mesh_of(per_peer, MESH_TIMEOUT) {
        panic!("pool sizes {pool_a} and 3: {e}\n{}", cluster.logs());
    }
    let _logs = LogsOnPanic(&cluster);
    let rt = runtime();
    rt.block_on(async {
        let on_a = connect_anonymous(&cluster.node(a).url()).await;
        let on_b = connect_anonymous(&cluster.node(b).url()).await;
        for (publisher, subscriber, subject) in
            [(&on_a, &on_b, "pool.ab"), (&on_b, &on_a, "pool.ba")]
        {
            let mut sub = subscribe(subscriber, subject).await;
            wait_interest(publisher, subject, &mut [&mut sub]).await;
            send_and_expect(publisher, subject, 0..20, &mut [&mut sub]).await;
        }
    });
}

/// Route compression asked for on one side (`cluster.compression: <mode>`
/// on the node marked `true`): two reference servers compress; a server
/// that does not implement S2 must still interoperate (messages cross both
/// ways over 4 routes).
pub fn compression(kinds: [Kind; 2], compressing: [bool; 2], mode: &str, cluster_name: &str) {
    let mut cluster = Cluster::new(cluster_name);
    let spec = |cluster: &Cluster, index: usize, name: &str| {
        let spec = cluster.spec(kinds[index], name).via(ClusterVia::Config);
        if compressing[index] {
            spec.cluster_line(&format!("compression: {mode}"))
        } else {
            spec
        }
    };
    let a = cluster.add(spec(&cluster, 0, "A"));
    let seed = cluster.node(a).route_url();
    let b = cluster.add(spec(&cluster, 1, "B").route(seed));
    if let Err(e) = cluster.wait_for_mesh(MESH_TIMEOUT) {
        panic!(
            "compression {mode} on {compressing:?}: {e}\n{}",
            cluster.logs()
        );
    }
    let _logs = LogsOnPanic(&cluster);
    let rt = runtime();
    rt.block_on(async {
        let on_a = connect_anonymous(&cluster.node(a).url()).await;
        let on_b = connect_anonymous(&cluster.node(b).url()).await;
        for (publisher, subscriber, subject) in [(&on_a, &on_b, "s2.ab"), (&on_b, &on_a, "s2.ba")] {
            let mut sub = subscribe(subscriber, subject).await;
            wait_interest(publisher, subject, &mut [&mut sub]).await;
            send_and_expect(publisher, subject, 0..20, &mut [&mut sub]).await;
        }
    });
}
