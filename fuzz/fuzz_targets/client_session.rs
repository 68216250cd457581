//! The client's session fed the server's frames and the page's requests in
//! any order, one line each:
//!
//! - `t<frame>`: a text frame, `b<bytes>`: a binary frame;
//! - `o`: a transport opens, `c`: it closes;
//! - `q`: a request is queued, `s`: a request is sent (gets an ack id);
//! - `3` / `4`: the next connection speaks EIO3 / EIO4.
//!
//! No panic, no hang; every request comes back once at most (replayed,
//! answered or failed by the close), and none is lost.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sails_io_wasm::session::{Phase, Session, Step};
use sails_protocol::engine::EngineVersion;

/// The requests of one run: each is handed back at most once.
struct Requests {
    made: usize,
    back: Vec<bool>,
}

impl Requests {
    fn make(&mut self) -> usize {
        self.made += 1;
        self.back.push(false);
        self.made - 1
    }

    fn back(&mut self, request: usize) {
        assert!(!self.back[request], "request {request} handed back twice");
        self.back[request] = true;
    }
}

fn check(step: Step<'_, usize>, session: &Session<usize>, requests: &mut Requests) {
    match step {
        Step::Connected { replay } => {
            assert!(session.is_connected());
            assert_eq!(session.queued(), 0);
            replay
                .into_iter()
                .for_each(|request| requests.back(request));
        }
        Step::Ack {
            request, payload, ..
        } => {
            assert!(payload.starts_with('[') && payload.ends_with(']'));
            requests.back(request);
        }
        Step::Event { payload, .. } => {
            assert!(payload.starts_with('[') && payload.ends_with(']'));
        }
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let mut session = Session::new(EngineVersion::V3);
    let mut requests = Requests {
        made: 0,
        back: Vec::new(),
    };
    for line in data.split(|&b| b == b'\n') {
        let Some((&op, rest)) = line.split_first() else {
            continue;
        };
        match op {
            b't' => {
                if let Ok(frame) = std::str::from_utf8(rest) {
                    let step = session.text_frame(frame);
                    check(step, &session, &mut requests);
                }
            }
            b'b' => {
                let step = session.binary_frame(rest);
                check(step, &session, &mut requests);
            }
            b'o' => session.opening(),
            b'c' => {
                session.closed().into_iter().for_each(|r| requests.back(r));
                assert_eq!(session.phase(), Phase::Closed);
                assert_eq!(session.in_flight(), 0);
            }
            b'q' => session.enqueue(requests.make()),
            b's' => {
                let id = session.next_ack_id();
                session.track(id, requests.make());
            }
            b'3' => session.set_version(EngineVersion::V3),
            b'4' => session.set_version(EngineVersion::V4),
            _ => {}
        }
    }
    session.closed().into_iter().for_each(|r| requests.back(r));
    let back = requests.back.iter().filter(|&&back| back).count();
    assert_eq!(back + session.queued(), requests.made, "a request was lost");
});
