//! The subscription index. (API skeleton.)
