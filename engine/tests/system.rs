//! The system account without sockets: requests reach the installed handler only from the
//! system account, answers go back through `publish_internal`, and client advisories fire.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::task::Waker;
use std::time::Instant;

use bytes::BytesMut;
use engine::auth::{AuthConfig, Secret, User};
use engine::system::{SystemEvent, SystemHandler, SystemRequestKind};
use engine::{AccountConfig, Client, Server, ServerConfig, ServerSeed, Transmit};

#[derive(Debug, Default)]
struct Recorder(Mutex<Vec<String>>);

impl SystemHandler for Recorder {
    fn handle(&self, server: &Server, event: SystemEvent) {
        let line = match &event {
            SystemEvent::Request(r) => {
                server.publish_internal(&server.system_account(), &r.reply, b"answer");
                format!("request {:?}", r.kind)
            }
            SystemEvent::ClientConnect { account, user, .. } => {
                format!("connect {account} {user:?}")
            }
            SystemEvent::ClientDisconnect {
                account, client, ..
            } => {
                format!("disconnect {account} {}", client.reason)
            }
        };
        self.0.lock().unwrap().push(line);
    }
}

fn user(name: &str, account: &str) -> User {
    User {
        username: name.into(),
        password: Secret::new(name),
        permissions: None,
        account: Some(account.into()),
    }
}

fn drain(c: &Client) -> String {
    let mut out = BytesMut::new();
    let mut text = String::new();
    while let Transmit::Data = c.shared().outbound.poll_transmit(&mut out, Waker::noop()) {
        text.push_str(&String::from_utf8_lossy(&out));
        out.clear();
        c.shared().outbound.handle_written();
    }
    text
}

fn login(s: &Arc<Server>, now: Instant, name: &str) -> Client {
    let peer: SocketAddr = "127.0.0.1:1".parse().unwrap();
    let mut c = s.accept(peer, now);
    drain(&c);
    let mut b = BytesMut::from(
        format!("CONNECT {{\"verbose\":false,\"user\":\"{name}\",\"pass\":\"{name}\"}}\r\n")
            .as_bytes(),
    );
    c.handle_input(&mut b, now);
    c
}

#[test]
fn requests_and_advisories() {
    let now = Instant::now();
    let cfg = ServerConfig {
        auth: AuthConfig {
            users: vec![user("sys", "$SYS"), user("a", "A")],
            ..AuthConfig::default()
        },
        accounts: vec![
            AccountConfig {
                name: "$SYS".into(),
                ..AccountConfig::default()
            },
            AccountConfig {
                name: "A".into(),
                ..AccountConfig::default()
            },
        ],
        ..ServerConfig::default()
    };
    let s = Server::new(
        cfg,
        ServerSeed {
            identity: [1; 32],
            rng: 2,
        },
        now,
    );
    let rec = Arc::new(Recorder::default());
    s.set_system_handler(rec.clone());
    let mut sys = login(&s, now, "sys");
    let mut b =
        BytesMut::from(&b"SUB _INBOX.r 1\r\nPUB $SYS.REQ.SERVER.PING.VARZ _INBOX.r 0\r\n\r\n"[..]);
    sys.handle_input(&mut b, now);
    assert_eq!(drain(&sys), "MSG _INBOX.r 1 6\r\nanswer\r\n");
    // The same subject from another account is just a subject.
    let mut a = login(&s, now, "a");
    let mut b =
        BytesMut::from(&b"SUB _INBOX.r 1\r\nPUB $SYS.REQ.SERVER.PING _INBOX.r 0\r\n\r\n"[..]);
    a.handle_input(&mut b, now);
    assert_eq!(drain(&a), "");
    a.handle_read_closed(engine::CloseReason::ClientClosed);
    a.finish(now);
    let events = rec.0.lock().unwrap().clone();
    assert_eq!(
        events,
        [
            "connect $SYS Some(\"sys\")".to_string(),
            format!("request {:?}", SystemRequestKind::Varz),
            "connect A Some(\"a\")".to_string(),
            "disconnect A Client Closed".to_string(),
        ]
    );
}
