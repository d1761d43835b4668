//! Named random streams: one ChaCha stream per entity, derived from the seed.
//!
//! Owns [`Streams`], which hands out a stream either as a stored generator
//! ([`StreamRng`], ChaCha8 with its 256-byte buffer: 320 bytes) or as a [`CounterRng`]
//! (24 bytes: the stream's coordinates and a position, each draw computed
//! from them). A stream is fixed by `(seed, family, index)` alone, so adding
//! an entity never shifts another entity's draws and two runs with the same
//! seed draw the same numbers whatever else changed. Knows nothing of what
//! the entities are; the model names its own families.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The random generator every stream hands out.
pub type StreamRng = ChaCha8Rng;

/// Derives independent ChaCha8 streams from one run seed.
///
/// ChaCha has a 64-bit stream number beside its key: the key comes from the
/// seed, the stream number from `(family, index)`. Families are small
/// integers the model picks, say one per kind of entity; `index` is the
/// entity's position in its arena.
///
/// ```
/// use patchsim::engine::Streams;
/// use rand::Rng;
/// let streams = Streams::new(42);
/// let a: u64 = streams.stream(1, 7).random();
/// let b: u64 = streams.stream(1, 7).random();
/// let other: u64 = streams.stream(1, 8).random();
/// assert_eq!(a, b);
/// assert_ne!(a, other);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Streams {
    seed: u64,
}

impl Streams {
    /// Streams for a run with this seed.
    pub fn new(seed: u64) -> Self {
        Streams { seed }
    }

    /// The run seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The stream of entity `index` in `family`. Indices up to 2^48 and
    /// families up to 2^16 give distinct streams.
    pub fn stream(&self, family: u16, index: u64) -> StreamRng {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(stream_number(family, index));
        rng
    }

    /// The same stream as [`stream`](Self::stream), as a 24-byte
    /// [`CounterRng`] at its start: it draws exactly the same numbers.
    pub fn counter(&self, family: u16, index: u64) -> CounterRng {
        CounterRng::new(self.seed, family, index)
    }
}

/// ChaCha's 64-bit stream number for an entity: family in the top 16 bits.
fn stream_number(family: u16, index: u64) -> u64 {
    assert!(index < 1 << 48, "stream index {index} out of range");
    (u64::from(family) << 48) | index
}

/// A random stream that stores only where it is: `(seed, family, index)` and
/// a position, 24 bytes (a [`StreamRng`] is 320), computing each draw
/// from them.
///
/// It yields exactly the ChaCha8 keystream [`Streams::stream`] yields, word
/// for word (`next_u32` is one 32-bit word, `next_u64` two, `fill_bytes`
/// whole words, as `rand_chacha` does), so a model may keep either form and
/// draw the same numbers. It implements [`RngCore`], so [`rand::Rng`]
/// methods and `rand_distr` distributions take it as they take a
/// [`StreamRng`]. Each call computes the one 64-byte ChaCha8 block that holds
/// its words (two blocks when a `next_u64` straddles blocks) and keeps no
/// buffer: a draw costs a whole block instead of an eighth of one
/// (`benches/rng.rs` compares the two), and an entity costs 24 bytes
/// instead of 320. A handler that draws several numbers can borrow a
/// [`session`](Self::session), which keeps the current block while it lives.
/// Results depend only on the seed, the family, the index and the position.
///
/// ```
/// use patchsim::engine::{CounterRng, Streams};
/// use rand::Rng;
/// let streams = Streams::new(42);
/// let mut stored = streams.stream(3, 1234);
/// let mut compact = streams.counter(3, 1234);
/// assert_eq!(std::mem::size_of::<CounterRng>(), 24);
/// let mut last = 0.0;
/// for _ in 0..100 {
///     last = stored.random::<f64>();
///     assert_eq!(compact.random::<f64>(), last);
/// }
/// assert_eq!(compact.word_pos(), 200);
/// // A draw is a pure function of the position: draw the last one again.
/// assert_eq!(streams.counter(3, 1234).with_word_pos(198).random::<f64>(), last);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CounterRng {
    seed: u64,
    /// ChaCha's stream number: `family << 48 | index`.
    stream: u64,
    /// Position in the stream, in 32-bit words.
    word_pos: u64,
}

impl CounterRng {
    /// The stream of entity `index` in `family` under `seed`, at its start.
    pub fn new(seed: u64, family: u16, index: u64) -> Self {
        CounterRng {
            seed,
            stream: stream_number(family, index),
            word_pos: 0,
        }
    }

    /// The same stream at position `word_pos` (in 32-bit words).
    pub fn with_word_pos(self, word_pos: u64) -> Self {
        CounterRng { word_pos, ..self }
    }

    /// Position in the stream, in 32-bit words drawn since its start.
    pub fn word_pos(&self) -> u64 {
        self.word_pos
    }

    /// The run seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The entity's family.
    pub fn family(&self) -> u16 {
        (self.stream >> 48) as u16
    }

    /// The entity's index in its family.
    pub fn index(&self) -> u64 {
        self.stream & ((1 << 48) - 1)
    }

    /// A generator over this stream that keeps the current ChaCha block while
    /// it lives, for a handler that draws several numbers: the first draw
    /// costs a block, each further one from the same block (16 words, eight
    /// `u64`s) a copy. It advances this stream's position as it draws, and
    /// draws exactly what drawing from the stream directly would.
    ///
    /// ```
    /// use patchsim::engine::Streams;
    /// use rand::Rng;
    /// let streams = Streams::new(42);
    /// let mut direct = streams.counter(3, 1234);
    /// let mut kept = streams.counter(3, 1234);
    /// let (a, b): (f64, u64) = (direct.random(), direct.random_range(0..3_600_000));
    /// let mut rng = kept.session();
    /// assert_eq!((rng.random::<f64>(), rng.random_range(0..3_600_000)), (a, b));
    /// assert_eq!(kept, direct);
    /// ```
    pub fn session(&mut self) -> CounterSession<'_> {
        CounterSession {
            key: chacha_key(self.seed),
            block_no: u64::MAX,
            block: [0; 16],
            rng: self,
        }
    }

    /// The 16 words of block `block` of this stream.
    #[inline]
    fn block(&self, key: &[u32; 8], block: u64) -> [u32; 16] {
        chacha8_block(key, block, self.stream)
    }
}

impl RngCore for CounterRng {
    #[inline]
    fn next_u32(&mut self) -> u32 {
        let p = self.word_pos;
        let word = self.block(&chacha_key(self.seed), p / 16)[(p % 16) as usize];
        self.word_pos = p.wrapping_add(1);
        word
    }

    #[inline]
    fn next_u64(&mut self) -> u64 {
        let p = self.word_pos;
        let key = chacha_key(self.seed);
        let b = self.block(&key, p / 16);
        let i = (p % 16) as usize;
        let (lo, hi) = if i < 15 {
            (b[i], b[i + 1])
        } else {
            (b[15], self.block(&key, p / 16 + 1)[0])
        };
        self.word_pos = p.wrapping_add(2);
        (u64::from(hi) << 32) | u64::from(lo)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        let key = chacha_key(self.seed);
        let mut chunks = dest.chunks_mut(4);
        while chunks.len() > 0 {
            let p = self.word_pos;
            let b = self.block(&key, p / 16);
            for word in &b[(p % 16) as usize..] {
                let Some(chunk) = chunks.next() else { break };
                chunk.copy_from_slice(&word.to_le_bytes()[..chunk.len()]);
                self.word_pos = self.word_pos.wrapping_add(1);
            }
        }
    }
}

/// A [`CounterRng`] borrowed with its key and current block at hand; see
/// [`CounterRng::session`]. 112 bytes, on the stack, for as long as a
/// handler draws.
#[derive(Debug)]
pub struct CounterSession<'a> {
    rng: &'a mut CounterRng,
    key: [u32; 8],
    /// Which block `block` holds (`u64::MAX`: none yet; a stream has 2^60).
    block_no: u64,
    block: [u32; 16],
}

impl CounterSession<'_> {
    #[inline]
    fn word(&mut self) -> u32 {
        let p = self.rng.word_pos;
        if p / 16 != self.block_no {
            self.block_no = p / 16;
            self.block = chacha8_block(&self.key, self.block_no, self.rng.stream);
        }
        self.rng.word_pos = p.wrapping_add(1);
        self.block[(p % 16) as usize]
    }
}

impl RngCore for CounterSession<'_> {
    #[inline]
    fn next_u32(&mut self) -> u32 {
        self.word()
    }

    #[inline]
    fn next_u64(&mut self) -> u64 {
        let lo = self.word();
        let hi = self.word();
        (u64::from(hi) << 32) | u64::from(lo)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(4) {
            chunk.copy_from_slice(&self.word().to_le_bytes()[..chunk.len()]);
        }
    }
}

/// The ChaCha key `rand_chacha` derives from a `u64` seed
/// (`SeedableRng::seed_from_u64`: eight successive PCG32 outputs). Each of
/// the eight PCG states is computed straight from the seed with a
/// precomputed jump, so the eight run side by side instead of in a chain of
/// eight multiplications, which every draw would wait for.
#[inline]
fn chacha_key(seed: u64) -> [u32; 8] {
    const MUL: u64 = 6_364_136_223_846_793_005;
    const INC: u64 = 11_634_580_027_462_260_723;
    /// `(a, c)` such that the PCG state after `k` steps from `s` is `a·s + c`.
    const fn jump(k: u32) -> (u64, u64) {
        let (mut a, mut c, mut i) = (1u64, 0u64, 0);
        while i < k {
            a = a.wrapping_mul(MUL);
            c = c.wrapping_mul(MUL).wrapping_add(INC);
            i += 1;
        }
        (a, c)
    }
    const JUMPS: [(u64, u64); 8] = [
        jump(1),
        jump(2),
        jump(3),
        jump(4),
        jump(5),
        jump(6),
        jump(7),
        jump(8),
    ];
    JUMPS.map(|(a, c)| {
        let state = seed.wrapping_mul(a).wrapping_add(c);
        let xorshifted = (((state >> 18) ^ state) >> 27) as u32;
        xorshifted.rotate_right((state >> 59) as u32)
    })
}

/// One ChaCha8 block (D. J. Bernstein's layout, as `rand_chacha` uses it):
/// constants, key, 64-bit block counter, 64-bit stream number; four double
/// rounds of column then diagonal quarter rounds.
#[inline]
fn chacha8_block(key: &[u32; 8], block: u64, stream: u64) -> [u32; 16] {
    #[inline(always)]
    fn quarter_round(x: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
        x[a] = x[a].wrapping_add(x[b]);
        x[d] = (x[d] ^ x[a]).rotate_left(16);
        x[c] = x[c].wrapping_add(x[d]);
        x[b] = (x[b] ^ x[c]).rotate_left(12);
        x[a] = x[a].wrapping_add(x[b]);
        x[d] = (x[d] ^ x[a]).rotate_left(8);
        x[c] = x[c].wrapping_add(x[d]);
        x[b] = (x[b] ^ x[c]).rotate_left(7);
    }
    let input: [u32; 16] = [
        0x6170_7865,
        0x3320_646e,
        0x7962_2d32,
        0x6b20_6574,
        key[0],
        key[1],
        key[2],
        key[3],
        key[4],
        key[5],
        key[6],
        key[7],
        block as u32,
        (block >> 32) as u32,
        stream as u32,
        (stream >> 32) as u32,
    ];
    let mut x = input;
    for _ in 0..4 {
        quarter_round(&mut x, 0, 4, 8, 12);
        quarter_round(&mut x, 1, 5, 9, 13);
        quarter_round(&mut x, 2, 6, 10, 14);
        quarter_round(&mut x, 3, 7, 11, 15);
        quarter_round(&mut x, 0, 5, 10, 15);
        quarter_round(&mut x, 1, 6, 11, 12);
        quarter_round(&mut x, 2, 7, 8, 13);
        quarter_round(&mut x, 3, 4, 9, 14);
    }
    for (x, input) in x.iter_mut().zip(input) {
        *x = x.wrapping_add(input);
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;
    use rand_distr::{Distribution, Exp, LogNormal, Normal};

    /// Pinned so that a crate upgrade that changes the streams fails loudly:
    /// every golden output and every recorded seed would change with it.
    #[test]
    fn known_answer() {
        let v: u64 = Streams::new(42).stream(3, 1234).random();
        assert_eq!(v, KNOWN_ANSWER);
    }

    const KNOWN_ANSWER: u64 = 10_882_181_719_361_312_841;

    /// The compact stream's own pins: its first draw is the stored stream's,
    /// and a draw deep in the stream (not at a block boundary) is fixed too.
    #[test]
    fn counter_known_answer() {
        let streams = Streams::new(42);
        assert_eq!(streams.counter(3, 1234).random::<u64>(), KNOWN_ANSWER);
        let deep = streams.counter(3, 1234).with_word_pos(1_000_003).next_u64();
        assert_eq!(deep, COUNTER_KNOWN_ANSWER);
        let mut stored = streams.stream(3, 1234);
        stored.set_word_pos(1_000_003);
        assert_eq!(stored.next_u64(), COUNTER_KNOWN_ANSWER);
    }

    const COUNTER_KNOWN_ANSWER: u64 = 3_453_472_352_202_176_759;

    /// The key is the one `rand_chacha` derives from the seed.
    #[test]
    fn key_is_rand_chachas() {
        for seed in [0, 1, 42, u64::MAX, 0x0123_4567_89AB_CDEF] {
            let words = ChaCha8Rng::seed_from_u64(seed).get_seed();
            let want: Vec<u32> = words
                .chunks(4)
                .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
                .collect();
            assert_eq!(chacha_key(seed).to_vec(), want);
        }
    }

    #[test]
    fn families_and_seeds_are_independent() {
        let s = Streams::new(1);
        let a: u64 = s.stream(0, 5).random();
        let b: u64 = s.stream(1, 5).random();
        let c: u64 = Streams::new(2).stream(0, 5).random();
        assert_ne!(a, b);
        assert_ne!(a, c);
    }

    /// `CounterRng` against `rand_chacha` itself: a seeded mix of `next_u32`,
    /// `next_u64` and `fill_bytes` of every length up to 70 bytes, directly and
    /// through sessions, from random positions (block boundaries included),
    /// over many streams.
    #[test]
    fn counter_rng_matches_chacha8() {
        let mut plan = ChaCha8Rng::seed_from_u64(99);
        for round in 0..200u64 {
            let seed = plan.random::<u64>() >> plan.random_range(0..64);
            let family = plan.random::<u16>();
            let index = plan.random_range(0..1u64 << 48);
            let start = match round % 4 {
                0 => 0,
                1 => plan.random_range(0..64),
                2 => plan.random_range(0..1u64 << 40) * 16 + 15,
                _ => plan.random::<u64>() >> 6,
            };
            let mut stored = Streams::new(seed).stream(family, index);
            stored.set_word_pos(u128::from(start));
            let mut compact = CounterRng::new(seed, family, index).with_word_pos(start);
            for _ in 0..100 {
                // Draw directly, or through a session of a few draws.
                if plan.random_bool(0.5) {
                    agree(&mut plan, &mut compact, &mut stored);
                } else {
                    let mut session = compact.session();
                    for _ in 0..plan.random_range(1..12) {
                        agree(&mut plan, &mut session, &mut stored);
                    }
                }
                assert_eq!(u128::from(compact.word_pos()), stored.get_word_pos());
            }
        }
    }

    /// One random kind of draw from both generators, which must agree.
    fn agree(plan: &mut ChaCha8Rng, compact: &mut impl RngCore, stored: &mut ChaCha8Rng) {
        match plan.random_range(0..3) {
            0 => assert_eq!(compact.next_u32(), stored.next_u32()),
            1 => assert_eq!(compact.next_u64(), stored.next_u64()),
            _ => {
                let n = plan.random_range(0..=70);
                let (mut a, mut b) = (vec![0u8; n], vec![0u8; n]);
                compact.fill_bytes(&mut a);
                stored.fill_bytes(&mut b);
                assert_eq!(a, b);
            }
        }
    }

    /// Distributions take it like any generator, and agree with the stored one.
    #[test]
    fn counter_rng_drives_distributions() {
        let streams = Streams::new(7);
        let (mut stored, mut compact) = (streams.stream(1, 42), streams.counter(1, 42));
        let exp = Exp::new(1.0 / 1200.0).expect("valid");
        let lognormal = LogNormal::new(7.0, 0.5).expect("valid");
        let normal = Normal::new(0.0, 1.0).expect("valid");
        for _ in 0..1000 {
            assert_eq!(exp.sample(&mut compact), exp.sample(&mut stored));
            assert_eq!(
                lognormal.sample(&mut compact),
                lognormal.sample(&mut stored)
            );
            assert_eq!(normal.sample(&mut compact), normal.sample(&mut stored));
            assert_eq!(
                compact.random_range(0..3_600_000u64),
                stored.random_range(0..3_600_000u64)
            );
            assert_eq!(compact.random_bool(0.3), stored.random_bool(0.3));
        }
    }

    #[test]
    fn counter_rng_knows_its_coordinates() {
        let r = Streams::new(5)
            .counter(0xBEEF, (1 << 48) - 1)
            .with_word_pos(77);
        assert_eq!(
            (r.seed(), r.family(), r.index(), r.word_pos()),
            (5, 0xBEEF, (1 << 48) - 1, 77)
        );
    }
}
