//! Cache hints: asking the processor to start loading memory that will be
//! read soon, so that the loads of several upcoming events overlap instead
//! of each one waiting for its own cache miss.
//!
//! Owns [`prefetch`] and [`arena`]. A hint never changes what a program
//! computes, only when its memory arrives; on targets without one it does
//! nothing.

/// The cache line size of the machines patchsim runs on.
const LINE: usize = 64;

/// Starts loading every cache line `*value` spans (into every cache level).
/// Does not read it: costs a few cycles a line whatever memory holds.
///
/// ```
/// let records = vec![[0u8; 200]; 1_000];
/// patchsim::engine::prefetch(&records[917]);
/// ```
#[inline(always)]
pub fn prefetch<T: ?Sized>(value: &T) {
    let start = value as *const T as *const u8 as usize;
    let end = start + std::mem::size_of_val(value).max(1);
    let mut line = start & !(LINE - 1);
    while line < end {
        prefetch_line(line);
        line += LINE;
    }
}

/// Starts loading the cache lines of the first `bytes` bytes of `*value`
/// (all of it if it is shorter): for a large record whose often-used fields
/// come first.
///
/// ```
/// let record = [0u64; 80];
/// patchsim::engine::prefetch_prefix(&record, 256);
/// ```
#[inline(always)]
pub fn prefetch_prefix<T>(value: &T, bytes: usize) {
    let start = value as *const T as *const u8 as usize;
    let end = start + std::mem::size_of::<T>().min(bytes).max(1);
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

/// Arenas at least this large ask for huge pages.
const HUGE_ARENA: usize = 8 << 20;

/// `n` copies of `value` in one allocation, for a large per-entity arena
/// read in random order (a million entities' records). On Linux the memory
/// is asked to come in 2 MiB pages before it is first touched, so that the
/// processor's address cache covers the arena with a few hundred entries
/// instead of missing on nearly every random access. Otherwise, and for
/// small arenas, the same as `vec![value; n]`.
///
/// ```
/// let records = patchsim::engine::arena(3, 7u32);
/// assert_eq!(records, vec![7, 7, 7]);
/// ```
pub fn arena<T: Clone>(n: usize, value: T) -> Vec<T> {
    let mut v = arena_with_capacity(n);
    v.resize(n, value);
    v
}

/// An empty vector with room for `n` elements, to be filled by pushing;
/// its memory comes in huge pages as [`arena`]'s does.
pub fn arena_with_capacity<T>(n: usize) -> Vec<T> {
    let v: Vec<T> = Vec::with_capacity(n);
    let bytes = n.saturating_mul(std::mem::size_of::<T>());
    if bytes >= HUGE_ARENA {
        advise_huge_pages(v.as_ptr() as usize, bytes);
    }
    v
}

#[cfg(target_os = "linux")]
fn advise_huge_pages(start: usize, bytes: usize) {
    const HUGE: usize = 2 << 20;
    let from = start.next_multiple_of(HUGE);
    let to = (start + bytes) & !(HUGE - 1);
    if to > from {
        // SAFETY: the range lies inside one live allocation we own, and
        // MADV_HUGEPAGE only changes how the kernel backs it, never its
        // contents. A kernel that declines (huge pages off) returns an
        // error, which changes nothing: it is ignored.
        unsafe {
            libc::madvise(from as *mut libc::c_void, to - from, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_start: usize, _bytes: usize) {}

#[cfg(test)]
mod tests {
    use super::*;

    /// An arena past the huge-page threshold holds exactly what `vec!`
    /// would, and prefetching any element of it changes nothing.
    #[test]
    fn a_large_arena_is_an_ordinary_vector() {
        let n = HUGE_ARENA / 4 + 12_345;
        let mut v = arena(n, 7u32);
        assert_eq!(v.len(), n);
        assert!(v.iter().all(|&x| x == 7));
        v[n - 1] = 9;
        prefetch(&v[n - 1]);
        prefetch(&v[..]);
        assert_eq!(v[n - 1], 9);
        let mut pushed: Vec<u64> = arena_with_capacity(n);
        assert!(pushed.is_empty() && pushed.capacity() >= n);
        pushed.extend(0..n as u64);
        assert_eq!(pushed[n - 1], n as u64 - 1);
    }
}
