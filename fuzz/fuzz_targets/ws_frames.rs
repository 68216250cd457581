//! A client's WebSocket frame headers, as the server's listener follows them
//! to find a message over the size limit: no panic, and the answer does not
//! depend on how the bytes were split into reads.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // One byte for where the bytes split, two for the limit, then the frames.
    let Some((&[split, max_high, max_low], frames)) = data.split_first_chunk::<3>() else {
        return;
    };
    let max = u64::from(u16::from_be_bytes([max_high, max_low]));
    let _ = sails_server::fuzzing::ws_frames(frames, usize::from(split), max);
});
