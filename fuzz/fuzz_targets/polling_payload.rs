//! An HTTP long-polling payload: the first byte picks the version (`3`:
//! EIO3, anything else EIO4), the rest is the payload. No panic, and what
//! decodes re-encodes to a payload that decodes to the same packets.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sails_protocol::engine::{EngineVersion, decode_payload, encode_payload};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, payload)) = data.split_first() else {
        return;
    };
    let version = match selector {
        b'3' => EngineVersion::V3,
        _ => EngineVersion::V4,
    };
    let Ok(payload) = std::str::from_utf8(payload) else {
        return;
    };
    let Ok(packets) = decode_payload(version, payload) else {
        return;
    };
    let encoded = encode_payload(version, &packets);
    assert_eq!(
        decode_payload(version, &encoded).as_ref(),
        Ok(&packets),
        "{encoded:?}"
    );
});
