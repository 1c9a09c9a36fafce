//! `NATS/1.0` header blocks. (API skeleton.)
