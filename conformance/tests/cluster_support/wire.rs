//! Route traffic recorded by a proxy and compared with the reference:
//! handshake, connections, interest and message lines, gossip, `/routez`.

use super::*;

/// What [`capture_route`] observed.
pub struct RouteCapture {
    /// Each route connection, in the order the proxy accepted them.
    pub connections: Vec<conformance::cluster::Captured>,
    /// `/routez` of the accepting node, then of the soliciting node.
    pub routez: [serde_json::Value; 2],
}

/// The route connections between an accepting node of kind `kinds[0]` and
/// a soliciting node of kind `kinds[1]`, recorded by a proxy in between
/// once the mesh is up and one subscription crossed in each direction.
pub fn capture_route(kinds: [Kind; 2], cluster_name: &str) -> RouteCapture {
    let mut cluster = Cluster::new(cluster_name);
    let auth = Some(RouteAuth::container_default());
    let a = cluster.add(
        cluster
            .spec(kinds[0], "A")
            .via(ClusterVia::Config)
            .auth(auth.clone()),
    );
    let proxy = TcpProxy::start(cluster.node(a).ports().cluster);
    let via_proxy = cluster.node(a).route_url_on(proxy.port());
    let b = cluster.add(
        cluster
            .spec(kinds[1], "B")
            .via(ClusterVia::Config)
            .auth(auth)
            .route(via_proxy),
    );
    if let Err(e) = cluster.wait_for_mesh(MESH_TIMEOUT) {
        panic!("{e}\n{}", cluster.logs());
    }
    let rt = runtime();
    rt.block_on(async {
        let on_a = connect_anonymous(&cluster.node(a).url()).await;
        let on_b = connect_anonymous(&cluster.node(b).url()).await;
        let mut sub_a = subscribe(&on_a, "cap.a").await;
        let mut members = vec![queue_subscribe(&on_b, "cap.b", "grp").await];
        wait_interest(&on_b, "cap.a", &mut [&mut sub_a]).await;
        wait_interest(&on_a, "cap.b", &mut [&mut members[0]]).await;
        // A second member raises the group's weight.
        members.push(queue_subscribe(&on_b, "cap.b", "grp").await);
        // Every message form, B to A (probes are the only 5-byte payloads).
        let mut sub_m = subscribe(&on_a, "cap.m.>").await;
        wait_interest(&on_b, "cap.m.probe", &mut [&mut sub_m]).await;
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("k", "v");
        let send = async {
            on_b.publish("cap.m.plain", "p1".into()).await?;
            on_b.publish_with_reply("cap.m.reply", "r.1", "p2".into())
                .await?;
            on_b.publish_with_headers("cap.m.hdr", headers.clone(), "p3".into())
                .await?;
            on_b.publish_with_reply_and_headers("cap.m.hdrreply", "r.2", headers, "p4".into())
                .await?;
            on_a.publish_with_reply("cap.b", "r.q", "q1".into()).await?;
            on_a.publish("cap.b", "q2".into()).await
        };
        send.await.expect("publish");
        flush(&on_b).await;
        flush(&on_a).await;
        collect(&mut sub_m, 4).await;
        collect_spread(&mut members, 2).await;
        // Interest that goes away: RS+ then RS-.
        let mut gone = subscribe(&on_a, "cap.gone").await;
        wait_interest(&on_b, "cap.gone", &mut [&mut gone]).await;
        gone.unsubscribe().await.expect("unsubscribe");
        flush(&on_a).await;
        let deadline = Instant::now() + INTEREST_WAIT;
        while !proxy.captured().iter().any(|c| {
            interest_lines(&c.from_target)
                .iter()
                .any(|l| l == "RS- $G cap.gone")
        }) {
            assert!(
                Instant::now() < deadline,
                "no RS- $G cap.gone crossed the route"
            );
            tokio::time::sleep(PROBE_EVERY).await;
        }
        // Taken while the clients still hold their subscriptions.
        let routez = |node: usize| {
            cluster
                .node(node)
                .routez()
                .unwrap_or_else(|e| panic!("{e}"))
        };
        RouteCapture {
            connections: proxy.captured(),
            routez: [routez(a), routez(b)],
        }
    })
}

/// `got` with the one deliberate difference from the reference undone: an
/// accepting server of ours advertises `"compression":"off"` instead of
/// `"accept"` because it does not implement S2 (docs/route-protocol.md §6),
/// which makes a reference solicitor configured for compression fall back
/// to none instead of sending an S2 stream.
fn allow_known_differences(
    what: &str,
    want: &serde_json::Value,
    got: &serde_json::Value,
) -> serde_json::Value {
    let mut got = got.clone();
    if what == "acceptor INFO" && want["compression"] == "accept" && got["compression"] == "off" {
        got["compression"] = want["compression"].clone();
    }
    got
}

/// The `/routez` facts compared with the reference: top-level keys, keys
/// of the route entries, and per entry `did_solicit`, `is_configured` and
/// the pinned `account` (sorted).
pub fn routez_shape(routez: &serde_json::Value) -> (Vec<String>, Vec<String>, Vec<String>) {
    let keys = |v: &serde_json::Value| -> Vec<String> {
        let mut k: Vec<String> = v
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        k.sort();
        k
    };
    let routes = routez["routes"].as_array().cloned().unwrap_or_default();
    let mut entry_keys: Vec<String> = routes.iter().flat_map(keys).collect();
    entry_keys.sort();
    entry_keys.dedup();
    let mut facts: Vec<String> = routes
        .iter()
        .map(|r| {
            format!(
                "did_solicit={} is_configured={} account={}",
                r["did_solicit"], r["is_configured"], r["account"]
            )
        })
        .collect();
    facts.sort();
    (keys(routez), entry_keys, facts)
}

/// Captures the route connections of `kinds` (acceptor, solicitor) and of
/// two reference servers, and checks that ours write the same handshake
/// (fields, key order, values other than ids/ports/nonces), use the same
/// connections (pool indexes, pinned `$SYS`) and exchange the same interest
/// lines on the same connection as the reference does.
pub fn route_wire_matches_reference(kinds: [Kind; 2], cluster_name: &str) {
    use conformance::cluster::RouteSummary;
    let summarise = |captured: &[conformance::cluster::Captured]| {
        captured
            .iter()
            .map(RouteSummary::of)
            .map(|s| (s.slot(), s))
            .collect::<BTreeMap<String, RouteSummary>>()
    };
    let reference_capture = capture_route([Kind::Reference; 2], cluster_name);
    let actual_capture = capture_route(kinds, cluster_name);
    let reference = summarise(&reference_capture.connections);
    let actual = summarise(&actual_capture.connections);
    let who = format!("acceptor {:?}, solicitor {:?}", kinds[0], kinds[1]);
    let slots = |m: &BTreeMap<String, RouteSummary>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        slots(&actual),
        slots(&reference),
        "route connections ({who})"
    );
    let mut differences = Vec::new();
    for (slot, want) in &reference {
        let got = &actual[slot];
        for (what, w, g) in [
            ("CONNECT", &want.connect, &got.connect),
            ("solicitor INFO", &want.solicitor_info, &got.solicitor_info),
            ("acceptor INFO", &want.acceptor_info, &got.acceptor_info),
        ] {
            let (Some(w), Some(g)) = (w, g) else {
                if w.is_some() != g.is_some() {
                    differences.push(format!(
                        "{slot}: {what} present: ref {} vs {}",
                        w.is_some(),
                        g.is_some()
                    ));
                }
                continue;
            };
            let g_masked = allow_known_differences(what, &w.masked, &g.masked);
            if w.keys != g.keys || w.masked != g_masked {
                differences.push(format!(
                    "{slot}: {what}\n  ref:  {}\n  got:  {}",
                    w.raw.trim_end(),
                    g.raw.trim_end()
                ));
            }
            if w.raw.ends_with("} \r\n") != g.raw.ends_with("} \r\n") {
                differences.push(format!("{slot}: {what} line ending: {:?}", g.raw));
            }
        }
        for (what, w, g) in [
            (
                "solicitor interest",
                &want.solicitor_interest,
                &got.solicitor_interest,
            ),
            (
                "acceptor interest",
                &want.acceptor_interest,
                &got.acceptor_interest,
            ),
            (
                "solicitor messages",
                &want.solicitor_messages,
                &got.solicitor_messages,
            ),
            (
                "acceptor messages",
                &want.acceptor_messages,
                &got.acceptor_messages,
            ),
        ] {
            if w != g {
                differences.push(format!("{slot}: {what}: ref {w:?} vs {g:?}"));
            }
        }
    }
    for (side, want, got) in [
        (
            "acceptor",
            &reference_capture.routez[0],
            &actual_capture.routez[0],
        ),
        (
            "solicitor",
            &reference_capture.routez[1],
            &actual_capture.routez[1],
        ),
    ] {
        let (want, got) = (routez_shape(want), routez_shape(got));
        if want != got {
            differences.push(format!("{side} /routez\n  ref: {want:?}\n  got: {got:?}"));
        }
    }
    assert!(differences.is_empty(), "{who}:\n{}", differences.join("\n"));
}

/// The `INFO`s node A forwards to B (through a recording proxy) when C
/// joins by soliciting A: per route connection of B, their keys and masked
/// values (the `ip` URL checked for its form), as `(slot, lines)`.
pub fn capture_gossip(kinds: [Kind; 2], cluster_name: &str) -> BTreeMap<String, Vec<String>> {
    use conformance::cluster::{later_infos, RouteSummary};
    let mut cluster = Cluster::new(cluster_name);
    let a = cluster.add(cluster.spec(kinds[0], "A"));
    let proxy = TcpProxy::start(cluster.node(a).ports().cluster);
    let via_proxy = cluster.node(a).route_url_on(proxy.port());
    cluster.add(cluster.spec(Kind::Reference, "B").route(via_proxy));
    if let Err(e) = cluster.wait_for_mesh(MESH_TIMEOUT) {
        panic!("{e}\n{}", cluster.logs());
    }
    let seed = cluster.node(a).route_url();
    let c = cluster.add(cluster.spec(kinds[1], "C").route(seed));
    if let Err(e) = cluster.wait_for_mesh(MESH_TIMEOUT) {
        panic!("{e}\n{}", cluster.logs());
    }
    let c_route = format!(
        "nats-route://127.0.0.1:{}/",
        cluster.node(c).ports().cluster
    );
    // B may dial C after the first gossip INFO: wait (bounded) until the
    // pool-0 and the `$SYS` connections both carried one, as on the reference.
    let gossiped = |slot: &str| {
        proxy
            .captured()
            .iter()
            .any(|c| RouteSummary::of(c).slot() == slot && !later_infos(&c.from_target).is_empty())
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while !(gossiped("pool 0") && gossiped("account $SYS")) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut gossip = BTreeMap::new();
    for captured in proxy.captured() {
        let slot = RouteSummary::of(&captured).slot();
        let infos = later_infos(&captured.from_target);
        for info in &infos {
            let ip = info.masked.get("ip").map(|_| info.raw.contains(&c_route));
            assert_ne!(ip, Some(false), "gossip ip is not {c_route}: {}", info.raw);
        }
        let lines = infos
            .iter()
            .map(|i| format!("{:?} {}", i.keys, i.masked))
            .collect();
        gossip.insert(slot, lines);
    }
    gossip
}

/// Node A of kind `kinds[0]` gossips a joining node C of kind `kinds[1]`
/// to B exactly as a reference A gossips a reference C.
pub fn gossip_matches_reference(kinds: [Kind; 2], cluster_name: &str) {
    let want = capture_gossip([Kind::Reference; 2], cluster_name);
    let got = capture_gossip(kinds, cluster_name);
    assert!(
        want.values().any(|lines| !lines.is_empty()),
        "the reference gossiped nothing: {want:#?}"
    );
    assert_eq!(
        got, want,
        "gossip from A {:?} about C {:?}",
        kinds[0], kinds[1]
    );
}
