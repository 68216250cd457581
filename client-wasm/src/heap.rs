//! The client's memory allocator on wasm32: power-of-two size classes with
//! one free list each, carved from memory grown by `memory.grow`.
//!
//! The standard allocator (dlmalloc) is about a tenth of the module. A page
//! client allocates small, short-lived strings and vectors and holds little,
//! so a size-class allocator is enough: a freed block goes back to its
//! class's list and is reused by the next allocation of that class, memory is
//! never returned (wasm memory cannot shrink anyway), and a block wastes at
//! most half its size.
//!
//! Safety rests on two facts: wasm32 without the `atomics` feature runs one
//! thread, so the state is never accessed concurrently; and every block
//! handed out is at least a pointer wide and aligned to its class size (up to
//! a wasm page), so a freed block can hold the free list's next pointer.
#![allow(unsafe_code)]

use core::{
    alloc::{GlobalAlloc, Layout},
    arch::wasm32,
    cell::UnsafeCell,
    ptr,
};

/// A wasm page.
const PAGE: usize = 65_536;
/// The smallest block (8 bytes): room for the free list's pointer, and
/// the alignment of most values.
const MIN_BLOCK: usize = 8;
/// Classes up to 2^31 bytes.
const CLASSES: usize = 32;

struct State {
    /// Head of each class's free list (0: empty).
    free: [usize; CLASSES],
    /// Next unused byte of the grown region, and its end.
    next: usize,
    end: usize,
}

/// The allocator (`#[global_allocator]` in `lib.rs`).
pub(crate) struct SizeClasses {
    state: UnsafeCell<State>,
}

// SAFETY: wasm32 without atomics has a single thread (see the module docs).
#[cfg(not(target_feature = "atomics"))]
unsafe impl Sync for SizeClasses {}

impl SizeClasses {
    /// An allocator with nothing grown yet.
    pub(crate) const fn new() -> Self {
        Self {
            state: UnsafeCell::new(State {
                free: [0; CLASSES],
                next: 0,
                end: 0,
            }),
        }
    }
}

/// The class of a layout: log2 of its block size, or `None` if too large.
fn class_of(layout: Layout) -> Option<usize> {
    let size = layout.size().max(layout.align()).max(MIN_BLOCK);
    let class = size.checked_next_power_of_two()?.trailing_zeros() as usize;
    (class < CLASSES && layout.align() <= PAGE).then_some(class)
}

impl State {
    /// A fresh block of `1 << class` bytes from the grown region, growing
    /// memory when needed; 0 when memory cannot grow.
    fn carve(&mut self, class: usize) -> usize {
        let size = 1usize << class;
        let align = size.min(PAGE);
        let start = (self.next + align - 1) & !(align - 1);
        let Some(end) = start.checked_add(size) else {
            return 0;
        };
        if end > self.end {
            let pages = size.div_ceil(PAGE) + 1;
            let old = wasm32::memory_grow(0, pages);
            if old == usize::MAX {
                return 0;
            }
            let region = old * PAGE;
            if region != self.end {
                // Someone else grew memory meanwhile: start afresh up there.
                self.next = region;
            }
            self.end = region + pages * PAGE;
            return self.carve(class);
        }
        self.next = end;
        start
    }
}

// SAFETY: blocks never overlap: each comes either fresh from the region past
// `next` or from a free list that only holds blocks of its own class that
// were handed back by `dealloc`.
unsafe impl GlobalAlloc for SizeClasses {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(class) = class_of(layout) else {
            return ptr::null_mut();
        };
        // SAFETY: single thread, and no reference to the state outlives this call.
        let state = unsafe { &mut *self.state.get() };
        let head = state.free[class];
        if head != 0 {
            // SAFETY: `head` is a freed block of this class; its first word
            // holds the next free block.
            state.free[class] = unsafe { *(head as *const usize) };
            return head as *mut u8;
        }
        state.carve(class) as *mut u8
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        let Some(class) = class_of(layout) else {
            return;
        };
        // SAFETY: as in `alloc`; `block` came from `alloc` with this layout,
        // so it is at least a pointer wide and aligned.
        let state = unsafe { &mut *self.state.get() };
        unsafe { *(block as *mut usize) = state.free[class] };
        state.free[class] = block as usize;
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `GlobalAlloc::realloc`'s contract gives a valid layout.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        if class_of(layout) == class_of(new_layout) {
            return block;
        }
        // SAFETY: the caller's contract, passed on.
        unsafe {
            let moved = self.alloc(new_layout);
            if !moved.is_null() {
                ptr::copy_nonoverlapping(block, moved, layout.size().min(new_size));
                self.dealloc(block, layout);
            }
            moved
        }
    }
}
