//! Which pooled route connection carries an account: `fnv1a32(account) % pool_size`, as
//! the reference places accounts (docs/route-protocol.md §2).

/// 32-bit FNV-1a of `data`.
pub fn fnv1a32(data: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in data {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// The pool index of `account` among `pool_size` connections (0 when pooling is off).
pub fn pool_index(account: &[u8], pool_size: usize) -> usize {
    if pool_size <= 1 {
        0
    } else {
        fnv1a32(account) as usize % pool_size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_captured_placement() {
        // Captured between two 2.15.1 servers with pool_size 3: `$G` and `ACC2` on index 2.
        assert_eq!(pool_index(b"$G", 3), 2);
        assert_eq!(pool_index(b"ACC2", 3), 2);
        assert_eq!(pool_index(b"anything", 0), 0);
    }
}
