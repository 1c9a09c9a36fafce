//! Who may connect, and what they may do once connected.
//!
//! [`AuthConfig`] holds the configured credentials (single user, users list, NKEY users, token,
//! `no_auth_user`); [`AuthConfig::authenticate`] checks a client's CONNECT against them and
//! returns the [`Identity`] the connection then runs as, with its [`Permissions`].

mod cert;
mod nonce;
mod permissions;
mod secret;

use std::sync::Arc;
use std::time::Duration;

use proto::ConnectInfo;

pub use cert::cert_identities;
pub use nonce::nonce_for;
pub use permissions::{is_subset_match, Permissions, ResponseRules, SubjectRules};
pub use secret::Secret;

/// A user with a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// User name clients send as `user`.
    pub username: String,
    /// Password clients send as `pass`.
    pub password: Secret,
    /// What the user may do (`None`: everything).
    pub permissions: Option<Arc<Permissions>>,
    /// The account it belongs to (`None`: the global account).
    pub account: Option<String>,
}

/// A user identified by an NKEY: it proves itself by signing the server's nonce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NkeyUser {
    /// The user's public NKEY (`U…`).
    pub public_key: String,
    /// What the user may do (`None`: everything).
    pub permissions: Option<Arc<Permissions>>,
    /// The account it belongs to (`None`: the global account).
    pub account: Option<String>,
}

/// Configured authentication. Empty: anyone may connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// Users with passwords.
    pub users: Vec<User>,
    /// NKEY users.
    pub nkeys: Vec<NkeyUser>,
    /// A token every client must present (when no users are configured).
    pub token: Option<Secret>,
    /// The user a client that presents no credentials runs as.
    pub no_auth_user: Option<String>,
    /// How long a client has to send a valid CONNECT.
    pub timeout: Duration,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            users: Vec::new(),
            nkeys: Vec::new(),
            token: None,
            no_auth_user: None,
            timeout: Duration::from_secs(2),
        }
    }
}

/// Who a connection runs as after authentication.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// The user name or NKEY, if any.
    pub name: Option<String>,
    /// What it may do (`None`: everything).
    pub permissions: Option<Arc<Permissions>>,
    /// The account it runs in (`None`: the global account).
    pub account: Option<String>,
}

/// Why a CONNECT was refused. Clients only ever see `Authorization Violation`; the variants
/// are for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No credentials were sent and there is no `no_auth_user`.
    #[error("no credentials")]
    NoCredentials,
    /// The user is not configured.
    #[error("unknown user")]
    UnknownUser,
    /// The password did not match.
    #[error("wrong password")]
    BadPassword,
    /// The token did not match.
    #[error("wrong token")]
    BadToken,
    /// The NKEY is not configured.
    #[error("unknown nkey")]
    UnknownNkey,
    /// The nonce signature did not verify.
    #[error("signature does not verify")]
    BadSignature,
}

impl AuthConfig {
    /// Whether clients must authenticate.
    pub fn is_required(&self) -> bool {
        !self.users.is_empty() || !self.nkeys.is_empty() || self.token.is_some()
    }

    /// Whether INFO must carry a nonce for clients to sign.
    pub fn needs_nonce(&self) -> bool {
        !self.nkeys.is_empty()
    }

    /// Checks a CONNECT. `nonce` is the one sent in this connection's INFO.
    pub fn authenticate(
        &self,
        connect: &ConnectInfo,
        nonce: Option<&str>,
    ) -> Result<Identity, AuthError> {
        if !self.is_required() {
            return Ok(Identity::default());
        }
        let has_credentials = connect.user.is_some()
            || connect.pass.is_some()
            || connect.auth_token.is_some()
            || connect.nkey.is_some()
            || connect.jwt.is_some();
        if !self.nkeys.is_empty() {
            if let Some(nkey) = connect.nkey.as_deref() {
                return self.authenticate_nkey(nkey, connect.sig.as_deref(), nonce);
            }
        }
        if !self.users.is_empty() {
            if let Some(name) = connect.user.as_deref() {
                let user = self
                    .users
                    .iter()
                    .find(|u| u.username == name)
                    .ok_or(AuthError::UnknownUser)?;
                let given = connect.pass.as_deref().unwrap_or("");
                return if user.password.verify(given) {
                    Ok(Identity {
                        name: Some(user.username.clone()),
                        permissions: user.permissions.clone(),
                        account: user.account.clone(),
                    })
                } else {
                    Err(AuthError::BadPassword)
                };
            }
        }
        if let Some(token) = &self.token {
            if let Some(given) = connect.auth_token.as_deref() {
                return if token.verify(given) {
                    Ok(Identity::default())
                } else {
                    Err(AuthError::BadToken)
                };
            }
        }
        if !has_credentials {
            if let Some(name) = self.no_auth_user.as_deref() {
                if let Some(user) = self.users.iter().find(|u| u.username == name) {
                    return Ok(Identity {
                        name: Some(user.username.clone()),
                        permissions: user.permissions.clone(),
                        account: user.account.clone(),
                    });
                }
            }
            return Err(AuthError::NoCredentials);
        }
        Err(if self.token.is_some() {
            AuthError::BadToken
        } else {
            AuthError::UnknownUser
        })
    }

    /// Checks a client that presented a verified certificate (`verify_and_map`): the first of
    /// its `identities` (see [`cert_identities`]) that names a configured user decides; a
    /// password configured for that user must still be sent.
    pub fn authenticate_certificate(
        &self,
        identities: &[String],
        connect: &ConnectInfo,
    ) -> Result<Identity, AuthError> {
        let user = identities
            .iter()
            .find_map(|id| self.users.iter().find(|u| &u.username == id))
            .ok_or(AuthError::UnknownUser)?;
        let given = connect.pass.as_deref().unwrap_or("");
        let empty = matches!(&user.password, Secret::Plain(p) if p.is_empty());
        if !empty && !user.password.verify(given) {
            return Err(AuthError::BadPassword);
        }
        Ok(Identity {
            name: Some(user.username.clone()),
            permissions: user.permissions.clone(),
            account: user.account.clone(),
        })
    }

    fn authenticate_nkey(
        &self,
        nkey: &str,
        sig: Option<&str>,
        nonce: Option<&str>,
    ) -> Result<Identity, AuthError> {
        let user = self
            .nkeys
            .iter()
            .find(|u| u.public_key == nkey)
            .ok_or(AuthError::UnknownNkey)?;
        let (Some(sig), Some(nonce)) = (sig, nonce) else {
            return Err(AuthError::BadSignature);
        };
        let sig = data_encoding::BASE64URL_NOPAD
            .decode(sig.as_bytes())
            .or_else(|_| data_encoding::BASE64.decode(sig.as_bytes()))
            .map_err(|_| AuthError::BadSignature)?;
        let key = nkeys::KeyPair::from_public_key(nkey).map_err(|_| AuthError::UnknownNkey)?;
        key.verify(nonce.as_bytes(), &sig)
            .map_err(|_| AuthError::BadSignature)?;
        Ok(Identity {
            name: Some(user.public_key.clone()),
            permissions: user.permissions.clone(),
            account: user.account.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users() -> AuthConfig {
        AuthConfig {
            users: vec![User {
                username: "alice".into(),
                password: Secret::new("pw"),
                permissions: None,
                account: None,
            }],
            ..AuthConfig::default()
        }
    }

    fn connect(user: Option<&str>, pass: Option<&str>) -> ConnectInfo {
        ConnectInfo {
            user: user.map(Into::into),
            pass: pass.map(Into::into),
            ..ConnectInfo::default()
        }
    }

    #[test]
    fn user_password() {
        let a = users();
        assert!(a.is_required());
        assert!(a
            .authenticate(&connect(Some("alice"), Some("pw")), None)
            .is_ok());
        assert_eq!(
            a.authenticate(&connect(Some("alice"), Some("no")), None),
            Err(AuthError::BadPassword)
        );
        assert_eq!(
            a.authenticate(&connect(Some("bob"), Some("pw")), None),
            Err(AuthError::UnknownUser)
        );
        assert_eq!(
            a.authenticate(&connect(None, None), None),
            Err(AuthError::NoCredentials)
        );
    }

    #[test]
    fn no_auth_user_only_without_credentials() {
        let mut a = users();
        a.no_auth_user = Some("alice".into());
        assert_eq!(
            a.authenticate(&connect(None, None), None)
                .unwrap()
                .name
                .as_deref(),
            Some("alice")
        );
        assert!(a
            .authenticate(&connect(Some("alice"), Some("x")), None)
            .is_err());
    }

    #[test]
    fn token() {
        let a = AuthConfig {
            token: Some(Secret::new("tok")),
            ..AuthConfig::default()
        };
        let c = ConnectInfo {
            auth_token: Some("tok".into()),
            ..ConnectInfo::default()
        };
        assert!(a.authenticate(&c, None).is_ok());
        let c = ConnectInfo {
            auth_token: Some("tox".into()),
            ..ConnectInfo::default()
        };
        assert_eq!(a.authenticate(&c, None), Err(AuthError::BadToken));
        // A password is not a token.
        assert!(a
            .authenticate(&connect(Some("u"), Some("tok")), None)
            .is_err());
    }

    #[test]
    fn nkey_signature_over_this_nonce_only() {
        let kp = nkeys::KeyPair::new_from_raw(nkeys::KeyPairType::User, [9; 32]).unwrap();
        let a = AuthConfig {
            nkeys: vec![NkeyUser {
                public_key: kp.public_key(),
                permissions: None,
                account: None,
            }],
            ..AuthConfig::default()
        };
        assert!(a.needs_nonce());
        let nonce = "abcdefghijklmno";
        let sig = data_encoding::BASE64URL_NOPAD.encode(&kp.sign(nonce.as_bytes()).unwrap());
        let c = ConnectInfo {
            nkey: Some(kp.public_key()),
            sig: Some(sig.clone()),
            ..ConnectInfo::default()
        };
        assert!(a.authenticate(&c, Some(nonce)).is_ok());
        // Replayed against another connection's nonce.
        assert_eq!(
            a.authenticate(&c, Some("another-nonce!!")),
            Err(AuthError::BadSignature)
        );
        // Forged by another key.
        let other = nkeys::KeyPair::new_from_raw(nkeys::KeyPairType::User, [8; 32]).unwrap();
        let forged = data_encoding::BASE64URL_NOPAD.encode(&other.sign(nonce.as_bytes()).unwrap());
        let c2 = ConnectInfo {
            sig: Some(forged),
            ..c.clone()
        };
        assert_eq!(
            a.authenticate(&c2, Some(nonce)),
            Err(AuthError::BadSignature)
        );
        let c3 = ConnectInfo {
            nkey: Some(other.public_key()),
            sig: Some(sig),
            ..ConnectInfo::default()
        };
        assert_eq!(
            a.authenticate(&c3, Some(nonce)),
            Err(AuthError::UnknownNkey)
        );
    }
}
