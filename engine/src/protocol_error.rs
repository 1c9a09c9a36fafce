//! Errors a client's input causes, with the reference's `-ERR` text and close behaviour.
//!
//! Parse errors are typed by `proto` ([`ParseError`]); the errors decided here are those that
//! need server state (subject rules, limits, keepalive).

use proto::ParseError;

use crate::CloseReason;

/// A protocol error the server reports to a client with `-ERR '<text>'`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A malformed subscription subject.
    #[error("Invalid Subject")]
    InvalidSubject,
    /// A malformed publish subject (pedantic clients only).
    #[error("Invalid Publish Subject")]
    InvalidPublishSubject,
    /// More subscriptions than `max_subscriptions`.
    #[error("Maximum Subscriptions Exceeded")]
    MaxSubscriptions,
    /// More connections than `max_connections`.
    #[error("maximum connections exceeded")]
    MaxConnections,
    /// No PONG to `ping_max` PINGs.
    #[error("Stale Connection")]
    StaleConnection,
    /// Missing or wrong credentials.
    #[error("Authorization Violation")]
    AuthorizationViolation,
    /// No valid CONNECT within the auth timeout.
    #[error("Authentication Timeout")]
    AuthenticationTimeout,
    /// CONNECT with a protocol level other than 0 or 1.
    #[error("invalid client protocol")]
    InvalidClientProtocol,
    /// CONNECT asking for no_responders without headers.
    #[error("no responders requires headers support")]
    NoRespondersRequiresHeaders,
}

impl ProtocolError {
    /// The text inside `-ERR '...'`.
    pub fn wire_text(self) -> &'static str {
        match self {
            ProtocolError::InvalidSubject => "Invalid Subject",
            ProtocolError::InvalidPublishSubject => "Invalid Publish Subject",
            ProtocolError::MaxSubscriptions => "Maximum Subscriptions Exceeded",
            ProtocolError::MaxConnections => "maximum connections exceeded",
            ProtocolError::StaleConnection => "Stale Connection",
            ProtocolError::AuthorizationViolation => "Authorization Violation",
            ProtocolError::AuthenticationTimeout => "Authentication Timeout",
            ProtocolError::InvalidClientProtocol => "invalid client protocol",
            ProtocolError::NoRespondersRequiresHeaders => "no responders requires headers support",
        }
    }

    /// Whether the reference closes the connection after this error, and why.
    pub fn close_reason(self) -> Option<CloseReason> {
        match self {
            ProtocolError::MaxConnections => Some(CloseReason::MaxConnectionsExceeded),
            ProtocolError::StaleConnection => Some(CloseReason::StaleConnection),
            ProtocolError::AuthorizationViolation => Some(CloseReason::AuthenticationViolation),
            ProtocolError::AuthenticationTimeout => Some(CloseReason::AuthenticationTimeout),
            ProtocolError::InvalidClientProtocol | ProtocolError::NoRespondersRequiresHeaders => {
                Some(CloseReason::ProtocolViolation)
            }
            ProtocolError::InvalidSubject
            | ProtocolError::InvalidPublishSubject
            | ProtocolError::MaxSubscriptions => None,
        }
    }
}

/// What the reference does after a parse error: the `-ERR` text it sends (if any) and the
/// reason it closes the connection (if it does).
pub fn parse_error_outcome(e: &ParseError) -> (Option<&'static str>, Option<CloseReason>) {
    let reason = match e {
        _ if !e.closes() => None,
        ParseError::MaxPayload => Some(CloseReason::MaxPayloadExceeded),
        ParseError::MaxControlLine => Some(CloseReason::MaxControlLineExceeded),
        ParseError::AuthViolation => Some(CloseReason::AuthenticationViolation),
        _ => Some(CloseReason::ProtocolViolation),
    };
    (e.wire_text(), reason)
}
