//! Parser tests: every syntax form, variables, includes, errors and their positions.

use std::collections::HashMap;

use super::*;

#[derive(Default)]
struct Mem {
    files: HashMap<String, String>,
    env: HashMap<String, String>,
}

impl Host for Mem {
    fn read(&mut self, path: &str) -> Result<Vec<u8>, String> {
        self.files
            .get(path)
            .map(|s| s.clone().into_bytes())
            .ok_or_else(|| format!("open {path}: no such file or directory"))
    }
    fn env(&self, name: &str) -> Option<String> {
        self.env.get(name).cloned()
    }
}

fn parse(s: &str) -> Result<Map, ConfError> {
    parse_bytes(s.as_bytes(), "t.conf", &mut Mem::default()).map(|d| d.root)
}

fn json(s: &str) -> String {
    digest::to_json(&parse(s).unwrap())
}

#[test]
fn separators_and_comments() {
    let want = r#"{"a":1,"b":2,"c":3}"#;
    assert_eq!(json("a = 1\nb: 2\nc 3\n"), want);
    assert_eq!(json("a=1; b=2; c=3"), want);
    assert_eq!(json("# hi\na = 1 # one\n// two\nb: 2 // x\nc 3"), want);
    assert_eq!(json("{\n a: 1,\n b: 2,\n c: 3\n}\n"), want);
    assert_eq!(json("\"a\": 1\n'b' = 2\nc 3"), want);
}

#[test]
fn maps_and_arrays() {
    assert_eq!(
        json("m { x: 1, y = [1, 2\n 3 ] }\nn: {}\no: [ ]"),
        r#"{"m":{"x":1,"y":[1,2,3]},"n":{},"o":[]}"#
    );
    assert_eq!(
        json("m {\n  x: 1\n  y: { z: \"q\" }\n}"),
        r#"{"m":{"x":1,"y":{"z":"q"}}}"#
    );
    assert_eq!(json("a [\n  # c\n  1\n  2 // d\n]"), r#"{"a":[1,2]}"#);
}

#[test]
fn scalars() {
    assert_eq!(
        json("a: 'x y'\nb: \"q\\n\\\"\"\nc: bare\nd: 127.0.0.1:4222\ne: 1.5\nf: -3"),
        r#"{"a":"x y","b":"q\n\"","c":"bare","d":"127.0.0.1:4222","e":1.5,"f":-3}"#
    );
    assert_eq!(
        json("a: TRUE\nb: no\nc: On\nd: off\ne: Yes\nf: false"),
        r#"{"a":true,"b":false,"c":true,"d":false,"e":true,"f":false}"#
    );
    assert_eq!(
        json("a: 2016-05-04T18:53:41Z"),
        r#"{"a":"2016-05-04T18:53:41Z"}"#
    );
    assert_eq!(json("a: (\nline\n)\n"), "{\"a\":\"\\nline\\n\"}");
}

#[test]
fn size_suffixes() {
    let v = |s: &str| parse(&format!("a: {s}")).unwrap()["a"].value.clone();
    assert_eq!(v("1k"), Value::Int(1000));
    assert_eq!(v("1K"), Value::Int(1000));
    assert_eq!(v("1KB"), Value::Int(1024));
    assert_eq!(v("1ki"), Value::Int(1024));
    assert_eq!(v("2MiB"), Value::Int(2 * 1024 * 1024));
    assert_eq!(v("1m"), Value::Int(1_000_000));
    assert_eq!(v("1G"), Value::Int(1_000_000_000));
    assert_eq!(v("1gb"), Value::Int(1 << 30));
    assert_eq!(v("1T"), Value::Int(1_000_000_000_000));
    assert_eq!(v("-2k"), Value::Int(-2000));
    // An unknown suffix sets nothing at all, as in the reference.
    assert!(!parse("a: 1kbi").unwrap().contains_key("a"));
    // Letters after digits that are not a suffix make a string.
    assert_eq!(v("4333x"), Value::String("4333x".into()));
}

#[test]
fn variables_scope_and_environment() {
    let m = parse("a = 1\nb { a = 2, c = $a }\nd = $a").unwrap();
    assert_eq!(digest::to_json(&m), r#"{"a":1,"b":{"a":2,"c":2},"d":1}"#);
    assert!(m["a"].used_variable);
    let mut host = Mem::default();
    host.env.insert("P".into(), "4333".into());
    host.env.insert("S".into(), "1KB".into());
    let m = parse_bytes(b"port: $P\nsize: $S", "t.conf", &mut host)
        .unwrap()
        .root;
    assert_eq!(m["port"].value, Value::Int(4333));
    assert_eq!(m["size"].value, Value::Int(1024));
    assert_eq!(
        parse("port: $NOPE_NOT_SET").unwrap_err().to_string(),
        "variable reference for 'NOPE_NOT_SET' on line 1 can not be found"
    );
    host.env.insert("A".into(), "$B".into());
    host.env.insert("B".into(), "$A".into());
    let e = parse_bytes(b"x: $A", "t.conf", &mut host).unwrap_err();
    assert!(
        e.to_string().contains("variable reference cycle for 'A'"),
        "{e}"
    );
    assert_eq!(
        parse("p: $2a$11$abc").unwrap()["p"].value,
        Value::String("$2a$11$abc".into())
    );
}

#[test]
fn includes_relative_to_the_including_file() {
    let mut host = Mem::default();
    host.files.insert(
        "dir/main.conf".into(),
        "a: 1\ninclude 'sub/inc.conf'\n".into(),
    );
    host.files.insert(
        "dir/sub/inc.conf".into(),
        "b: 2\ninclude \"../more.conf\"".into(),
    );
    host.files.insert("dir/more.conf".into(), "c: $b".into());
    let e = parse_file("dir/main.conf", &mut host).unwrap_err();
    // Variables of the including file are not visible in the included one.
    assert!(e.to_string().starts_with("error parsing include file 'sub/inc.conf', error parsing include file '../more.conf', variable reference for 'b'"), "{e}");
    host.files.insert("dir/more.conf".into(), "c: 3".into());
    let doc = parse_file("dir/main.conf", &mut host).unwrap();
    assert_eq!(digest::to_json(&doc.root), r#"{"a":1,"b":2,"c":3}"#);
    assert_eq!(&*doc.root["c"].file, "dir/more.conf");
    assert_eq!(
        parse("include nope.conf").unwrap_err().to_string(),
        "error parsing include file 'nope.conf', open nope.conf: no such file or directory"
    );
    host.files
        .insert("self.conf".into(), "include self.conf".into());
    assert!(parse_file("self.conf", &mut host).is_err());
}

#[test]
fn positions_are_the_keys() {
    let m = parse("port: 1\n  max_payload = 2\n\tm { x: 1 }").unwrap();
    assert_eq!((m["port"].line, m["port"].pos), (1, 0));
    assert_eq!((m["max_payload"].line, m["max_payload"].pos), (2, 3));
    assert_eq!((m["m"].line, m["m"].pos), (3, 2));
    let Value::Map(inner) = &m["m"].value else {
        panic!("map")
    };
    assert_eq!((inner["x"].line, inner["x"].pos), (3, 6));
    assert_eq!(m["port"].source(), "t.conf:1:0");
}

#[test]
fn errors() {
    let e = |s: &str| parse(s).unwrap_err().to_string();
    assert_eq!(
        e("port = \n"),
        "Parse error on line 2: 'Expected value but found new line'"
    );
    assert_eq!(e("port"), "config is invalid (t.conf:1:4)");
    assert_eq!(
        e("a: 99999999999999999999"),
        "integer '99999999999999999999' is out of the range"
    );
    assert_eq!(
        e("a: 2016-13-04T18:53:41Z"),
        "expected Zulu formatted DateTime, but got '2016-13-04T18:53:41Z'"
    );
    assert_eq!(
        e("a {\n b: 1\n"),
        "Parse error on line 3: 'Unexpected EOF processing map.'"
    );
    assert_eq!(
        e("a: [1 2]"),
        "Parse error on line 1: 'Expected an array value terminator \",\" or an array terminator \"]\", but got '2' instead.'"
    );
    assert_eq!(
        e("a: \"\\q\""),
        "Parse error on line 1: 'Invalid escape character 'q'. Only the following escape characters are allowed: \\xXX, \\t, \\n, \\r, \\\", \\\\.'"
    );
}

#[test]
fn digest_matches_the_reference() {
    // Digests printed by the reference `nats-server -t` for these files.
    let d = |s: &str| {
        parse_bytes(s.as_bytes(), "x.conf", &mut Mem::default())
            .unwrap()
            .digest()
    };
    assert_eq!(
        d("port: 4333\n"),
        "sha256:5942f6739f1572892ba80b954eee212713f172258629e16936dfeeae8e2eb80d"
    );
    assert_eq!(
        d("a = 1\nport: $a\n"),
        "sha256:a4674c0c66dc793076b14a24edf2ceedf3ad31488e51ee3a2f93e065cc621501"
    );
    assert_eq!(
        d("jetstream {}\n"),
        "sha256:db1138191431f4c0ab05ad804b65e3602594e7a3dc28272f662b65e0bfa10aea"
    );
}

#[test]
fn options_mapping() {
    let map = |s: &str| {
        map_options(
            "x.conf",
            &parse_bytes(s.as_bytes(), "x.conf", &mut Mem::default())
                .unwrap()
                .root,
        )
    };
    let m = map("listen: 127.0.0.1:4333\nmax_payload: 1KB\nping_interval: \"1m30s\"\nserver_name: n\nhttp: 8222\nfoo_var = 5\nmax_subs: $foo_var");
    assert!(m.errors.is_empty() && m.warnings.is_empty(), "{m:?}");
    assert_eq!(m.options.host.as_deref(), Some("127.0.0.1"));
    assert_eq!(m.options.port, Some(4333));
    assert_eq!(m.options.max_payload, Some(1024));
    assert_eq!(
        m.options.ping_interval,
        Some(std::time::Duration::from_secs(90))
    );
    assert_eq!(m.options.monitoring.http_port, Some(8222));
    assert_eq!(m.options.max_subscriptions, Some(5));
    let m = map("foo: bar\nport: x\nping_interval: 60\nmax_payload: 3GB\nlisten: localhost");
    let errs: Vec<String> = m.errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        errs,
        [
            "x.conf:1:0: unknown field \"foo\"",
            "x.conf:2:1: interface conversion: interface {} is string, not int64",
            "x.conf:4:1: max_payload value is too big",
            "x.conf:5:1: could not parse address string \"localhost\"",
        ]
    );
    assert_eq!(m.warnings[0].to_string(), "x.conf:3:1: invalid use of field \"ping_interval\": ping_interval should be converted to a duration");
    let m = map("authorization { user: a, password: b }\ncluster { port: 6222 }");
    assert!(m.errors.is_empty(), "{m:?}");
    assert_eq!(m.options.security.auth_config().users[0].username, "a");
    assert_eq!(m.options.cluster.as_ref().and_then(|c| c.port), Some(6222));
    assert!(m.ignored.is_empty());
    let m = map("cluster { name: t, listen: \"127.0.0.1:6222\", authorization { user: ruser, password: pw, timeout: 0.5 }, routes: [\"nats-route://a:b@127.0.0.1:6223\"], pool_size: 5, accounts: [A], no_advertise: true, connect_retries: 3, permissions { import: [\"foo\"], export: { allow: [\"bar\"] } } }");
    assert!(m.errors.is_empty(), "{m:?}");
    let c = m.options.cluster.expect("cluster block");
    assert_eq!((c.host.as_deref(), c.port), (Some("127.0.0.1"), Some(6222)));
    assert_eq!(c.user.as_deref(), Some("ruser"));
    assert_eq!(c.routes.len(), 1);
    assert_eq!(c.import.map(|r| r.allow), Some(vec!["foo".to_string()]));
    let m = map("cluster {\n  name: \"a b\"\n  foo: 1\n}");
    let errs: Vec<String> = m.errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        errs,
        [
            "x.conf:2:3: cluster name cannot contain spaces",
            "x.conf:3:3: unknown field \"foo\""
        ]
    );
    let m = map("tls { cert_file: x, key_file: y, verify: true, timeout: 0.5 }");
    assert!(m.errors.is_empty(), "{m:?}");
    let tls = m.options.tls.expect("tls block");
    assert!(tls.verify);
    assert_eq!(tls.timeout, Some(std::time::Duration::from_millis(500)));
    let m = map("tls { cert_file: x, cipher_suites: [a] }");
    assert_eq!(m.errors.len(), 1);
    assert!(m.errors[0].message.contains("cipher_suites"), "{m:?}");
    assert_eq!(
        map("").warnings[0].to_string(),
        "x.conf: config has no values or is empty"
    );
}

#[test]
fn mutated_inputs_never_panic() {
    let base = b"port: 4222\nm { a = [1, 2 ], b: \"x\\ty\" } # c\ninclude 'i.conf'\nv = $ENV\n\
                 s: (\nblock\n)\nd: 2016-05-04T18:53:41Z\nf: 1.5e\nip: 127.0.0.1:4222\n{ k: 'q' }";
    let alphabet = b"{}[]()=:;,#/'\"\\$ \n\t\r0123456789.-xkKbBiIeEZT\0\xff\xc3";
    let mut host = Mem::default();
    host.files.insert("i.conf".into(), "x: 1\n".into());
    host.env.insert("ENV".into(), "[1, 2 ]".into());
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..3000 {
        let mut input = base.to_vec();
        for _ in 0..(rand() % 8 + 1) {
            let at = (rand() as usize) % (input.len() + 1);
            let byte = alphabet[(rand() as usize) % alphabet.len()];
            match rand() % 3 {
                0 => input.insert(at, byte),
                1 if at < input.len() => {
                    input.remove(at);
                }
                _ if at < input.len() => input[at] = byte,
                _ => {}
            }
        }
        if let Ok(doc) = parse_bytes(&input, "t.conf", &mut host) {
            assert!(doc.digest().starts_with("sha256:"));
            let _ = map_options("t.conf", &doc.root);
        }
    }
}
