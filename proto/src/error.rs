//! Typed parse errors.

/// Why the bytes a peer sent are not a valid protocol op. See the variant docs for the
/// reference server's reply to each.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// Not a known op name, or an op line that does not follow its grammar
    /// (`-ERR 'Unknown Protocol Operation'`, then close).
    #[error("unknown protocol operation")]
    UnknownOp,
    /// The control line is longer than `max_control_line`
    /// (`-ERR 'Maximum Control Line Exceeded'`, then close).
    #[error("maximum control line exceeded")]
    MaxControlLine,
    /// The declared payload is larger than `max_payload`
    /// (`-ERR 'Maximum Payload Violation'`, then close).
    #[error("maximum payload violation")]
    MaxPayload,
}
