//! The client's wasm32 allocator (size classes), exercised in the browser:
//! the test binary links the client, so every allocation here goes through it.
#![cfg(target_arch = "wasm32")]
// Raw `alloc`/`dealloc` are the only way to ask for a given alignment.
#![allow(unsafe_code)]

use std::alloc::{Layout, alloc, dealloc};

use wasm_bindgen_test::*;

// Links the client, and with it its `#[global_allocator]`.
use sails_io_wasm as _;

wasm_bindgen_test_configure!(run_in_browser);

/// A small deterministic generator (xorshift), so failures reproduce.
struct Sizes(u32);

impl Sizes {
    fn next(&mut self, below: u32) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        (self.0 % below) as usize
    }
}

#[wasm_bindgen_test]
fn blocks_keep_their_contents_while_others_come_and_go() {
    let mut sizes = Sizes(0x9e37_79b9);
    let mut live: Vec<Vec<u8>> = Vec::new();
    for round in 0..4_000u32 {
        let len = sizes.next(3_000) + 1;
        let fill = (round % 251) as u8;
        live.push(vec![fill; len]);
        if sizes.next(3) == 0 {
            let victim = sizes.next(live.len() as u32);
            let block = live.swap_remove(victim);
            assert!(block.iter().all(|&byte| byte == block[0]));
        }
    }
    for block in &live {
        assert!(
            block.iter().all(|&byte| byte == block[0]),
            "a block was overwritten"
        );
    }
}

#[wasm_bindgen_test]
fn growing_a_vector_keeps_its_contents() {
    let mut numbers = Vec::new();
    for n in 0..200_000u32 {
        numbers.push(n);
    }
    assert!(numbers.iter().enumerate().all(|(i, &n)| i as u32 == n));
    numbers.truncate(10);
    numbers.shrink_to_fit();
    assert_eq!(numbers, (0..10).collect::<Vec<_>>());
}

#[wasm_bindgen_test]
fn alignment_is_honoured_and_freed_blocks_are_reused() {
    for align in [1, 8, 16, 64, 4_096, 65_536] {
        let layout = Layout::from_size_align(24, align).expect("valid layout");
        let first = unsafe { alloc(layout) };
        assert!(!first.is_null());
        assert_eq!(first as usize % align, 0, "alignment {align}");
        unsafe { dealloc(first, layout) };
        let again = unsafe { alloc(layout) };
        assert_eq!(again, first, "a freed block of the same class is reused");
        unsafe { dealloc(again, layout) };
    }
    let beyond_a_page = Layout::from_size_align(8, 131_072).expect("valid layout");
    assert!(unsafe { alloc(beyond_a_page) }.is_null());
}

#[wasm_bindgen_test]
fn large_blocks_span_pages() {
    let big = vec![7u8; 300_000];
    let other = vec![9u8; 70_000];
    assert!(big.iter().all(|&b| b == 7) && other.iter().all(|&b| b == 9));
}
