//! Why a connection was closed.

use std::fmt;

/// The reason a connection ended. `Display` gives the reference server's wording, which
/// monitoring (`/connz?state=closed`) shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// The client closed its side.
    ClientClosed,
    /// Reading from the socket failed.
    ReadError,
    /// Writing to the socket failed.
    WriteError,
    /// The client broke the protocol.
    ProtocolViolation,
    /// The client's pending output passed `max_pending`.
    SlowConsumerPendingBytes,
    /// A write to the client took longer than `write_deadline`.
    SlowConsumerWriteDeadline,
    /// The client did not answer `ping_max` PINGs.
    StaleConnection,
    /// The client published more than `max_payload`.
    MaxPayloadExceeded,
    /// The server already had `max_connections` clients.
    MaxConnectionsExceeded,
    /// The control line was longer than `max_control_line`.
    MaxControlLineExceeded,
    /// Credentials were missing or wrong.
    AuthenticationViolation,
    /// No CONNECT arrived in time.
    AuthenticationTimeout,
    /// The server is shutting down.
    ServerShutdown,
    /// The TLS handshake failed or did not complete within the TLS timeout.
    TlsHandshakeError,
    /// A second route to the same server (and pool slot) was closed.
    DuplicateRoute,
    /// A route connected to this server itself.
    RouteToSelf,
    /// The route's cluster name did not match ours.
    ClusterNameConflict,
    /// The peer sent an error (`-ERR`) on a route.
    ParseError,
}

impl CloseReason {
    /// Whether a connection closed for this reason is cut off at once, without writing what
    /// is still queued: the peer is gone or not reading, so waiting on it only holds resources.
    pub fn skips_flush(self) -> bool {
        matches!(
            self,
            CloseReason::ReadError
                | CloseReason::WriteError
                | CloseReason::SlowConsumerPendingBytes
                | CloseReason::SlowConsumerWriteDeadline
                | CloseReason::TlsHandshakeError
        )
    }

    /// The reference's wording of this reason.
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::ClientClosed => "Client Closed",
            CloseReason::ReadError => "Read Error",
            CloseReason::WriteError => "Write Error",
            CloseReason::ProtocolViolation => "Protocol Violation",
            CloseReason::SlowConsumerPendingBytes => "Slow Consumer (Pending Bytes)",
            CloseReason::SlowConsumerWriteDeadline => "Slow Consumer (Write Deadline)",
            CloseReason::StaleConnection => "Stale Connection",
            CloseReason::MaxPayloadExceeded => "Maximum Message Payload Exceeded",
            CloseReason::MaxConnectionsExceeded => "Maximum Connections Exceeded",
            CloseReason::MaxControlLineExceeded => "Maximum Control Line Exceeded",
            CloseReason::AuthenticationViolation => "Authentication Failure",
            CloseReason::AuthenticationTimeout => "Authentication Timeout",
            CloseReason::ServerShutdown => "Server Shutdown",
            CloseReason::TlsHandshakeError => "TLS Handshake Failure",
            CloseReason::DuplicateRoute => "Duplicate Route",
            CloseReason::RouteToSelf => "Route To Self",
            CloseReason::ClusterNameConflict => "Cluster Name Conflict",
            CloseReason::ParseError => "Parse Error",
        }
    }
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
