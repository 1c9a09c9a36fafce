//! What a runtime's reader loop needs from a connection, whether a client or a route.

use std::time::Instant;

use bytes::BytesMut;

use crate::trace::LogEvent;
use crate::{Client, CloseReason, RouteConn};

/// The reader side of a connection: bytes, instants and the end of the socket go in; the
/// writer side drains the connection's [`crate::Outbound`]. Implemented by [`Client`] and
/// [`RouteConn`] so that one reader loop serves both.
pub trait Connection {
    /// Bytes read, appended to `buf`; every whole op is processed and split off.
    fn handle_input(&mut self, buf: &mut BytesMut, now: Instant);
    /// The time reached [`Connection::poll_timeout`].
    fn handle_timeout(&mut self, now: Instant);
    /// The socket ended or failed.
    fn handle_read_closed(&mut self, reason: CloseReason);
    /// When [`Connection::handle_timeout`] is due.
    fn poll_timeout(&self) -> Option<Instant>;
    /// Why the connection is closing, once decided (stop reading then).
    fn close_reason(&self) -> Option<CloseReason>;
    /// Hands the log events recorded so far to `f`.
    fn drain_log_into(&mut self, f: &mut dyn FnMut(LogEvent));
}

impl Connection for Client {
    fn handle_input(&mut self, buf: &mut BytesMut, now: Instant) {
        Client::handle_input(self, buf, now);
    }
    fn handle_timeout(&mut self, now: Instant) {
        Client::handle_timeout(self, now);
    }
    fn handle_read_closed(&mut self, reason: CloseReason) {
        Client::handle_read_closed(self, reason);
    }
    fn poll_timeout(&self) -> Option<Instant> {
        Client::poll_timeout(self)
    }
    fn close_reason(&self) -> Option<CloseReason> {
        Client::close_reason(self)
    }
    fn drain_log_into(&mut self, f: &mut dyn FnMut(LogEvent)) {
        self.drain_log().for_each(f);
    }
}

impl Connection for RouteConn {
    fn handle_input(&mut self, buf: &mut BytesMut, now: Instant) {
        RouteConn::handle_input(self, buf, now);
    }
    fn handle_timeout(&mut self, now: Instant) {
        RouteConn::handle_timeout(self, now);
    }
    fn handle_read_closed(&mut self, reason: CloseReason) {
        RouteConn::handle_read_closed(self, reason);
    }
    fn poll_timeout(&self) -> Option<Instant> {
        RouteConn::poll_timeout(self)
    }
    fn close_reason(&self) -> Option<CloseReason> {
        RouteConn::close_reason(self)
    }
    fn drain_log_into(&mut self, f: &mut dyn FnMut(LogEvent)) {
        self.drain_log().for_each(f);
    }
}
