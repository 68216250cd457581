//! A Socket.IO packet, as the data of an Engine.IO message: no panic, and
//! what decodes re-encodes to a message that decodes to the same packet.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sails_protocol::engine::EnginePacket;
use sails_protocol::socket::SocketPacket;

fuzz_target!(|data: &[u8]| {
    let Ok(message) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(packet) = SocketPacket::decode(message) else {
        return;
    };
    let encoded = packet.encode();
    assert_eq!(SocketPacket::decode(&encoded), Ok(packet), "{encoded:?}");
    let frame = EnginePacket::Message(&encoded).encode();
    assert_eq!(
        EnginePacket::decode(&frame),
        Ok(EnginePacket::Message(&encoded))
    );
});
