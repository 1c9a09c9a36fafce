//! The `authorization` and `accounts` blocks, and `no_auth_user`, mapped onto
//! [`crate::auth::AuthConfig`] and [`crate::AccountConfig`].

use std::sync::Arc;
use std::time::Duration;

use super::options::Issue;
use super::value::{Map, Token, Value};
use crate::account::AccountConfig;
use crate::auth::{AuthConfig, NkeyUser, Permissions, ResponseRules, Secret, SubjectRules, User};
use crate::import::{authorize, ExportConfig, ExportKind, ImportConfig};

/// What the security blocks of a file set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecurityOptions {
    /// The `authorization` block, if any.
    pub authorization: Option<AuthConfig>,
    /// Accounts of the `accounts` block.
    pub accounts: Vec<AccountConfig>,
    /// Users declared inside accounts (bound to them).
    pub account_users: Vec<User>,
    /// NKEY users declared inside accounts (bound to them).
    pub account_nkeys: Vec<NkeyUser>,
    /// `no_auth_user`.
    pub no_auth_user: Option<String>,
}

impl SecurityOptions {
    /// The authentication configuration all of this amounts to.
    pub fn auth_config(&self) -> AuthConfig {
        let mut auth = self.authorization.clone().unwrap_or_default();
        auth.users.extend(self.account_users.iter().cloned());
        auth.nkeys.extend(self.account_nkeys.iter().cloned());
        if self.no_auth_user.is_some() {
            auth.no_auth_user = self.no_auth_user.clone();
        }
        auth
    }

    /// Whether the file configures anything here.
    pub fn is_set(&self) -> bool {
        self.authorization.is_some()
            || !self.accounts.is_empty()
            || !self.account_users.is_empty()
            || !self.account_nkeys.is_empty()
            || self.no_auth_user.is_some()
    }
}

/// Collects errors with the position of the value they are about.
struct Errors<'a>(&'a mut Vec<Issue>);

impl Errors<'_> {
    fn at(&mut self, tok: &Token, message: impl Into<String>) {
        self.0.push(Issue {
            source: Some(tok.source()),
            message: message.into(),
        });
    }
}

fn map<'t>(e: &mut Errors<'_>, tok: &'t Token, what: &str) -> Option<&'t Map> {
    match &tok.value {
        Value::Map(m) => Some(m),
        other => {
            e.at(
                tok,
                format!("Expected {what} to be a map, got {}", other.go_type()),
            );
            None
        }
    }
}

fn string(e: &mut Errors<'_>, tok: &Token) -> Option<String> {
    match &tok.value {
        Value::String(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        other => {
            e.at(
                tok,
                format!(
                    "interface conversion: interface {{}} is {}, not string",
                    other.go_type()
                ),
            );
            None
        }
    }
}

/// A key of `m`, case-insensitively, under any of `names`.
fn get<'t>(m: &'t Map, names: &[&str]) -> Option<&'t Token> {
    m.iter()
        .find(|(k, _)| names.iter().any(|n| k.eq_ignore_ascii_case(n)))
        .map(|(_, v)| v)
}

/// A string or a list of strings.
fn string_list(e: &mut Errors<'_>, tok: &Token) -> Vec<String> {
    match &tok.value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().filter_map(|t| string(e, t)).collect(),
        other => {
            e.at(
                tok,
                format!(
                    "Expected a subject or list of subjects, got {}",
                    other.go_type()
                ),
            );
            Vec::new()
        }
    }
}

/// `publish`/`subscribe`: a subject, a list, or `{allow, deny}`.
fn subject_rules(e: &mut Errors<'_>, tok: &Token) -> SubjectRules {
    match &tok.value {
        Value::Map(m) => {
            let mut rules = SubjectRules::default();
            for (k, v) in m {
                match k.to_ascii_lowercase().as_str() {
                    "allow" => rules.allow = string_list(e, v),
                    "deny" => rules.deny = string_list(e, v),
                    other => e.at(v, format!("Unknown field \"{other}\" parsing permissions")),
                }
            }
            rules
        }
        _ => SubjectRules {
            allow: string_list(e, tok),
            deny: Vec::new(),
        },
    }
}

fn response_rules(e: &mut Errors<'_>, tok: &Token) -> Option<ResponseRules> {
    match &tok.value {
        Value::Bool(false) => None,
        Value::Bool(true) => Some(ResponseRules {
            max: 1,
            expires_ms: 0,
        }),
        Value::Map(m) => {
            let mut r = ResponseRules {
                max: 1,
                expires_ms: 0,
            };
            for (k, v) in m {
                match (k.to_ascii_lowercase().as_str(), &v.value) {
                    ("max" | "max_msgs" | "max_messages" | "max_responses", Value::Int(n)) => {
                        r.max = u32::try_from((*n).max(1)).unwrap_or(u32::MAX);
                    }
                    ("expires" | "expiration" | "ttl", Value::String(s)) => {
                        match super::duration::parse_duration(s) {
                            Ok(ns) => r.expires_ms = u64::try_from(ns / 1_000_000).unwrap_or(0),
                            Err(err) => e.at(v, format!("error parsing expires: {err}")),
                        }
                    }
                    (other, _) => e.at(
                        v,
                        format!("Unknown field \"{other}\" parsing allow_responses"),
                    ),
                }
            }
            Some(r)
        }
        other => {
            e.at(
                tok,
                format!(
                    "Expected allow_responses to be a boolean or map, got {}",
                    other.go_type()
                ),
            );
            None
        }
    }
}

fn permissions(e: &mut Errors<'_>, tok: &Token) -> Option<Arc<Permissions>> {
    let m = map(e, tok, "permissions")?;
    let mut p = Permissions::default();
    for (k, v) in m {
        match k.to_ascii_lowercase().as_str() {
            "publish" | "pub" | "import" => p.publish = Some(subject_rules(e, v)),
            "subscribe" | "sub" | "export" => p.subscribe = Some(subject_rules(e, v)),
            "allow_responses" | "allow_resp" => p.allow_responses = response_rules(e, v),
            other => e.at(v, format!("Unknown field \"{other}\" parsing permissions")),
        }
    }
    Some(Arc::new(p))
}

/// One entry of a `users` list: a password user or an NKEY user.
enum UserEntry {
    Password(User),
    Nkey(NkeyUser),
}

fn user_entry(
    e: &mut Errors<'_>,
    tok: &Token,
    account: Option<&str>,
    default_permissions: Option<&Arc<Permissions>>,
) -> Option<UserEntry> {
    let m = map(e, tok, "user entry")?;
    let perms = match get(m, &["permissions", "permission", "perms"]) {
        Some(p) => permissions(e, p),
        None => default_permissions.cloned(),
    };
    let account = account.map(str::to_string);
    if let Some(nkey) = get(m, &["nkey"]) {
        let key = string(e, nkey)?;
        if !key.starts_with('U') || nkeys::KeyPair::from_public_key(&key).is_err() {
            e.at(nkey, format!("Not a valid public nkey for a user: {key:?}"));
            return None;
        }
        return Some(UserEntry::Nkey(NkeyUser {
            public_key: key,
            permissions: perms,
            account,
        }));
    }
    let Some(name) = get(m, &["user", "username"]) else {
        e.at(tok, "User entry requires a user");
        return None;
    };
    let username = string(e, name)?;
    let password = get(m, &["password", "pass"])
        .and_then(|p| string(e, p))
        .unwrap_or_default();
    Some(UserEntry::Password(User {
        username,
        password: Secret::new(password),
        permissions: perms,
        account,
    }))
}

fn users_list(
    e: &mut Errors<'_>,
    tok: &Token,
    account: Option<&str>,
    default_permissions: Option<&Arc<Permissions>>,
    users: &mut Vec<User>,
    nkeys: &mut Vec<NkeyUser>,
) {
    let Value::Array(items) = &tok.value else {
        e.at(
            tok,
            format!(
                "Expected users field to be an array, got {}",
                tok.value.go_type()
            ),
        );
        return;
    };
    for item in items {
        match user_entry(e, item, account, default_permissions) {
            Some(UserEntry::Password(u)) => users.push(u),
            Some(UserEntry::Nkey(n)) => nkeys.push(n),
            None => {}
        }
    }
}

/// The `authorization` block.
pub(super) fn authorization(tok: &Token, errors: &mut Vec<Issue>) -> Option<AuthConfig> {
    let mut e = Errors(errors);
    let m = map(&mut e, tok, "authorization")?;
    let mut auth = AuthConfig::default();
    let default_permissions = get(m, &["default_permissions"]).and_then(|p| permissions(&mut e, p));
    let mut single_user: Option<(String, String)> = None;
    for (k, v) in m {
        match k.to_ascii_lowercase().as_str() {
            "user" | "username" => {
                let name = string(&mut e, v).unwrap_or_default();
                single_user.get_or_insert_with(Default::default).0 = name;
            }
            "pass" | "password" => {
                let pw = string(&mut e, v).unwrap_or_default();
                single_user.get_or_insert_with(Default::default).1 = pw;
            }
            "token" => auth.token = string(&mut e, v).map(Secret::new),
            "timeout" => match v.value {
                Value::Int(s) => auth.timeout = Duration::from_secs(u64::try_from(s).unwrap_or(0)),
                Value::Float(s) if s >= 0.0 => auth.timeout = Duration::from_secs_f64(s),
                _ => e.at(v, "error parsing authorization timeout"),
            },
            "users" => users_list(
                &mut e,
                v,
                None,
                default_permissions.as_ref(),
                &mut auth.users,
                &mut auth.nkeys,
            ),
            "permissions" | "permission" | "perms" | "default_permissions" => {}
            other => e.at(
                v,
                format!("Unknown field \"{other}\" parsing authorization"),
            ),
        }
    }
    if let Some((username, password)) = single_user {
        let perms = get(m, &["permissions", "permission", "perms"])
            .and_then(|p| permissions(&mut e, p))
            .or(default_permissions);
        auth.users.push(User {
            username,
            password: Secret::new(password),
            permissions: perms,
            account: None,
        });
    }
    if auth.token.is_some() && !auth.users.is_empty() {
        e.at(tok, "Can not have a token and a users array");
    }
    Some(auth)
}

/// The `accounts` block: `NAME: { users: [...], exports: [...], imports: [...] }` entries.
pub(super) fn accounts(tok: &Token, errors: &mut Vec<Issue>, out: &mut SecurityOptions) {
    let mut e = Errors(errors);
    let Some(m) = map(&mut e, tok, "accounts") else {
        return;
    };
    for (name, body) in m {
        let mut account = AccountConfig {
            name: name.clone(),
            ..AccountConfig::default()
        };
        if let Value::Map(fields) = &body.value {
            for (k, v) in fields {
                match k.to_ascii_lowercase().as_str() {
                    "users" => users_list(
                        &mut e,
                        v,
                        Some(name),
                        None,
                        &mut out.account_users,
                        &mut out.account_nkeys,
                    ),
                    "exports" => account.exports = exports(&mut e, v),
                    "imports" => account.imports = imports(&mut e, v),
                    other @ ("mappings" | "maps" | "jetstream" | "js") => {
                        e.at(
                            v,
                            format!(
                                "account {name:?}: {other:?} is not supported by this server yet; \
                                 refusing to start rather than ignore it"
                            ),
                        );
                    }
                    other => e.at(
                        v,
                        format!("Unknown field \"{other}\" parsing account {name:?}"),
                    ),
                }
            }
        }
        out.accounts.push(account);
    }
    // Imports must be allowed by an export of the account they name.
    for importer in &out.accounts {
        for import in &importer.imports {
            let exports = out
                .accounts
                .iter()
                .find(|a| a.name == import.account)
                .map(|a| a.exports.as_slice());
            if let Err(err) = authorize(&importer.name, import, exports) {
                e.at(tok, err.to_string());
            }
        }
    }
}

fn entries<'t>(e: &mut Errors<'_>, tok: &'t Token, what: &str) -> &'t [Token] {
    match &tok.value {
        Value::Array(items) => items,
        other => {
            e.at(
                tok,
                format!("{what} should be an array, got {}", other.go_type()),
            );
            &[]
        }
    }
}

fn exports(e: &mut Errors<'_>, tok: &Token) -> Vec<ExportConfig> {
    let mut out = Vec::new();
    for item in entries(e, tok, "Exports") {
        let Some(m) = map(e, item, "export") else {
            continue;
        };
        let (kind, subject) = match (get(m, &["stream"]), get(m, &["service"])) {
            (Some(s), None) => (ExportKind::Stream, s),
            (None, Some(s)) => (ExportKind::Service, s),
            _ => {
                e.at(item, "Export needs exactly one of stream or service");
                continue;
            }
        };
        let Some(subject) = string(e, subject) else {
            continue;
        };
        if let Some(rt) = get(m, &["response", "response_type"]) {
            if string(e, rt).is_some_and(|t| !t.eq_ignore_ascii_case("singleton")) {
                e.at(
                    rt,
                    "only singleton service responses are supported by this server yet; \
                     refusing to start rather than ignore it",
                );
            }
        }
        let accounts = get(m, &["accounts"])
            .map(|a| string_list(e, a))
            .unwrap_or_default();
        out.push(ExportConfig {
            kind,
            subject,
            accounts,
        });
    }
    out
}

fn imports(e: &mut Errors<'_>, tok: &Token) -> Vec<ImportConfig> {
    let mut out = Vec::new();
    for item in entries(e, tok, "Imports") {
        let Some(m) = map(e, item, "import") else {
            continue;
        };
        let (kind, source) = match (get(m, &["stream"]), get(m, &["service"])) {
            (Some(s), None) => (ExportKind::Stream, s),
            (None, Some(s)) => (ExportKind::Service, s),
            _ => {
                e.at(item, "Import needs exactly one of stream or service");
                continue;
            }
        };
        let Some(src) = map(e, source, "import source") else {
            continue;
        };
        let (Some(account), Some(subject)) = (
            get(src, &["account"]).and_then(|t| string(e, t)),
            get(src, &["subject"]).and_then(|t| string(e, t)),
        ) else {
            e.at(source, "Import needs an account and a subject");
            continue;
        };
        out.push(ImportConfig {
            kind,
            account,
            subject,
            to: get(m, &["to"]).and_then(|t| string(e, t)),
            prefix: get(m, &["prefix"]).and_then(|t| string(e, t)),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conf::{parse_bytes, Host};

    struct NoFiles;
    impl Host for NoFiles {
        fn read(&mut self, path: &str) -> Result<Vec<u8>, String> {
            Err(format!("open {path}: no such file or directory"))
        }
        fn env(&self, _name: &str) -> Option<String> {
            None
        }
    }

    fn parsed(text: &str) -> (SecurityOptions, Vec<Issue>) {
        let root = parse_bytes(text.as_bytes(), "t.conf", &mut NoFiles)
            .expect("parses")
            .root;
        let mut out = SecurityOptions::default();
        let mut errors = Vec::new();
        if let Some(t) = root.get("authorization") {
            out.authorization = authorization(t, &mut errors);
        }
        if let Some(t) = root.get("accounts") {
            accounts(t, &mut errors, &mut out);
        }
        (out, errors)
    }

    #[test]
    fn single_user_and_users_with_permissions() {
        let (o, errs) = parsed(
            r#"authorization {
                 users = [
                   {user: a, password: b, permissions: {publish: {allow: ["foo.*"], deny: "foo.x"}, subscribe: ["bar", "jobs.* workers"], allow_responses: {max: 3, expires: "1m"}}}
                   {nkey: UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4}
                 ]
                 timeout: 1.5
               }"#,
        );
        assert!(errs.is_empty(), "{errs:?}");
        let auth = o.auth_config();
        assert_eq!(auth.users.len(), 1);
        assert_eq!(auth.nkeys.len(), 1);
        assert_eq!(auth.timeout, Duration::from_millis(1500));
        let p = auth.users[0].permissions.as_deref().unwrap();
        assert_eq!(p.publish.as_ref().unwrap().deny, ["foo.x"]);
        assert_eq!(
            p.subscribe.as_ref().unwrap().allow,
            ["bar", "jobs.* workers"]
        );
        assert_eq!(
            p.allow_responses,
            Some(ResponseRules {
                max: 3,
                expires_ms: 60_000
            })
        );
        let (o, errs) = parsed("authorization { user: u, password: p, timeout: 3 }");
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(o.auth_config().users[0].username, "u");
    }

    #[test]
    fn accounts_bind_users() {
        let (o, errs) = parsed(
            "accounts { A: { users: [{user: a, password: a}] }, B: { users: [{user: b, password: b}] } }",
        );
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(o.accounts.len(), 2);
        let auth = o.auth_config();
        assert_eq!(auth.users.len(), 2);
        assert!(auth
            .users
            .iter()
            .all(|u| u.account.as_deref() == Some(u.username.to_uppercase().as_str())));
    }

    #[test]
    fn exports_and_imports() {
        let (o, errs) = parsed(
            r#"accounts {
                 A: { exports: [ {stream: "events.>", accounts: [B]}, {service: "svc.req"} ] }
                 B: { imports: [ {stream: {account: A, subject: "events.x"}, prefix: "a"}, {service: {account: A, subject: "svc.req"}, to: "asvc"} ] }
               }"#,
        );
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(o.accounts[0].exports.len(), 2);
        assert_eq!(o.accounts[1].imports[1].to.as_deref(), Some("asvc"));
        let (_, errs) = parsed(
            "accounts { A: { exports: [ {stream: \"e.>\", accounts: [C]} ] }, B: { imports: [ {stream: {account: A, subject: \"e.x\"}} ] } }",
        );
        assert_eq!(errs.len(), 1);
        assert_eq!(
            errs[0].message,
            "Error adding stream import \"e.x\": stream import not authorized"
        );
    }

    #[test]
    fn unsupported_parts_are_refused_not_ignored() {
        let (_, errs) = parsed("accounts { A: { mappings: { a: b } } }");
        assert_eq!(errs.len(), 1);
        assert!(errs[0].message.contains("mappings"), "{errs:?}");
        let (_, errs) = parsed("authorization { token: t, users: [{user: a, password: b}] }");
        assert!(!errs.is_empty());
    }
}
