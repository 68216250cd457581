//! Wire types shared by the browser client and the server.
//!
//! This crate is `wasm32`-safe and carries no runtime and no JSON parser: it
//! knows how the Sails realtime protocol is framed on the wire, and leaves
//! JSON payloads as text for each side to parse with its own JSON.
//!
//! Layers, outermost first: [`engine`] (Engine.IO transport packets),
//! [`socket`] (Socket.IO packets inside Engine.IO messages), then Sails'
//! conventions: [`sdk`] (handshake metadata), [`pubsub`] (room names) and
//! [`recovery`] (getting rooms and missed broadcasts back after a reconnection).

pub mod engine;
pub mod pubsub;
pub mod recovery;
pub mod sdk;
pub mod socket;
