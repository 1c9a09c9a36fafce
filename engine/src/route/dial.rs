//! Routes to dial: what the engine asks the runtime to connect to, and when.

use std::time::{Duration, Instant};

use super::RouteUrl;

/// Delay between attempts to reach a route (the reference retries once a second).
pub const ROUTE_RETRY_DELAY: Duration = Duration::from_secs(1);

/// Which connection of the set between two servers this is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RouteSlot {
    /// A pooled connection (`route_pool_idx`); accounts are spread over the pool.
    Pool(usize),
    /// A connection dedicated to one account (`route_account`).
    Pinned(String),
}

/// A route connection the runtime must open: dial `url`, then hand the socket to
/// [`crate::Server::solicit_route`], or report failure with
/// [`crate::Server::route_dial_failed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteDial {
    /// Where to connect, with the credentials to present.
    pub url: RouteUrl,
    /// Which connection of the set this is.
    pub slot: RouteSlot,
    /// Configured (`routes`) rather than learnt by gossip: retried forever.
    pub explicit: bool,
    /// Failed attempts so far.
    pub attempts: u32,
    /// Do not dial before this instant (`None`: at once).
    pub not_before: Option<Instant>,
}

impl RouteDial {
    /// A first attempt at `url` for `slot`.
    pub fn new(url: RouteUrl, slot: RouteSlot, explicit: bool) -> Self {
        RouteDial {
            url,
            slot,
            explicit,
            attempts: 0,
            not_before: None,
        }
    }

    /// The next attempt after a failure at `now`, if this route is still to be tried
    /// (`connect_retries` bounds implicit routes; explicit ones are retried forever).
    pub(crate) fn retry(mut self, now: Instant, connect_retries: u32) -> Option<RouteDial> {
        self.attempts = self.attempts.saturating_add(1);
        if !self.explicit && self.attempts > connect_retries {
            return None;
        }
        self.not_before = Some(now + ROUTE_RETRY_DELAY);
        Some(self)
    }

    /// What identifies this dial among those in flight.
    pub(crate) fn key(&self) -> (String, RouteSlot) {
        (self.url.address(), self.slot.clone())
    }
}
