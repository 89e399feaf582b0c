//! A global allocator that measures: while armed, it records the largest
//! single allocation, so the driver can flag a reader that allocates more
//! than its input justifies (a header promising 2³² elements). Past
//! [`HARD_LIMIT`] it refuses the allocation, which aborts the process; the
//! driver has then written the input to disk first.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Allocations above this (while armed) fail, ending the process.
pub const HARD_LIMIT: usize = 4 << 30;

static ARMED: AtomicBool = AtomicBool::new(false);
static LARGEST: AtomicUsize = AtomicUsize::new(0);

/// [`System`] with the measurement; install it with `#[global_allocator]`.
pub struct Measuring;

// SAFETY: every call is forwarded to `System` unchanged, or refused with null.
unsafe impl GlobalAlloc for Measuring {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ARMED.load(Ordering::Relaxed) {
            LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
            if layout.size() > HARD_LIMIT {
                return std::ptr::null_mut();
            }
        }
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if ARMED.load(Ordering::Relaxed) {
            LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
            if layout.size() > HARD_LIMIT {
                return std::ptr::null_mut();
            }
        }
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if ARMED.load(Ordering::Relaxed) {
            LARGEST.fetch_max(new_size, Ordering::Relaxed);
            if new_size > HARD_LIMIT {
                return std::ptr::null_mut();
            }
        }
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Starts measuring (from zero).
pub fn arm() {
    LARGEST.store(0, Ordering::Relaxed);
    ARMED.store(true, Ordering::Relaxed);
}

/// Stops measuring; returns the largest allocation since [`arm`] (0 when the
/// measuring allocator is not installed).
pub fn disarm() -> usize {
    ARMED.store(false, Ordering::Relaxed);
    LARGEST.load(Ordering::Relaxed)
}
