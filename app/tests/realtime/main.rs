//! Integration tests of the realtime layer against a real server on
//! 127.0.0.1:0, driven by a Socket.IO client written on the protocol crate.
//!
//! - `virtual_requests`: verbs, JWR shapes, one pipeline with HTTP, acks
//! - `sessions`: sessions shared by HTTP and sockets, pinned sessions, `nosession`, `/__getcookie`
//! - `sockets_api`: `sails.sockets` from handlers and from outside them
//! - `pubsub`: resourceful pub/sub payloads and rooms
//! - `security`: origins, `before_connect`, `after_disconnect`, transports, path
//! - `bad_input`: malformed requests never crash the server or other sockets
//! - `engine_io`: EIO3 and EIO4 heartbeats
//! - `scale`: one broadcast to thousands of sockets
//! - `csrf`: CSRF tokens over HTTP and sockets, off by default
//! - `bursts`: floods of requests, broadcasts and pings lose nothing; per-socket bounds
//! - `cluster`: three servers on one Redis behave as one
//! - `recovery`: a client that reconnects gets its rooms and missed broadcasts back

mod support;

mod bad_input;
mod bursts;
mod cluster;
mod csrf;
mod engine_io;
mod pubsub;
mod recovery;
mod scale;
mod security;
mod sessions;
mod sockets_api;
mod virtual_requests;
