//! The load generator and the bare socketioxide server behind `cargo xtask bench`,
//! and the per-request hot paths its micro-benchmarks time and count.
//!
//! The generator speaks Engine.IO 3 with sails.io.js' handshake query, so a
//! real Sails app, our server and a bare socketioxide server all accept it,
//! and it reports what it could not do (refused or failed handshakes,
//! missing acks and deliveries) next to every figure.

pub mod conn;
pub mod hot_paths;
pub mod procfs;
pub mod scenario;
pub mod stats;
