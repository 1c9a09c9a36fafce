//! Authentication and permissions, without sockets. Each test is one attack or rule that must
//! hold; expected texts are the reference's (nats-server 2.15.1).

use std::net::SocketAddr;
use std::sync::Arc;
use std::task::Waker;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use engine::auth::{AuthConfig, NkeyUser, Permissions, ResponseRules, Secret, SubjectRules, User};
use engine::{AccountConfig, Client, CloseReason, Server, ServerConfig, ServerSeed, Transmit};

fn server(auth: AuthConfig) -> (Arc<Server>, Instant) {
    server_with_accounts(auth, &[])
}

fn server_with_accounts(auth: AuthConfig, accounts: &[&str]) -> (Arc<Server>, Instant) {
    let now = Instant::now();
    let cfg = ServerConfig {
        auth,
        accounts: accounts
            .iter()
            .map(|a| AccountConfig {
                name: a.to_string(),
                ..AccountConfig::default()
            })
            .collect(),
        ..ServerConfig::default()
    };
    (
        Server::new(
            cfg,
            ServerSeed {
                identity: [3; 32],
                rng: 1,
            },
            now,
        ),
        now,
    )
}

fn peer() -> SocketAddr {
    "127.0.0.1:40000".parse().unwrap()
}

fn drain(c: &Client) -> String {
    let mut out = BytesMut::new();
    let mut text = String::new();
    for _ in 0..100 {
        match c.shared().outbound.poll_transmit(&mut out, Waker::noop()) {
            Transmit::Data => {
                text.push_str(&String::from_utf8_lossy(&out));
                out.clear();
                c.shared().outbound.handle_written();
            }
            _ => break,
        }
    }
    text
}

fn send(c: &mut Client, s: &str, now: Instant) {
    let mut b = BytesMut::from(s.as_bytes());
    c.handle_input(&mut b, now);
}

fn rules(allow: &[&str], deny: &[&str]) -> Option<SubjectRules> {
    Some(SubjectRules {
        allow: allow.iter().map(|s| s.to_string()).collect(),
        deny: deny.iter().map(|s| s.to_string()).collect(),
    })
}

fn user(name: &str, pw: &str, perms: Option<Permissions>) -> User {
    User {
        username: name.into(),
        password: Secret::new(pw),
        permissions: perms.map(Arc::new),
        account: None,
    }
}

fn users(list: Vec<User>) -> AuthConfig {
    AuthConfig {
        users: list,
        ..AuthConfig::default()
    }
}

fn info_json(text: &str) -> serde_json::Value {
    let line = text.split("\r\n").next().unwrap();
    serde_json::from_str(line.trim_start_matches("INFO ").trim_end()).unwrap()
}

/// Connects as `user`/`pass`; returns the client and what it was sent after INFO.
fn login(s: &Arc<Server>, now: Instant, user: &str, pass: &str) -> (Client, String) {
    let mut c = s.accept(peer(), now);
    drain(&c);
    send(
        &mut c,
        &format!(
            "CONNECT {{\"verbose\":false,\"user\":\"{user}\",\"pass\":\"{pass}\"}}\r\nPING\r\n"
        ),
        now,
    );
    let out = drain(&c);
    (c, out)
}

#[test]
fn info_says_auth_required_without_nonce_for_passwords() {
    let (s, now) = server(users(vec![user("a", "b", None)]));
    let c = s.accept(peer(), now);
    let info = info_json(&drain(&c));
    assert_eq!(info["auth_required"], true);
    assert!(info.get("nonce").is_none());
}

#[test]
fn right_password_gets_in() {
    let (s, now) = server(users(vec![user("a", "b", None)]));
    let (c, out) = login(&s, now, "a", "b");
    assert_eq!(out, "PONG\r\n");
    assert_eq!(c.close_reason(), None);
}

#[test]
fn wrong_password_is_refused_and_closed() {
    let (s, now) = server(users(vec![user("a", "b", None)]));
    let (c, out) = login(&s, now, "a", "x");
    assert_eq!(out, "-ERR 'Authorization Violation'\r\n");
    assert_eq!(c.close_reason(), Some(CloseReason::AuthenticationViolation));
}

#[test]
fn unknown_user_and_other_users_password_are_refused() {
    let (s, now) = server(users(vec![user("a", "b", None), user("c", "d", None)]));
    assert_eq!(
        login(&s, now, "z", "b").1,
        "-ERR 'Authorization Violation'\r\n"
    );
    assert_eq!(
        login(&s, now, "a", "d").1,
        "-ERR 'Authorization Violation'\r\n"
    );
}

#[test]
fn missing_credentials_are_refused() {
    let (s, now) = server(users(vec![user("a", "b", None)]));
    let mut c = s.accept(peer(), now);
    drain(&c);
    send(&mut c, "CONNECT {\"verbose\":false}\r\nPING\r\n", now);
    assert_eq!(drain(&c), "-ERR 'Authorization Violation'\r\n");
}

#[test]
fn ops_before_connect_are_refused() {
    let (s, now) = server(users(vec![user("a", "b", None)]));
    let mut c = s.accept(peer(), now);
    drain(&c);
    send(&mut c, "SUB > 1\r\n", now);
    assert_eq!(drain(&c), "-ERR 'Authorization Violation'\r\n");
    assert!(c.close_reason().is_some());
    assert_eq!(s.num_subscriptions(), 0);
}

#[test]
fn bcrypt_passwords() {
    let hash = bcrypt::hash("s3cret", 4).unwrap();
    let (s, now) = server(users(vec![user("a", &hash, None)]));
    assert_eq!(login(&s, now, "a", "s3cret").1, "PONG\r\n");
    assert_eq!(
        login(&s, now, "a", "s3cre").1,
        "-ERR 'Authorization Violation'\r\n"
    );
    // The hash itself is not a password.
    assert_eq!(
        login(&s, now, "a", &hash.replace('$', "\\u0024")).1,
        "-ERR 'Authorization Violation'\r\n"
    );
}

#[test]
fn token_auth_and_no_reuse_as_password() {
    let (s, now) = server(AuthConfig {
        token: Some(Secret::new("tok")),
        ..AuthConfig::default()
    });
    let mut c = s.accept(peer(), now);
    drain(&c);
    send(
        &mut c,
        "CONNECT {\"verbose\":false,\"auth_token\":\"tok\"}\r\nPING\r\n",
        now,
    );
    assert_eq!(drain(&c), "PONG\r\n");
    assert_eq!(
        login(&s, now, "tok", "tok").1,
        "-ERR 'Authorization Violation'\r\n"
    );
}

#[test]
fn auth_timeout() {
    let (s, now) = server(users(vec![user("a", "b", None)]));
    let mut c = s.accept(peer(), now);
    drain(&c);
    let at = c.poll_timeout().unwrap();
    assert_eq!(at, now + Duration::from_secs(2));
    c.handle_timeout(at);
    assert_eq!(drain(&c), "-ERR 'Authentication Timeout'\r\n");
    assert_eq!(c.close_reason(), Some(CloseReason::AuthenticationTimeout));
}

#[test]
fn nkey_nonce_signed_and_not_replayable() {
    let kp = nkeys::KeyPair::new_from_raw(nkeys::KeyPairType::User, [5; 32]).unwrap();
    let (s, now) = server(AuthConfig {
        nkeys: vec![NkeyUser {
            public_key: kp.public_key(),
            permissions: None,
            account: None,
        }],
        ..AuthConfig::default()
    });
    let mut c = s.accept(peer(), now);
    let info = info_json(&drain(&c));
    let nonce = info["nonce"].as_str().unwrap().to_string();
    let sig = data_encoding::BASE64URL_NOPAD.encode(&kp.sign(nonce.as_bytes()).unwrap());
    let connect = format!(
        "CONNECT {{\"verbose\":false,\"nkey\":\"{}\",\"sig\":\"{sig}\"}}\r\nPING\r\n",
        kp.public_key()
    );
    send(&mut c, &connect, now);
    assert_eq!(drain(&c), "PONG\r\n");
    // The same signature on another connection (another nonce) is refused.
    let mut c2 = s.accept(peer(), now);
    let info2 = info_json(&drain(&c2));
    assert_ne!(info2["nonce"], info["nonce"]);
    send(&mut c2, &connect, now);
    assert_eq!(drain(&c2), "-ERR 'Authorization Violation'\r\n");
}

fn restricted() -> Permissions {
    Permissions {
        publish: rules(&["foo.*"], &["foo.secret"]),
        subscribe: rules(&["foo.>", "jobs.* workers"], &["foo.hidden"]),
        allow_responses: None,
    }
}

#[test]
fn publish_permissions_keep_the_connection() {
    let (s, now) = server(users(vec![
        user("a", "b", Some(restricted())),
        user("spy", "x", None),
    ]));
    let (mut spy, _) = login(&s, now, "spy", "x");
    send(&mut spy, "SUB > 1\r\n", now);
    let (mut a, _) = login(&s, now, "a", "b");
    send(
        &mut a,
        "PUB foo.x 1\r\na\r\nPUB bar 1\r\na\r\nPUB foo.secret 1\r\na\r\nPING\r\n",
        now,
    );
    assert_eq!(
        drain(&a),
        "-ERR 'Permissions Violation for Publish to \"bar\"'\r\n-ERR 'Permissions Violation for Publish to \"foo.secret\"'\r\nPONG\r\n"
    );
    assert_eq!(drain(&spy), "MSG foo.x 1 1\r\na\r\n");
    assert_eq!(a.close_reason(), None);
}

#[test]
fn subscribe_permissions_block_wildcard_escalation() {
    let (s, now) = server(users(vec![user("a", "b", Some(restricted()))]));
    let (mut a, _) = login(&s, now, "a", "b");
    send(
        &mut a,
        "SUB > 1\r\nSUB foo.* 2\r\nSUB jobs.a 3\r\nSUB jobs.a workers 4\r\nSUB jobs.a other 5\r\nSUB foo.hidden 6\r\nSUB * 7\r\nPING\r\n",
        now,
    );
    assert_eq!(
        drain(&a),
        concat!(
            "-ERR 'Permissions Violation for Subscription to \">\"'\r\n",
            "-ERR 'Permissions Violation for Subscription to \"jobs.a\"'\r\n",
            "-ERR 'Permissions Violation for Subscription to \"jobs.a\" using queue \"other\"'\r\n",
            "-ERR 'Permissions Violation for Subscription to \"foo.hidden\"'\r\n",
            "-ERR 'Permissions Violation for Subscription to \"*\"'\r\n",
            "PONG\r\n"
        )
    );
    assert_eq!(s.num_subscriptions(), 2);
}

#[test]
fn denied_subjects_never_reach_an_allowed_wildcard() {
    let (s, now) = server(users(vec![
        user("a", "b", Some(restricted())),
        user("p", "p", None),
    ]));
    let (mut a, _) = login(&s, now, "a", "b");
    send(&mut a, "SUB foo.* 1\r\n", now);
    let (mut p, _) = login(&s, now, "p", "p");
    send(
        &mut p,
        "PUB foo.hidden 1\r\nx\r\nPUB foo.ok 1\r\ny\r\n",
        now,
    );
    assert_eq!(drain(&a), "MSG foo.ok 1 1\r\ny\r\n");
}

#[test]
fn allow_responses_lets_a_service_answer_once() {
    let service = Permissions {
        publish: rules(&["none"], &[]),
        subscribe: rules(&["svc"], &[]),
        allow_responses: Some(ResponseRules {
            max: 1,
            expires_ms: 0,
        }),
    };
    let (s, now) = server(users(vec![
        user("svc", "s", Some(service)),
        user("cli", "c", None),
    ]));
    let (mut svc, _) = login(&s, now, "svc", "s");
    send(&mut svc, "SUB svc 1\r\n", now);
    let (mut cli, _) = login(&s, now, "cli", "c");
    send(
        &mut cli,
        "SUB _INBOX.9 1\r\nPUB svc _INBOX.9 1\r\nq\r\n",
        now,
    );
    assert_eq!(drain(&svc), "MSG svc 1 _INBOX.9 1\r\nq\r\n");
    send(
        &mut svc,
        "PUB _INBOX.9 1\r\nr\r\nPUB _INBOX.9 1\r\nr\r\nPUB _INBOX.other 1\r\nr\r\n",
        now,
    );
    assert_eq!(drain(&cli), "MSG _INBOX.9 1 1\r\nr\r\n");
    assert_eq!(
        drain(&svc),
        "-ERR 'Permissions Violation for Publish to \"_INBOX.9\"'\r\n-ERR 'Permissions Violation for Publish to \"_INBOX.other\"'\r\n"
    );
}

#[test]
fn no_auth_user_gets_its_permissions() {
    let mut cfg = users(vec![user("guest", "g", Some(restricted()))]);
    cfg.no_auth_user = Some("guest".into());
    let (s, now) = server(cfg);
    let mut c = s.accept(peer(), now);
    drain(&c);
    send(
        &mut c,
        "CONNECT {\"verbose\":false}\r\nPUB bar 0\r\n\r\nPING\r\n",
        now,
    );
    assert_eq!(
        drain(&c),
        "-ERR 'Permissions Violation for Publish to \"bar\"'\r\nPONG\r\n"
    );
}

fn in_account(mut u: User, account: &str) -> User {
    u.account = Some(account.to_string());
    u
}

#[test]
fn accounts_are_isolated() {
    let (s, now) = server_with_accounts(
        users(vec![
            in_account(user("a1", "p", None), "A"),
            in_account(user("a2", "p", None), "A"),
            in_account(user("b1", "p", None), "B"),
        ]),
        &["A", "B"],
    );
    let (mut b1, _) = login(&s, now, "b1", "p");
    send(&mut b1, "SUB > 1\r\nSUB _INBOX.> 2\r\n", now);
    let (mut a2, _) = login(&s, now, "a2", "p");
    send(&mut a2, "SUB orders.* 1\r\n", now);
    let (mut a1, _) = login(&s, now, "a1", "p");
    send(&mut a1, "PUB orders.new _INBOX.x 2\r\nhi\r\n", now);
    assert_eq!(drain(&a2), "MSG orders.new 1 _INBOX.x 2\r\nhi\r\n");
    assert_eq!(drain(&b1), "", "another account must see nothing");
    // And the other way round.
    send(&mut b1, "PUB orders.new 1\r\nx\r\n", now);
    assert_eq!(drain(&a2), "");
    assert_eq!(s.account("A").unwrap().sublist.count(), 1);
    assert_eq!(s.account("B").unwrap().sublist.count(), 2);
}

#[test]
fn user_bound_to_a_missing_account_is_refused() {
    let (s, now) = server(users(vec![in_account(user("x", "p", None), "NOPE")]));
    assert_eq!(
        login(&s, now, "x", "p").1,
        "-ERR 'Authorization Violation'\r\n"
    );
}

#[test]
fn reload_changes_passwords_and_closes_only_invalidated_connections() {
    let (s, now) = server(users(vec![user("a", "old", None), user("b", "same", None)]));
    let (stale, out) = login(&s, now, "a", "old");
    assert_eq!(out, "PONG\r\n");
    let (mut kept, _) = login(&s, now, "b", "same");
    let mut cfg = (*s.config()).clone();
    cfg.auth = users(vec![user("a", "new", None), user("b", "same", None)]);
    s.reload(cfg).expect("reload");
    assert_eq!(
        login(&s, now, "a", "old").1,
        "-ERR 'Authorization Violation'\r\n"
    );
    assert_eq!(login(&s, now, "a", "new").1, "PONG\r\n");
    send(&mut kept, "PING\r\n", now);
    assert_eq!(drain(&kept), "PONG\r\n");
    assert_eq!(kept.close_reason(), None);
    // As the reference does, the connection whose password changed is closed at once.
    assert_eq!(drain(&stale), "-ERR 'Authorization Violation'\r\n");
    let mut out = BytesMut::new();
    assert_eq!(
        stale
            .shared()
            .outbound
            .poll_transmit(&mut out, Waker::noop()),
        Transmit::Close(CloseReason::AuthenticationViolation)
    );
}

#[test]
fn reload_applies_new_permissions_to_connected_users() {
    let (s, now) = server(users(vec![user("a", "p", None)]));
    let (mut a, _) = login(&s, now, "a", "p");
    send(&mut a, "PUB x 0\r\n\r\nPING\r\n", now);
    assert_eq!(drain(&a), "PONG\r\n");
    let mut cfg = (*s.config()).clone();
    cfg.auth = users(vec![user(
        "a",
        "p",
        Some(Permissions {
            publish: rules(&["y"], &[]),
            ..Permissions::default()
        }),
    )]);
    s.reload(cfg).unwrap();
    send(&mut a, "PUB x 0\r\n\r\nPING\r\n", now);
    assert_eq!(
        drain(&a),
        "-ERR 'Permissions Violation for Publish to \"x\"'\r\nPONG\r\n"
    );
}

#[test]
fn reload_refuses_options_that_cannot_change() {
    let (s, _) = server(AuthConfig::default());
    let mut cfg = (*s.config()).clone();
    cfg.port = 4333;
    let err = s.reload(cfg).unwrap_err();
    assert_eq!(
        err.to_string(),
        "config reload not supported for Port: old=4222, new=4333"
    );
    assert_eq!(s.config().port, 4222);
}

#[test]
fn reload_applies_new_limits_to_existing_connections() {
    let (s, now) = server(AuthConfig::default());
    let mut c = s.accept(peer(), now);
    drain(&c);
    send(
        &mut c,
        "CONNECT {\"verbose\":false}\r\nPUB x 5\r\nhello\r\nPING\r\n",
        now,
    );
    assert_eq!(drain(&c), "PONG\r\n");
    let mut cfg = (*s.config()).clone();
    cfg.max_payload = 4;
    s.reload(cfg).unwrap();
    send(&mut c, "PUB x 5\r\nhello\r\n", now);
    assert_eq!(drain(&c), "-ERR 'Maximum Payload Violation'\r\n");
}

fn imports_server() -> (Arc<Server>, Instant) {
    use engine::import::{ExportConfig, ExportKind, ImportConfig};
    let now = Instant::now();
    let accounts = vec![
        AccountConfig {
            name: "A".into(),
            exports: vec![
                ExportConfig {
                    kind: ExportKind::Stream,
                    subject: "events.>".into(),
                    accounts: vec!["B".into()],
                },
                ExportConfig {
                    kind: ExportKind::Service,
                    subject: "svc.req".into(),
                    accounts: vec![],
                },
            ],
            imports: vec![],
        },
        AccountConfig {
            name: "B".into(),
            exports: vec![],
            imports: vec![
                ImportConfig {
                    kind: ExportKind::Stream,
                    account: "A".into(),
                    subject: "events.x".into(),
                    to: None,
                    prefix: Some("a".into()),
                },
                ImportConfig {
                    kind: ExportKind::Service,
                    account: "A".into(),
                    subject: "svc.req".into(),
                    to: Some("asvc".into()),
                    prefix: None,
                },
            ],
        },
    ];
    let cfg = ServerConfig {
        auth: users(vec![
            in_account(user("a", "a", None), "A"),
            in_account(user("b", "b", None), "B"),
        ]),
        accounts,
        ..ServerConfig::default()
    };
    (
        Server::new(
            cfg,
            ServerSeed {
                identity: [4; 32],
                rng: 9,
            },
            now,
        ),
        now,
    )
}

#[test]
fn stream_import_delivers_only_what_is_imported_with_prefix() {
    let (s, now) = imports_server();
    let (mut b, _) = login(&s, now, "b", "b");
    send(&mut b, "SUB a.events.> 1\r\nSUB events.> 2\r\n", now);
    let (mut a, _) = login(&s, now, "a", "a");
    send(
        &mut a,
        "PUB events.x 2\r\nhi\r\nPUB events.y 2\r\nno\r\n",
        now,
    );
    assert_eq!(drain(&b), "MSG a.events.x 1 2\r\nhi\r\n");
    // B's own namespace is still isolated from A's.
    send(&mut b, "PUB events.x 1\r\nq\r\n", now);
    assert_eq!(drain(&b), "MSG events.x 2 1\r\nq\r\n");
}

#[test]
fn service_import_routes_one_response_back() {
    let (s, now) = imports_server();
    let (mut a, _) = login(&s, now, "a", "a");
    send(&mut a, "SUB svc.req 1\r\n", now);
    let (mut b, _) = login(&s, now, "b", "b");
    send(
        &mut b,
        "SUB _INBOX.1 2\r\nPUB asvc _INBOX.1 3\r\nreq\r\n",
        now,
    );
    let got = drain(&a);
    let reply = got
        .strip_prefix("MSG svc.req 1 ")
        .and_then(|r| r.split(' ').next())
        .unwrap_or_else(|| panic!("{got}"))
        .to_string();
    assert!(reply.starts_with("_R_."), "{reply}");
    assert!(
        !got.contains("_INBOX"),
        "the importer's inbox must not leak: {got}"
    );
    send(
        &mut a,
        &format!("PUB {reply} 3\r\nans\r\nPUB {reply} 4\r\nans2\r\n"),
        now,
    );
    assert_eq!(drain(&b), "MSG _INBOX.1 2 3\r\nans\r\n");
    // A's clients cannot reach B's inbox directly.
    send(&mut a, "PUB _INBOX.1 1\r\nx\r\n", now);
    assert_eq!(drain(&b), "");
}

#[test]
fn unanswered_response_routes_expire() {
    let (s, now) = imports_server();
    let (mut a, _) = login(&s, now, "a", "a");
    send(&mut a, "SUB svc.req 1\r\n", now);
    let (mut b, _) = login(&s, now, "b", "b");
    for _ in 0..5 {
        send(&mut b, "PUB asvc _INBOX.1 1\r\nr\r\n", now);
    }
    let acc = s.account("A").unwrap();
    assert_eq!(acc.pending_responses(), 5);
    let later = now + engine::account::RESPONSE_TIMEOUT + Duration::from_secs(1);
    send(&mut b, "PUB asvc _INBOX.1 1\r\nr\r\n", later);
    assert_eq!(acc.pending_responses(), 1);
}
