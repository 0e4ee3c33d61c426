//! Binary fuse filter with 8-bit fingerprints, queried in place over borrowed bytes.
//!
//! This is the 3-wise binary fuse filter of Graf and Lemire ("Binary Fuse Filters: Fast and Smaller Than Xor
//! Filters", 2022), following the construction of the reference implementation (`binaryfusefilter.h` in
//! FastFilter/xor_singleheader): about 9 bits per key and a false-positive rate of about 1/256 (0.39 %).
//! A lookup reads three bytes, two of them usually in the same few cache lines, so a miss costs about
//! one cache miss.
//!
//! [`build_fuse8`] turns a set of `u64` keys (already hashed, e.g. with [`hash_bytes`]) into bytes;
//! [`Fuse8::from_bytes`] validates such bytes (e.g. a section of a memory-mapped index file) and
//! [`Fuse8::contains`] queries them without copying or allocating.
//!
//! # Serialised layout (version 1)
//!
//! All integers are little-endian and read byte-wise, so the bytes need no particular alignment.
//!
//! | offset | size | field                                                            |
//! |-------:|-----:|------------------------------------------------------------------|
//! |      0 |    4 | magic `b"BFF8"`                                                  |
//! |      4 |    4 | format version, `u32` = 1                                        |
//! |      8 |    8 | seed, `u64`                                                      |
//! |     16 |    4 | segment length, `u32`, a power of two, at most 2^18              |
//! |     20 |    4 | segment length mask, `u32` = segment length - 1                  |
//! |     24 |    4 | segment count length, `u32`, a multiple of the segment length    |
//! |     28 |    4 | array length, `u32` = segment count length + 2 * segment length  |
//! |        |      | (0 when the segment count length is 0: the empty filter)         |
//! |     32 |    4 | fingerprint count, `u32` = array length                          |
//! |     36 |    n | the fingerprints, one byte each                                  |
//!
//! A key is looked up as `h = murmur64(key + seed)` (the MurmurHash3 64-bit finaliser), fingerprint
//! `(h ^ (h >> 32)) as u8`, positions `h0 = mulhi(h, segment_count_length)`,
//! `h1 = (h0 + segment_length) ^ ((h >> 18) & mask)`, `h2 = (h0 + 2 * segment_length) ^ (h & mask)`;
//! it may be in the set when the fingerprint equals the xor of the three bytes at those positions.
//!
//! Construction is deterministic: the filter depends only on the set of distinct keys (not on their
//! order or repetitions), and seeds are drawn from a fixed splitmix64 sequence, so the same keys always
//! give the same bytes on every platform (the sizing uses integer arithmetic only).

use std::borrow::Cow;
use std::fmt;

/// Magic bytes opening a serialised filter.
const MAGIC: [u8; 4] = *b"BFF8";
/// Serialised format version.
const VERSION: u32 = 1;
/// Size of the fixed header preceding the fingerprints.
const HEADER_LEN: usize = 36;
/// Largest segment length (as in the reference implementation); keeps `h >> 18` and `h` offsets disjoint.
const MAX_SEGMENT_LENGTH: u32 = 1 << 18;
/// Largest number of distinct keys accepted by [`build_fuse8`]; keeps every array index within `u32`.
const MAX_KEYS: usize = 1 << 31;
/// Seeds tried before construction gives up (the probability of needing more is negligible).
const MAX_ATTEMPTS: u32 = 1000;
/// Initial state of the splitmix64 sequence the seeds are drawn from (the reference implementation's).
const SEED_STATE: u64 = 0x726b_2b9d_438b_9d4d;

/// An error building a filter or reading serialised filter bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError(String);

impl FilterError {
    fn new(message: String) -> FilterError {
        FilterError(message)
    }

    /// The lower-case message describing what went wrong.
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FilterError {}

/// MurmurHash3's 64-bit finaliser: a bijective mixer with good avalanche.
#[inline(always)]
fn murmur64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// One step of the splitmix64 generator.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The 8-bit fingerprint of a mixed key.
#[inline(always)]
fn fingerprint(hash: u64) -> u8 {
    (hash ^ (hash >> 32)) as u8
}

/// The three array positions of a mixed key. With `segment_length` a power of two, `mask` equal to
/// `segment_length - 1` and `segment_count_length` a multiple of `segment_length`, every position is below
/// `segment_count_length + 2 * segment_length` (xor with the mask stays inside an aligned segment).
#[inline(always)]
fn positions(hash: u64, segment_length: u64, mask: u64, segment_count_length: u64) -> [u64; 3] {
    let h0 = ((u128::from(hash) * u128::from(segment_count_length)) >> 64) as u64;
    let h1 = (h0 + segment_length) ^ ((hash >> 18) & mask);
    let h2 = (h0 + 2 * segment_length) ^ (hash & mask);
    [h0, h1, h2]
}

/// `floor(log2(n) * 2^32)` for `n >= 1`, with integer arithmetic only (so sizing is identical everywhere).
fn log2_q32(n: u64) -> u64 {
    let n = n.max(1);
    let int = u64::from(63 - n.leading_zeros());
    // x = n / 2^int, in [1, 2), as a Q62 fixed-point number; each squaring yields one fractional bit.
    let mut x = (u128::from(n) << 62) >> int;
    let mut frac = 0u64;
    for _ in 0..32 {
        x = (x * x) >> 62;
        frac <<= 1;
        if x >= 1 << 63 {
            frac |= 1;
            x >>= 1;
        }
    }
    (int << 32) | frac
}

/// Array geometry of a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Geometry {
    segment_length: u32,
    /// Number of segments a key's first position can fall in (0 only for the empty filter).
    segment_count: u32,
}

impl Geometry {
    /// The reference implementation's sizing for 3-wise filters, in integer arithmetic:
    /// segment length `2^floor(ln(n) / ln(3.33) + 2.25)` (at most 2^18) and array length about
    /// `n * max(1.125, 0.875 + 0.25 * ln(10^6) / ln(n))`.
    fn for_keys(n: usize) -> Result<Geometry, FilterError> {
        if n > MAX_KEYS {
            return Err(FilterError::new(format!("too many keys for a fuse filter: {n} (maximum {MAX_KEYS})")));
        }
        if n == 0 {
            return Ok(Geometry { segment_length: 4, segment_count: 0 });
        }
        let n64 = n as u64;
        let log2_n = log2_q32(n64);
        let log2_333 = log2_q32(333) - log2_q32(100);
        let exponent = (((u128::from(log2_n) << 32) / u128::from(log2_333) + (9 << 30)) >> 32).min(18);
        let segment_length = 1u64 << exponent;
        let capacity = if n <= 1 {
            0
        } else {
            let ratio = (u128::from(log2_q32(1_000_000)) << 32) / u128::from(log2_n);
            let factor = (9u128 << 29).max((7 << 29) + ratio / 4);
            ((u128::from(n64) * factor + (1 << 31)) >> 32) as u64
        };
        let segment_count = capacity.div_ceil(segment_length).saturating_sub(2).max(1);
        let geometry = Geometry {
            segment_length: segment_length as u32,
            segment_count: u32::try_from(segment_count)
                .map_err(|_| FilterError::new(format!("too many keys for a fuse filter: {n}")))?,
        };
        if u64::from(geometry.segment_count) + 2 > u64::from(u32::MAX) / segment_length {
            return Err(FilterError::new(format!("too many keys for a fuse filter: {n}")));
        }
        Ok(geometry)
    }

    fn mask(&self) -> u32 {
        self.segment_length - 1
    }

    fn segment_count_length(&self) -> u32 {
        self.segment_count * self.segment_length
    }

    fn array_length(&self) -> u32 {
        if self.segment_count == 0 {
            0
        } else {
            (self.segment_count + 2) * self.segment_length
        }
    }

    fn positions(&self, hash: u64) -> [usize; 3] {
        let [h0, h1, h2] = positions(
            hash,
            u64::from(self.segment_length),
            u64::from(self.mask()),
            u64::from(self.segment_count_length()),
        );
        [h0 as usize, h1 as usize, h2 as usize]
    }
}

/// Why one construction attempt failed.
enum Failure {
    /// The input holds the same key more than once.
    Duplicates,
    /// The key hypergraph did not peel with this seed.
    Unpeelable,
}

/// Scratch space for construction, reused across seeds.
struct Builder {
    geometry: Geometry,
    block_bits: u32,
    /// Mixed keys in insertion order, then the peeling stack.
    order: Vec<u64>,
    /// For each peeled key, which of its three positions it was alone in.
    order_slot: Vec<u8>,
    /// Per array position: 4 * number of keys, xor-ed with the slot numbers (0, 1, 2) of those keys.
    count: Vec<u8>,
    /// Per array position: xor of the mixed keys there.
    xor: Vec<u64>,
    /// Queue of positions holding a single key.
    alone: Vec<u32>,
    block_start: Vec<usize>,
    dirty: bool,
}

impl Builder {
    fn new(geometry: Geometry, n: usize) -> Builder {
        let capacity = geometry.array_length() as usize;
        let mut block_bits = 1;
        while (1u64 << block_bits) < u64::from(geometry.segment_count) {
            block_bits += 1;
        }
        Builder {
            geometry,
            block_bits,
            order: vec![0; n],
            order_slot: vec![0; n],
            count: vec![0; capacity],
            xor: vec![0; capacity],
            alone: vec![0; capacity + 1],
            block_start: vec![0; 1 << block_bits],
            dirty: false,
        }
    }

    /// Tries one seed; on success `order[..n]` and `order_slot[..n]` hold the peeling stack.
    fn attempt(&mut self, keys: &[u64], seed: u64) -> Result<(), Failure> {
        let g = self.geometry;
        if self.dirty {
            self.count.fill(0);
            self.xor.fill(0);
        }
        self.dirty = true;

        // Counting sort of the mixed keys by their top bits, so that insertion walks the arrays roughly in
        // order (the first position is monotonic in the mixed key).
        let shift = 64 - self.block_bits;
        self.block_start.fill(0);
        for &key in keys {
            self.block_start[(murmur64(key.wrapping_add(seed)) >> shift) as usize] += 1;
        }
        let mut sum = 0;
        for start in &mut self.block_start {
            let len = *start;
            *start = sum;
            sum += len;
        }
        for &key in keys {
            let hash = murmur64(key.wrapping_add(seed));
            let start = &mut self.block_start[(hash >> shift) as usize];
            self.order[*start] = hash;
            *start += 1;
        }

        // Insert every key at its three positions.
        let (count, xor) = (&mut self.count[..], &mut self.xor[..]);
        let mut overflow = false;
        for &hash in &self.order {
            let [h0, h1, h2] = g.positions(hash);
            count[h0] = count[h0].wrapping_add(4);
            xor[h0] ^= hash;
            count[h1] = count[h1].wrapping_add(4) ^ 1;
            xor[h1] ^= hash;
            count[h2] = count[h2].wrapping_add(4) ^ 2;
            xor[h2] ^= hash;
            // Two copies of one key leave a position with exactly two keys whose xor is zero.
            if (xor[h0] & xor[h1] & xor[h2]) == 0
                && ((xor[h0] == 0 && count[h0] == 8)
                    || (xor[h1] == 0 && count[h1] == 8)
                    || (xor[h2] == 0 && count[h2] == 8))
            {
                return Err(Failure::Duplicates);
            }
            // 64 keys at one position wrap the count.
            overflow |= count[h0] < 4 || count[h1] < 4 || count[h2] < 4;
        }
        if overflow {
            return Err(Failure::Unpeelable);
        }

        // Peel: repeatedly remove a key that is alone at some position.
        let alone = &mut self.alone[..];
        let mut queued = 0;
        for (i, &c) in count.iter().enumerate() {
            alone[queued] = i as u32;
            queued += usize::from(c >> 2 == 1);
        }
        let mut stacked = 0;
        while queued > 0 {
            queued -= 1;
            let index = alone[queued] as usize;
            if count[index] >> 2 != 1 {
                continue;
            }
            let hash = xor[index];
            let found = usize::from(count[index] & 3);
            let [h0, h1, h2] = g.positions(hash);
            let h = [h0, h1, h2, h0, h1];
            self.order[stacked] = hash;
            self.order_slot[stacked] = found as u8;
            stacked += 1;
            for (other, slot) in [(h[found + 1], (found + 1) % 3), (h[found + 2], (found + 2) % 3)] {
                alone[queued] = other as u32;
                queued += usize::from(count[other] >> 2 == 2);
                count[other] = count[other].wrapping_sub(4) ^ slot as u8;
                xor[other] ^= hash;
            }
        }
        if stacked == keys.len() {
            Ok(())
        } else {
            Err(Failure::Unpeelable)
        }
    }

    /// Serialises the filter after a successful attempt with `seed`.
    fn finish(&self, seed: u64) -> Vec<u8> {
        let g = self.geometry;
        let mut out = header(seed, g);
        let array_length = g.array_length() as usize;
        out.resize(HEADER_LEN + array_length, 0);
        let fingerprints = &mut out[HEADER_LEN..];
        for (&hash, &found) in self.order.iter().zip(&self.order_slot).rev() {
            let [h0, h1, h2] = g.positions(hash);
            let h = [h0, h1, h2, h0, h1];
            let found = usize::from(found);
            fingerprints[h[found]] = fingerprint(hash) ^ fingerprints[h[found + 1]] ^ fingerprints[h[found + 2]];
        }
        out
    }
}

fn header(seed: u64, g: Geometry) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + g.array_length() as usize);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&seed.to_le_bytes());
    for field in [g.segment_length, g.mask(), g.segment_count_length(), g.array_length(), g.array_length()] {
        out.extend_from_slice(&field.to_le_bytes());
    }
    out
}

/// Builds a binary fuse filter over `keys` and returns its serialised bytes (see the module docs for the
/// layout).
///
/// Keys should already be well-distributed hashes (e.g. from [`hash_bytes`]); they are mixed again with a
/// seed anyway. Duplicates are allowed and removed. The result depends only on the set of distinct keys:
/// the same set always gives the same bytes. An empty set gives a filter that contains nothing.
///
/// Fails for more than 2^31 distinct keys, or if no seed out of 1000 yields a filter (which does not
/// happen in practice).
pub fn build_fuse8(keys: &[u64]) -> Result<Vec<u8>, FilterError> {
    let mut keys = Cow::Borrowed(keys);
    let mut deduplicated = false;
    'sizing: loop {
        let geometry = Geometry::for_keys(keys.len())?;
        let mut seeds = SEED_STATE;
        if keys.is_empty() {
            let mut out = header(splitmix64(&mut seeds), geometry);
            out.resize(HEADER_LEN, 0);
            return Ok(out);
        }
        let mut builder = Builder::new(geometry, keys.len());
        for _ in 0..MAX_ATTEMPTS {
            let seed = splitmix64(&mut seeds);
            match builder.attempt(&keys, seed) {
                Ok(()) => return Ok(builder.finish(seed)),
                // An attempt only fails on a set of distinct keys with negligible probability, so remove
                // duplicates on the first failure. If there were any, start again sized for the distinct
                // keys and from the first seed, so that the result depends on the set alone.
                Err(failure) if !deduplicated => {
                    let mut distinct = keys.into_owned();
                    distinct.sort_unstable();
                    distinct.dedup();
                    deduplicated = true;
                    let changed = distinct.len() != builder.order.len();
                    keys = Cow::Owned(distinct);
                    if changed || matches!(failure, Failure::Duplicates) {
                        continue 'sizing;
                    }
                }
                Err(_) => {}
            }
        }
        return Err(FilterError::new(format!(
            "fuse filter construction failed for {} keys after {MAX_ATTEMPTS} seeds",
            keys.len()
        )));
    }
}

/// The validated geometry of a filter, without its bytes: keep it beside the bytes to query them
/// again and again without validating the header each time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fuse8Params {
    seed: u64,
    segment_length: u64,
    segment_length_mask: u64,
    segment_count_length: u64,
}

impl Fuse8Params {
    /// A view over the same serialised bytes [`Fuse8::params`] came from. Any other bytes give
    /// wrong answers but never a panic (lookups are bounds-checked).
    #[inline]
    pub fn view<'a>(&self, bytes: &'a [u8]) -> Fuse8<'a> {
        Fuse8 {
            seed: self.seed,
            segment_length: self.segment_length,
            segment_length_mask: self.segment_length_mask,
            segment_count_length: self.segment_count_length,
            fingerprints: bytes.get(HEADER_LEN..).unwrap_or(&[]),
        }
    }
}

/// A binary fuse filter viewed in place over bytes produced by [`build_fuse8`].
///
/// Cheap to copy; borrows the bytes (which may be a memory-mapped file) and never allocates.
#[derive(Clone, Copy)]
pub struct Fuse8<'a> {
    seed: u64,
    segment_length: u64,
    segment_length_mask: u64,
    segment_count_length: u64,
    fingerprints: &'a [u8],
}

fn read_u32(bytes: &[u8], offset: usize) -> u32 {
    let mut field = [0; 4];
    field.copy_from_slice(&bytes[offset..offset + 4]);
    u32::from_le_bytes(field)
}

impl<'a> Fuse8<'a> {
    /// Validates the header and sizes of serialised filter bytes and returns a view over them.
    ///
    /// `bytes` must be exactly one serialised filter (no trailing bytes). Never panics: corrupt,
    /// truncated or foreign bytes give an error naming what is wrong. A validated view can be queried
    /// safely whatever the fingerprint bytes hold.
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Fuse8<'a>, FilterError> {
        let err = |message: String| Err(FilterError::new(message));
        if bytes.is_empty() {
            return err("fuse filter is empty (0 bytes)".into());
        }
        if bytes.len() < HEADER_LEN {
            return err(format!("fuse filter truncated: {} bytes, the header needs {HEADER_LEN}", bytes.len()));
        }
        if bytes[..4] != MAGIC {
            return err(format!("not a fuse filter: bad magic \"{}\" (expected \"BFF8\")", bytes[..4].escape_ascii()));
        }
        let version = read_u32(bytes, 4);
        if version != VERSION {
            return err(format!("unsupported fuse filter version {version} (expected {VERSION})"));
        }
        let mut seed = [0; 8];
        seed.copy_from_slice(&bytes[8..16]);
        let seed = u64::from_le_bytes(seed);
        let segment_length = read_u32(bytes, 16);
        let mask = read_u32(bytes, 20);
        let segment_count_length = read_u32(bytes, 24);
        let array_length = read_u32(bytes, 28);
        let fingerprint_count = read_u32(bytes, 32);
        if !segment_length.is_power_of_two() || segment_length > MAX_SEGMENT_LENGTH {
            return err(format!(
                "fuse filter segment length {segment_length} is not a power of two in 1..={MAX_SEGMENT_LENGTH}"
            ));
        }
        if mask != segment_length - 1 {
            return err(format!(
                "fuse filter segment length mask {mask:#x} does not match segment length {segment_length}"
            ));
        }
        if segment_count_length % segment_length != 0 {
            return err(format!(
                "fuse filter segment count length {segment_count_length} is not a multiple of segment length \
                 {segment_length}"
            ));
        }
        let expected =
            if segment_count_length == 0 { 0 } else { u64::from(segment_count_length) + 2 * u64::from(segment_length) };
        if u64::from(array_length) != expected {
            return err(format!(
                "fuse filter array length {array_length} does not match its segments (expected {expected})"
            ));
        }
        if fingerprint_count != array_length {
            return err(format!(
                "fuse filter fingerprint count {fingerprint_count} does not match array length {array_length}"
            ));
        }
        let fingerprints = &bytes[HEADER_LEN..];
        let wanted = array_length as usize;
        if fingerprints.len() < wanted {
            return err(format!(
                "fuse filter truncated: {} fingerprint bytes present, {wanted} expected",
                fingerprints.len()
            ));
        }
        if fingerprints.len() > wanted {
            return err(format!(
                "fuse filter has trailing bytes: {} after its {wanted} fingerprint bytes",
                fingerprints.len() - wanted
            ));
        }
        Ok(Fuse8 {
            seed,
            segment_length: u64::from(segment_length),
            segment_length_mask: u64::from(mask),
            segment_count_length: u64::from(segment_count_length),
            fingerprints,
        })
    }

    /// The geometry of this filter, to view its bytes again later without validation.
    pub fn params(&self) -> Fuse8Params {
        Fuse8Params {
            seed: self.seed,
            segment_length: self.segment_length,
            segment_length_mask: self.segment_length_mask,
            segment_count_length: self.segment_count_length,
        }
    }

    /// Returns `true` if `key` may be in the set, `false` if it certainly is not.
    ///
    /// False positives happen for about 0.39 % of absent keys. Reads three bytes; never panics.
    #[inline]
    pub fn contains(&self, key: u64) -> bool {
        let hash = murmur64(key.wrapping_add(self.seed));
        let [h0, h1, h2] = positions(hash, self.segment_length, self.segment_length_mask, self.segment_count_length);
        // Validation guarantees the positions are in range; `get` keeps the code panic-free regardless
        // (and the empty filter, whose array is empty, lands here and contains nothing).
        match (
            self.fingerprints.get(h0 as usize),
            self.fingerprints.get(h1 as usize),
            self.fingerprints.get(h2 as usize),
        ) {
            (Some(a), Some(b), Some(c)) => fingerprint(hash) ^ a ^ b ^ c == 0,
            _ => false,
        }
    }

    /// The size in bytes of the serialised filter (header and fingerprints).
    pub fn len_bytes(&self) -> usize {
        HEADER_LEN + self.fingerprints.len()
    }
}

impl fmt::Debug for Fuse8<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fuse8")
            .field("seed", &format_args!("{:#018x}", self.seed))
            .field("segment_length", &self.segment_length)
            .field("segment_count_length", &self.segment_count_length)
            .field("len_bytes", &self.len_bytes())
            .finish()
    }
}

/// Hashes `data` to 64 bits with `seed`: stable across runs, platforms and versions (values are persisted).
///
/// The function ("iocmatch hash v1") is a MurmurHash3-style single-lane hash over little-endian 8-byte
/// words: each word `w` is scrambled as `rotl(w * K1, 31) * K2` (MurmurHash3's x64 constants) and xor-ed
/// into the state, which then steps `h = rotl(h, 27) * 5 + 0x52dce729`; a final zero-padded partial word is
/// scrambled and xor-ed in without the step; the length is xor-ed in; and MurmurHash3's 64-bit finaliser
/// (fmix64) avalanches the result. The state starts as `seed ^ 0x2d358dccaa6c78a5`. Every step is
/// bijective in the state, so no input can erase what came before.
///
/// It is not a cryptographic hash and is not meant to resist deliberately colliding inputs.
pub fn hash_bytes(seed: u64, data: &[u8]) -> u64 {
    const K1: u64 = 0x87c3_7b91_1142_53d5;
    const K2: u64 = 0x4cf5_ad43_2745_937f;
    #[inline(always)]
    fn scramble(word: u64) -> u64 {
        word.wrapping_mul(K1).rotate_left(31).wrapping_mul(K2)
    }
    let mut h = seed ^ 0x2d35_8dcc_aa6c_78a5;
    let mut words = data.chunks_exact(8);
    for word in &mut words {
        let word = u64::from_le_bytes([word[0], word[1], word[2], word[3], word[4], word[5], word[6], word[7]]);
        h ^= scramble(word);
        h = h.rotate_left(27).wrapping_mul(5).wrapping_add(0x52dc_e729);
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut word = [0; 8];
        word[..rest.len()].copy_from_slice(rest);
        h ^= scramble(u64::from_le_bytes(word));
    }
    murmur64(h ^ data.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    /// Deterministic pseudo-random keys.
    fn random_keys(state: u64, n: usize) -> Vec<u64> {
        let mut state = state;
        (0..n).map(|_| splitmix64(&mut state)).collect()
    }

    fn build(keys: &[u64]) -> Vec<u8> {
        build_fuse8(keys).expect("build")
    }

    fn assert_no_false_negatives(keys: &[u64]) {
        let bytes = build(keys);
        let filter = Fuse8::from_bytes(&bytes).expect("valid filter");
        assert_eq!(filter.len_bytes(), bytes.len());
        for &key in keys {
            assert!(filter.contains(key), "false negative for {key:#x} in a set of {}", keys.len());
        }
    }

    fn put_u32(bytes: &mut [u8], offset: usize, value: u32) {
        bytes[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
    }

    fn rejection(bytes: &[u8]) -> String {
        Fuse8::from_bytes(bytes).expect_err("bytes must be rejected").to_string()
    }

    #[test]
    fn public_types_are_send_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Fuse8<'static>>();
        assert_send_sync::<FilterError>();
    }

    #[test]
    fn no_false_negatives_for_fixed_sizes() {
        for (i, n) in [0, 1, 2, 3, 4, 5, 7, 10, 100, 1000, 100_000].into_iter().enumerate() {
            assert_no_false_negatives(&random_keys(i as u64, n));
        }
        // Structured keys are mixed with the seed, so sequences work too.
        assert_no_false_negatives(&(0..50_000).collect::<Vec<u64>>());
        assert_no_false_negatives(&(0..50_000).map(|i| i << 40).collect::<Vec<u64>>());
    }

    #[test]
    fn empty_filter_contains_nothing() {
        let bytes = build(&[]);
        assert_eq!(bytes.len(), HEADER_LEN);
        let filter = Fuse8::from_bytes(&bytes).unwrap();
        assert_eq!(filter.len_bytes(), HEADER_LEN);
        assert!(random_keys(9, 100_000).into_iter().chain([0, u64::MAX]).all(|k| !filter.contains(k)));
    }

    #[test]
    fn false_positive_rate_below_0_6_percent() {
        // Members have the low bit clear and probes have it set, so no probe is a member.
        let members: Vec<u64> = random_keys(1, 1_000_000).into_iter().map(|k| k & !1).collect();
        let bytes = build(&members);
        let filter = Fuse8::from_bytes(&bytes).unwrap();
        let bits_per_key = bytes.len() as f64 * 8.0 / members.len() as f64;
        assert!(bits_per_key < 9.1, "{bits_per_key} bits per key");
        let probes = random_keys(2, 1_000_000);
        let false_positives = probes.iter().filter(|&&k| filter.contains(k | 1)).count();
        let rate = false_positives as f64 / probes.len() as f64;
        assert!(rate < 0.006, "false-positive rate {rate}");
        assert!(members.iter().all(|&k| filter.contains(k)));
    }

    #[test]
    fn duplicates_are_removed() {
        let distinct = random_keys(3, 10_000);
        let mut repeated = distinct.clone();
        repeated.extend_from_slice(&distinct[..5000]);
        repeated.extend_from_slice(&distinct[..10]);
        assert_no_false_negatives(&repeated);
        // The filter depends on the set only.
        assert_eq!(build(&repeated), build(&distinct));
        assert_eq!(build(&[7, 7, 7, 7]), build(&[7]));
        assert_no_false_negatives(&[7, 7]);
        assert_no_false_negatives(&vec![42; 1000]);
    }

    #[test]
    fn build_is_deterministic_and_order_independent() {
        let keys = random_keys(4, 20_000);
        let bytes = build(&keys);
        assert_eq!(bytes, build(&keys));
        let mut reversed = keys.clone();
        reversed.reverse();
        assert_eq!(bytes, build(&reversed));
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(bytes, build(&sorted));
    }

    #[test]
    fn serialised_format_is_pinned() {
        // Any change to the layout, the sizing, the seeds or the construction breaks this test; such a
        // change needs a new format version.
        let keys: Vec<u64> = (0..1000).collect();
        let bytes = build(&keys);
        assert_eq!(&bytes[..8], b"BFF8\x01\x00\x00\x00");
        let fields: Vec<u32> = (16..36).step_by(4).map(|o| read_u32(&bytes, o)).collect();
        assert_eq!(fields, [128, 127, 1152, 1408, 1408]);
        assert_eq!(hash_bytes(0, &bytes), 0xc5bc1468bb52a44f);
        let empty = build(&[]);
        assert_eq!(hash_bytes(0, &empty), 0x255c0f48dc244cba);
    }

    #[test]
    fn bytes_round_trip() {
        let keys = random_keys(5, 5000);
        let bytes = build(&keys);
        let filter = Fuse8::from_bytes(&bytes).unwrap();
        // A copy at another address (and alignment) answers identically.
        let mut shifted = vec![0u8; 1];
        shifted.extend_from_slice(&bytes);
        let copy = Fuse8::from_bytes(&shifted[1..]).unwrap();
        for key in random_keys(6, 100_000).into_iter().chain(keys) {
            assert_eq!(filter.contains(key), copy.contains(key));
        }
        assert_eq!(copy.len_bytes(), bytes.len());
        assert!(format!("{filter:?}").starts_with("Fuse8 {"));
    }

    #[test]
    fn from_bytes_rejects_bad_input() {
        let bytes = build(&random_keys(7, 1000));
        let sl = read_u32(&bytes, 16);

        assert!(rejection(&[]).contains("empty"));
        assert!(rejection(&bytes[..HEADER_LEN - 1]).contains("truncated"));

        let mut b = bytes.clone();
        b[0] = b'X';
        assert_eq!(rejection(&b), "not a fuse filter: bad magic \"XFF8\" (expected \"BFF8\")");

        let mut b = bytes.clone();
        put_u32(&mut b, 4, 2);
        assert!(rejection(&b).contains("version 2"));

        let e = rejection(&bytes[..bytes.len() - 1]);
        assert!(e.contains("truncated") && e.contains("fingerprint"), "{e}");
        assert!(rejection(&bytes[..HEADER_LEN]).contains("truncated"));

        let mut b = bytes.clone();
        b.push(0);
        assert!(rejection(&b).contains("trailing"));

        let mut b = bytes.clone();
        put_u32(&mut b, 16, sl + 1);
        assert!(rejection(&b).contains("not a power of two"));
        let mut b = bytes.clone();
        put_u32(&mut b, 16, 0);
        assert!(rejection(&b).contains("not a power of two"));
        let mut b = bytes.clone();
        put_u32(&mut b, 16, MAX_SEGMENT_LENGTH * 2);
        put_u32(&mut b, 20, MAX_SEGMENT_LENGTH * 2 - 1);
        assert!(rejection(&b).contains("segment length"));

        let mut b = bytes.clone();
        put_u32(&mut b, 20, sl);
        assert!(rejection(&b).contains("mask"));

        let mut b = bytes.clone();
        put_u32(&mut b, 24, read_u32(&bytes, 24) + 1);
        assert!(rejection(&b).contains("not a multiple"));

        let mut b = bytes.clone();
        put_u32(&mut b, 24, read_u32(&bytes, 24) + sl);
        assert!(rejection(&b).contains("array length"));

        let mut b = bytes.clone();
        put_u32(&mut b, 28, read_u32(&bytes, 28) - 1);
        assert!(rejection(&b).contains("array length"));

        let mut b = bytes.clone();
        put_u32(&mut b, 32, read_u32(&bytes, 32) + 1);
        assert!(rejection(&b).contains("fingerprint count"));

        // Consistent fields describing more fingerprints than present.
        let mut b = bytes.clone();
        let (scl, array) = (read_u32(&bytes, 24) + sl, read_u32(&bytes, 28) + sl);
        put_u32(&mut b, 24, scl);
        put_u32(&mut b, 28, array);
        put_u32(&mut b, 32, array);
        assert!(rejection(&b).contains("truncated"));

        // An empty filter must have an empty array.
        let mut b = build(&[]);
        put_u32(&mut b, 28, 8);
        assert!(rejection(&b).contains("array length"));

        for message in [rejection(&[]), rejection(&b)] {
            assert!(!message.starts_with(char::is_uppercase), "{message}");
        }
    }

    #[test]
    fn errors_display_lower_case() {
        let e = FilterError::new("fuse filter is empty (0 bytes)".into());
        assert_eq!(e.to_string(), e.message());
        let boxed: Box<dyn std::error::Error> = Box::new(e);
        assert!(boxed.to_string().starts_with("fuse"));
    }

    #[test]
    fn geometry_matches_reference_sizing() {
        // Values of the reference implementation's floating-point formulas.
        let g = |n| Geometry::for_keys(n).unwrap();
        assert_eq!(g(0), Geometry { segment_length: 4, segment_count: 0 });
        assert_eq!(g(1), Geometry { segment_length: 4, segment_count: 1 });
        assert_eq!(g(2), Geometry { segment_length: 4, segment_count: 1 });
        assert_eq!(g(1000).segment_length, 1 << 7);
        assert_eq!(g(1_000_000).segment_length, 1 << 13);
        assert_eq!(g(10_000_000).segment_length, 1 << 15);
        assert_eq!(g(20_000_000).segment_length, 1 << 16);
        assert_eq!(g(MAX_KEYS).segment_length, MAX_SEGMENT_LENGTH);
        for n in [1000usize, 10_000, 1_000_000, 10_000_000] {
            let geometry = g(n);
            let reference_factor = (0.875 + 0.25 * 1e6f64.ln() / (n as f64).ln()).max(1.125);
            let ratio = geometry.array_length() as f64 / (n as f64 * reference_factor);
            assert!((1.0..1.0 + 3.0 * geometry.segment_length as f64 / n as f64).contains(&ratio), "{n}: {ratio}");
        }
        assert!(Geometry::for_keys(MAX_KEYS + 1).is_err());
        assert!(log2_q32(1) == 0 && log2_q32(2) == 1 << 32 && log2_q32(1 << 40) == 40 << 32);
        assert_eq!((log2_q32(1_000_000) as f64 / 4294967296.0 * 1e6).round(), 19_931_569.0);
    }

    #[test]
    fn hash_bytes_known_answers() {
        let cases: [(u64, &[u8], u64); 10] = [
            (0, b"", 0x33605fe82fa60161),
            (1, b"", 0xf60ee27dd950c624),
            (0, b"a", 0x11a203f657e8aae9),
            (0, b"abc", 0x28defd85bc0d4892),
            (0, b"12345678", 0x2bb2d4dad41c2cc2),
            (0, b"123456789", 0x556a60950afdf477),
            (0, b"evil.example.com", 0x442b5b32ee34d3ee),
            (0xdead_beef, b"evil.example.com", 0x6a3df7f7a7c38f16),
            (0, b"http://198.51.100.7:8080/path/to/payload.exe?id=42&x=%2e%2e", 0x439c0c328b12270f),
            (u64::MAX, &[0u8; 33], 0x1955d1fe26cdba23),
        ];
        for (seed, data, expected) in cases {
            assert_eq!(hash_bytes(seed, data), expected, "seed {seed:#x}, data {:?}", data.escape_ascii().to_string());
        }
    }

    #[test]
    fn hash_bytes_distinguishes_lengths_and_padding() {
        let inputs: [&[u8]; 8] = [b"", b"\0", b"\0\0", &[0; 7], &[0; 8], &[0; 9], &[0; 16], b"a\0"];
        let hashes: HashSet<u64> = inputs.iter().map(|d| hash_bytes(0, d)).collect();
        assert_eq!(hashes.len(), inputs.len());
        let hashes: HashSet<u64> =
            (0..200_000).map(|i| hash_bytes(7, format!("host-{i}.example").as_bytes())).collect();
        assert_eq!(hashes.len(), 200_000);
    }

    #[test]
    fn hash_bytes_avalanche() {
        // Flipping any input or seed bit flips each output bit with probability close to 1/2.
        let mut state = 11;
        for len in [1usize, 4, 8, 13, 16, 24, 40] {
            let bits = len * 8 + 64;
            let trials = 300;
            let mut flips = vec![[0u32; 64]; bits];
            for _ in 0..trials {
                let seed = splitmix64(&mut state);
                let data: Vec<u8> = (0..len).map(|_| splitmix64(&mut state) as u8).collect();
                let base = hash_bytes(seed, &data);
                for (bit, counts) in flips.iter_mut().enumerate() {
                    let changed = if bit < len * 8 {
                        let mut d = data.clone();
                        d[bit / 8] ^= 1 << (bit % 8);
                        hash_bytes(seed, &d)
                    } else {
                        hash_bytes(seed ^ (1 << (bit - len * 8)), &data)
                    };
                    let diff = base ^ changed;
                    for (out, count) in counts.iter_mut().enumerate() {
                        *count += ((diff >> out) & 1) as u32;
                    }
                }
            }
            for (bit, counts) in flips.iter().enumerate() {
                let total: u32 = counts.iter().sum();
                let mean = total as f64 / (64 * trials) as f64;
                assert!((0.47..0.53).contains(&mean), "len {len}, input bit {bit}: mean flip rate {mean}");
                for (out, &count) in counts.iter().enumerate() {
                    let p = count as f64 / trials as f64;
                    assert!((0.3..0.7).contains(&p), "len {len}, input bit {bit} -> output bit {out}: {p}");
                }
            }
        }
    }

    #[test]
    fn hash_bytes_distribution() {
        // Chi-squared over 256 buckets (255 degrees of freedom: mean 255, sd 22.6) for the low and high byte.
        let n = 256 * 400;
        let mut low = [0u32; 256];
        let mut high = [0u32; 256];
        for i in 0..n {
            let h = hash_bytes(0, format!("10.0.{}.{}", i / 256, i % 256).as_bytes());
            low[(h & 0xff) as usize] += 1;
            high[(h >> 56) as usize] += 1;
        }
        for buckets in [low, high] {
            let expected = n as f64 / 256.0;
            let chi2: f64 = buckets.iter().map(|&c| (c as f64 - expected).powi(2) / expected).sum();
            assert!(chi2 < 255.0 + 6.0 * 22.6, "chi-squared {chi2}");
        }
    }

    /// Builds a header with valid magic and version and the given fields, followed by `extra` bytes.
    fn crafted(fields: [u32; 5], seed: u64, extra: usize) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(b"BFF8");
        b.extend_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(&seed.to_le_bytes());
        for f in fields {
            b.extend_from_slice(&f.to_le_bytes());
        }
        b.resize(b.len() + extra, 0xa5);
        b
    }

    fn probe_all(bytes: &[u8], probes: &[u64]) {
        if let Ok(filter) = Fuse8::from_bytes(bytes) {
            assert_eq!(filter.len_bytes(), bytes.len());
            for &p in probes {
                let _ = filter.contains(p);
            }
        }
    }

    proptest! {
        #[test]
        fn prop_no_false_negatives(keys in proptest::collection::vec(any::<u64>(), 0..300)) {
            let bytes = build_fuse8(&keys).unwrap();
            let filter = Fuse8::from_bytes(&bytes).unwrap();
            for &k in &keys {
                prop_assert!(filter.contains(k));
            }
        }

        #[test]
        fn prop_small_key_ranges(keys in proptest::collection::vec(0u64..16, 0..40)) {
            let bytes = build_fuse8(&keys).unwrap();
            let filter = Fuse8::from_bytes(&bytes).unwrap();
            prop_assert!(keys.iter().all(|&k| filter.contains(k)));
            let mut distinct = keys.clone();
            distinct.sort_unstable();
            distinct.dedup();
            prop_assert_eq!(bytes, build_fuse8(&distinct).unwrap());
        }

        #[test]
        fn prop_arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200),
                                            probes in proptest::collection::vec(any::<u64>(), 8)) {
            probe_all(&bytes, &probes);
            let mut with_magic = b"BFF8\x01\0\0\0".to_vec();
            with_magic.extend_from_slice(&bytes);
            probe_all(&with_magic, &probes);
        }

        #[test]
        fn prop_crafted_headers_never_panic(fields in any::<[u32; 5]>(), small in any::<[u8; 5]>(), seed in any::<u64>(),
                                            extra in 0usize..600, probes in proptest::collection::vec(any::<u64>(), 16)) {
            probe_all(&crafted(fields, seed, extra), &probes);
            // Small values are likelier to be consistent.
            let small = small.map(u32::from);
            probe_all(&crafted(small, seed, extra), &probes);
            let sl = 1u32 << (small[0] % 8);
            let scl = sl * (small[2] % 4);
            let array = if scl == 0 { 0 } else { scl + 2 * sl };
            probe_all(&crafted([sl, sl - 1, scl, array, array], seed, extra), &probes);
            probe_all(&crafted([sl, sl - 1, scl, array, array], seed, array as usize), &probes);
        }

        #[test]
        fn prop_mutated_filters_never_panic(mutations in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
                                            cut in any::<usize>(), probes in proptest::collection::vec(any::<u64>(), 16)) {
            let original = build_fuse8(&random_keys(8, 50)).unwrap();
            let mut bytes = original.clone();
            for (at, value) in mutations {
                // Mostly hit the header.
                let at = if at % 2 == 0 { at % HEADER_LEN } else { at % bytes.len() };
                bytes[at] = value;
            }
            probe_all(&bytes, &probes);
            probe_all(&bytes[..cut % (bytes.len() + 1)], &probes);
            probe_all(&original[..cut % (original.len() + 1)], &probes);
        }
    }

    /// Release-mode measurement: `cargo test --release -- --ignored --nocapture measure_10m`.
    #[test]
    #[ignore]
    fn measure_10m() {
        use std::time::Instant;
        for n in [10_000_000usize, 20_000_000] {
            let keys = random_keys(100, n);
            let start = Instant::now();
            let bytes = build(&keys);
            let build_time = start.elapsed();
            let filter = Fuse8::from_bytes(&bytes).unwrap();
            let probes = random_keys(200, 10_000_000);
            let start = Instant::now();
            let hits_on_misses = probes.iter().filter(|&&k| filter.contains(k)).count();
            let miss_ns = start.elapsed().as_nanos() as f64 / probes.len() as f64;
            let start = Instant::now();
            let hits = keys[..probes.len().min(n)].iter().filter(|&&k| filter.contains(k)).count();
            let hit_ns = start.elapsed().as_nanos() as f64 / hits as f64;
            println!(
                "{n} keys: build {build_time:?}, {} bytes, {:.3} bytes/key, miss {miss_ns:.1} ns, hit {hit_ns:.1} ns, \
                 false positives {:.3} %",
                bytes.len(),
                bytes.len() as f64 / n as f64,
                hits_on_misses as f64 * 100.0 / probes.len() as f64,
            );
        }
    }
}

#[cfg(test)]
mod params_tests {
    use super::*;

    #[test]
    fn a_params_view_answers_like_the_validated_view() {
        let keys: Vec<u64> = (0..5000u64).map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15)).collect();
        let bytes = build_fuse8(&keys).unwrap();
        let f = Fuse8::from_bytes(&bytes).unwrap();
        let v = f.params().view(&bytes);
        for k in keys.iter().copied().chain(1..5000) {
            assert_eq!(f.contains(k), v.contains(k), "{k}");
        }
        assert!(keys.iter().all(|k| v.contains(*k)));
    }
}
