//! Run: `cargo bench -p sails-bench --bench codec`
//!
//! The wire codec on the frames of a virtual request and its answer: what
//! every request costs a client and the load generator, per frame.

use std::hint::black_box;

use criterion::Criterion;
use sails_protocol::engine::EnginePacket;
use sails_protocol::socket::{PacketType, SocketPacket};

const REQUEST: &str = r#"4212["get",{"method":"get","headers":{},"data":{},"url":"/hello"}]"#;
const ACK: &str = r#"4312[{"body":"ok!","headers":{"content-type":"text/plain; charset=utf-8"},"statusCode":200}]"#;
const PAYLOAD: &str = r#"["get",{"method":"get","headers":{},"data":{},"url":"/hello"}]"#;

fn decode(c: &mut Criterion) {
    c.bench_function("decode request frame", |b| {
        b.iter(|| match EnginePacket::decode(black_box(REQUEST)) {
            Ok(EnginePacket::Message(data)) => SocketPacket::decode(data).ok(),
            _ => None,
        })
    });
    c.bench_function("decode ack frame", |b| {
        b.iter(|| match EnginePacket::decode(black_box(ACK)) {
            Ok(EnginePacket::Message(data)) => SocketPacket::decode(data).ok(),
            _ => None,
        })
    });
}

fn encode(c: &mut Criterion) {
    c.bench_function("encode request frame", |b| {
        b.iter(|| {
            let packet = SocketPacket::new(PacketType::Event, Some(12), black_box(PAYLOAD));
            EnginePacket::Message(&packet.encode()).encode()
        })
    });
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    decode(&mut criterion);
    encode(&mut criterion);
    criterion.final_summary();
}
