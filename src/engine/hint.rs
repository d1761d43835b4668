//! Cache hints: asking the processor to start loading memory that will be
//! read soon, so that the loads of several upcoming events overlap instead
//! of each one waiting for its own cache miss.
//!
//! Owns [`prefetch`]. A hint never changes what a program computes, only
//! when its memory arrives; on targets without one it does nothing.

/// The cache line size of the machines patchsim runs on.
const LINE: usize = 64;

/// Starts loading every cache line `*value` spans (into every cache level).
/// Does not read it: costs a few cycles a line whatever memory holds.
///
/// ```
/// let clients = vec![[0u8; 200]; 1_000];
/// patchsim::engine::prefetch(&clients[917]);
/// ```
#[inline(always)]
pub fn prefetch<T>(value: &T) {
    let start = value as *const T as usize;
    let end = start + std::mem::size_of::<T>().max(1);
    let mut line = start & !(LINE - 1);
    while line < end {
        prefetch_line(line);
        line += LINE;
    }
}

#[inline(always)]
fn prefetch_line(address: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: a prefetch is a hint: it reads nothing into the program
        // and never faults, whatever the address (here, a line of a live
        // value). SSE is part of every x86_64.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(address as *const i8) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}
