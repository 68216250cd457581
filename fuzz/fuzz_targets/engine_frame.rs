//! An Engine.IO WebSocket frame, read as a text frame and as a binary frame
//! of either protocol version: no panic, and what decodes re-encodes to a
//! frame that decodes to the same packet.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sails_protocol::engine::{
    EnginePacket, EngineVersion, Handshake, decode_binary, encode_binary,
};

fuzz_target!(|data: &[u8]| {
    for version in [EngineVersion::V3, EngineVersion::V4] {
        if let Ok(payload) = decode_binary(version, data) {
            let frame = encode_binary(version, payload);
            assert_eq!(decode_binary(version, &frame), Ok(payload));
        }
    }
    let Ok(frame) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(packet) = EnginePacket::decode(frame) else {
        return;
    };
    let encoded = packet.encode();
    assert_eq!(EnginePacket::decode(&encoded), Ok(packet));
    if let EnginePacket::Open(json) = packet
        && let Some(handshake) = Handshake::parse(json)
    {
        // A timing the scanner read is one the JSON holds.
        for value in [handshake.ping_interval, handshake.ping_timeout] {
            let defaults = [
                Handshake::DEFAULT.ping_interval,
                Handshake::DEFAULT.ping_timeout,
            ];
            assert!(defaults.contains(&value) || json.contains(&value.to_string()));
        }
    }
});
