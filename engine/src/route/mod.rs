//! Clustering: routes between the servers of one cluster (the reference's route protocol,
//! `docs/route-protocol.md`).
//!
//! * [`RouteConn`]: the protocol state of one route connection, shaped like
//!   [`crate::Client`] (bytes and instants in, writes to its [`crate::Outbound`]).
//! * [`RouteTable`]: the server's registered routes, the dial queue the runtime drains, and
//!   the cluster name.
//! * Interest: local subscriptions become `RS+`/`RS-` on every route carrying their account
//!   ([`interest`]); a peer's interest becomes subscriptions owned by the route in the
//!   account's index, so the publish path finds it like any subscriber.
//! * [`RouteDial`]: a route the runtime must dial (explicit routes, gossip, redials).

mod conn;
mod dial;
mod handshake;
pub(crate) mod interest;
mod pool;
pub(crate) mod reload;
mod table;
#[cfg(test)]
mod tests;
mod url;

pub use conn::RouteConn;
pub use dial::{RouteDial, RouteSlot};
pub use interest::RemoteInterest;
pub use pool::{fnv1a32, pool_index};
pub use reload::{settings_changed as cluster_settings_changed, ClusterReload};
pub use table::{RouteHandle, RouteStart, RouteTable};
pub use url::{RouteUrl, RouteUrlError};
