//! Per-connection nonces for NKEY authentication.

use sha2::{Digest, Sha256};

/// The nonce of connection `cid`: 11 bytes derived from the server's secret `key` (itself from
/// injected randomness), base64url without padding, like the reference's. Unpredictable
/// without the key, and replayable in a simulation with the same seed.
pub fn nonce_for(key: &[u8; 32], cid: u64) -> String {
    let mut h = Sha256::new();
    h.update(b"nats-nonce");
    h.update(key);
    h.update(cid.to_le_bytes());
    let digest = h.finalize();
    data_encoding::BASE64URL_NOPAD.encode(&digest[..11])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_per_connection_and_key() {
        let a = nonce_for(&[1; 32], 1);
        assert_eq!(a.len(), 15);
        assert_ne!(a, nonce_for(&[1; 32], 2));
        assert_ne!(a, nonce_for(&[2; 32], 1));
        assert_eq!(a, nonce_for(&[1; 32], 1));
    }
}
