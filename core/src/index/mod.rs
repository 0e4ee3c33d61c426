//! The compiled index: an immutable, compact snapshot of the active indicators, matched
//! lock-free from many threads, saved to one file and loaded by `mmap` without copying.
//!
//! * strings (domains, URLs, e-mail addresses, user names, ssdeep hashes) live in `fst` maps
//!   keyed by a kind tag and the normalised value (shards of about 500,000 keys, cut by key
//!   range and built in parallel), behind a binary fuse filter that rejects nearly every miss
//!   with one or two cache misses;
//! * MD5/SHA-1/SHA-256/SHA-512 hashes are sorted fixed-width binary keys with a prefix table;
//! * IPv4 addresses are sorted `u32` keys with a prefix table, IPv6 addresses sorted `u128`;
//! * CIDR ranges are cut into disjoint elementary intervals, each with the posting of every
//!   range covering it, so one binary search returns every covering prefix;
//! * a key leads to a posting: one row, or a list of rows (one value in several collections or
//!   windows); a row holds the collection, flags and validity window of one indicator; the
//!   indicator ids are stored as runs of consecutive UUIDv7 values.

mod build;
pub mod filter;
mod format;
mod keys;

pub use build::{CollectionRecord, CommunityRecord, IndexBuilder, IndicatorRecord};
pub(crate) use keys::{decode_hex_into, domain as domain_key, email as email_key, parse_ip, url as url_key};

use crate::error::{Error, ErrorKind, Result};
use crate::observable::Kind;
use crate::scope::KindMask;
use format::{id, AlignedBuf, Layout};
use std::net::IpAddr;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

pub(crate) const FLAG_C2: u32 = 1;
pub(crate) const FLAG_SUBDOMAINS: u32 = 2;
pub(crate) const NO_POSTING: u32 = u32::MAX;
pub(crate) const UNTIL_NEVER: u32 = u32::MAX;
pub(crate) const HASH_ALGOS: [(Kind, usize); 4] =
    [(Kind::Md5, 16), (Kind::Sha1, 20), (Kind::Sha256, 32), (Kind::Sha512, 64)];
pub(crate) const FILTER_SEED: u64 = 0x010C_4A7C_0000_0001;
const MAX_SECTION: usize = 40;

enum Backing {
    Owned(AlignedBuf),
    Mapped(memmap2::Mmap),
}

impl Backing {
    fn bytes(&self) -> &[u8] {
        match self {
            Backing::Owned(b) => b.as_bytes(),
            Backing::Mapped(m) => m,
        }
    }
}

/// A section of the backing bytes that owns a share of them (for the `fst` map).
#[derive(Clone)]
struct Bytes {
    data: Arc<Backing>,
    range: Range<usize>,
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.data.bytes()[self.range.clone()]
    }
}

/// A compiled index. Cheap to share (`Arc`), `Send + Sync`; every query takes `&self`.
pub struct Index {
    data: Arc<Backing>,
    ranges: Vec<Range<usize>>,
    /// String `fst` shards, each with the shard head of its first key.
    fst: Vec<(u64, fst::Map<Bytes>)>,
    rows: u32,
    v4_bits: u32,
    hash_bits: [u32; 4],
    filter: Option<filter::Fuse8Params>,
    v4c_bits: u32,
    v4c_prefix: Vec<u32>,
    /// The kinds it holds at least one key of (look-ups of other kinds are skipped).
    present: KindMask,
    created: i64,
    seq: i64,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index").field("indicators", &self.rows).field("bytes", &self.size_bytes()).finish()
    }
}

fn corrupt(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::Corrupt, msg)
}

impl Index {
    pub(crate) fn from_aligned(buf: AlignedBuf) -> Result<Index> {
        Index::from_backing(Backing::Owned(buf), false)
    }

    fn from_backing(backing: Backing, verify: bool) -> Result<Index> {
        let layout = Layout::parse(backing.bytes(), verify)?;
        let mut ranges = vec![0..0; MAX_SECTION];
        for (sid, r) in &layout.sections {
            if let Some(slot) = ranges.get_mut(*sid as usize) {
                *slot = r.clone();
            }
        }
        let data = Arc::new(backing);
        let fst = load_shards(&data, &ranges)?;
        let mut idx = Index {
            data,
            ranges,
            fst,
            rows: 0,
            v4_bits: 0,
            hash_bits: [0; 4],
            filter: None,
            v4c_bits: 0,
            v4c_prefix: Vec::new(),
            present: 0,
            created: layout.created,
            seq: layout.seq,
        };
        idx.validate()?;
        idx.present = idx.kinds_present();
        Ok(idx)
    }

    /// Check every section's size and the cross-section invariants that lookups rely on.
    fn validate(&mut self) -> Result<()> {
        let u32_ids = [
            id::ROW_CF,
            id::ROW_WIN,
            id::COLLECTIONS,
            id::COMMUNITIES,
            id::POSTINGS,
            id::V4_KEYS,
            id::V4_POST,
            id::V4_PREFIX,
            id::V4C_START,
            id::V4C_POST,
            id::V6_POST,
            id::V6C_POST,
        ];
        for sid in u32_ids {
            format::as_u32s(self.section(sid), sid)?;
        }
        for sid in [id::META, id::UUID_RUNS, id::V6_KEYS, id::V6C_START, id::CIDR_ROWS] {
            format::as_u64s(self.section(sid), sid)?;
        }
        let meta = format::as_u64s(self.section(id::META), id::META)?;
        if meta.len() < 6 {
            return Err(corrupt("index metadata is too short"));
        }
        let rows = u32::try_from(meta[0]).map_err(|_| corrupt("index row count is out of range"))?;
        let check = |ok: bool, what: &str| if ok { Ok(()) } else { Err(corrupt(format!("index {what} do not agree"))) };
        check(self.u32s(id::ROW_CF).len() == rows as usize, "rows and collections")?;
        check(self.u32s(id::ROW_WIN).len() == 2 * rows as usize, "rows and windows")?;
        check(self.u32s(id::COLLECTIONS).len() % 6 == 0 && self.u32s(id::COMMUNITIES).len() % 6 == 0, "tables")?;
        check(self.u32s(id::V4_KEYS).len() == self.u32s(id::V4_POST).len(), "ipv4 keys and postings")?;
        check(self.u64s(id::V6_KEYS).len() == 2 * self.u32s(id::V6_POST).len(), "ipv6 keys and postings")?;
        check(self.u32s(id::V4C_START).len() == self.u32s(id::V4C_POST).len(), "ipv4 ranges and postings")?;
        check(self.u64s(id::V6C_START).len() == 2 * self.u32s(id::V6C_POST).len(), "ipv6 ranges and postings")?;
        check(self.u64s(id::UUID_RUNS).len() % 3 == 0 && self.u64s(id::CIDR_ROWS).len() % 3 == 0, "runs")?;
        let v4_bits =
            u32::try_from(meta[1]).ok().filter(|b| *b <= 16).ok_or_else(|| corrupt("bad ipv4 prefix bits"))?;
        let prefix_ok = |bits: u32, table: &[u32], n: usize| {
            (n == 0 && table.is_empty())
                || (table.len() == (1usize << bits) + 1
                    && table.windows(2).all(|w| w[0] <= w[1])
                    && table[table.len() - 1] as usize == n)
        };
        check(
            prefix_ok(v4_bits, self.u32s(id::V4_PREFIX), self.u32s(id::V4_KEYS).len()),
            "ipv4 prefix table and keys",
        )?;
        let mut hash_bits = [0u32; 4];
        for (algo, (_, width)) in HASH_ALGOS.iter().enumerate() {
            let bits = u32::try_from(meta[2 + algo])
                .ok()
                .filter(|b| *b <= 24)
                .ok_or_else(|| corrupt("bad hash prefix bits"))?;
            let base = id::HASH + 3 * algo as u32;
            format::as_u32s(self.section(base + 1), base + 1)?;
            format::as_u32s(self.section(base + 2), base + 2)?;
            let n = self.section(base).len() / width;
            check(self.section(base).len() % width == 0 && self.u32s(base + 1).len() == n, "hash keys and postings")?;
            check(prefix_ok(bits, self.u32s(base + 2), n), "hash prefix table and keys")?;
            hash_bits[algo] = bits;
        }
        if !self.section(id::STR_FILTER).is_empty() {
            let f = filter::Fuse8::from_bytes(self.section(id::STR_FILTER))
                .map_err(|e| corrupt(format!("index prefilter: {e}")))?;
            self.filter = Some(f.params());
        }
        // CIDR interval starts bucketed by their top bits, so that a lookup searches a few only:
        // table[b] = how many starts lie below bucket b
        let starts = self.u32s(id::V4C_START);
        let bits = build::prefix_bits(starts.len(), 16);
        let mut table = vec![0u32; (1usize << bits) + 1];
        if bits > 0 {
            let mut i = 0usize;
            for (b, slot) in table.iter_mut().enumerate() {
                let lo = (b as u64) << (32 - bits);
                while i < starts.len() && u64::from(starts[i]) < lo {
                    i += 1;
                }
                *slot = i as u32;
            }
        }
        self.v4c_bits = bits;
        self.v4c_prefix = table;
        self.rows = rows;
        self.v4_bits = v4_bits;
        self.hash_bits = hash_bits;
        Ok(())
    }

    /// Load an index file by memory-mapping it (no copy). The whole file is checksummed and
    /// every section validated first.
    ///
    /// The file must not be modified while the index is in use (replace it with a new file
    /// instead, as [`Index::save`] does).
    ///
    /// # Errors
    /// [`ErrorKind::Io`] when the file cannot be read; [`ErrorKind::Corrupt`] when it is
    /// truncated, damaged, of another format version or not an index at all.
    pub fn load(path: impl AsRef<Path>) -> Result<Index> {
        let path = path.as_ref();
        let file = std::fs::File::open(path)
            .map_err(|e| Error::new(ErrorKind::Io, format!("cannot open index '{}': {e}", path.display())))?;
        // SAFETY: the map is read-only; the file is written once by `save` (to a new file that is
        // then renamed) and never modified in place. Every access is bounds-checked against the
        // validated layout.
        let map = unsafe { memmap2::Mmap::map(&file) }
            .map_err(|e| Error::new(ErrorKind::Io, format!("cannot map index '{}': {e}", path.display())))?;
        Index::from_backing(Backing::Mapped(map), true)
            .map_err(|e| Error::new(e.kind(), format!("index '{}': {}", path.display(), e.message())))
    }

    /// Write the index to `path` atomically (a temporary file renamed over it).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let io = |e: std::io::Error| Error::new(ErrorKind::Io, format!("cannot write index '{}': {e}", path.display()));
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp).map_err(io)?;
            f.write_all(self.data.bytes()).map_err(io)?;
            f.sync_all().map_err(io)?;
        }
        std::fs::rename(&tmp, path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io(e)
        })
    }

    /// The file image.
    pub fn as_bytes(&self) -> &[u8] {
        self.data.bytes()
    }

    /// Number of indicators.
    pub fn len(&self) -> usize {
        self.rows as usize
    }

    /// The kinds of which it holds at least one key.
    pub(crate) fn present(&self) -> KindMask {
        self.present
    }

    fn kinds_present(&self) -> KindMask {
        let mut m = 0;
        let mut set = |k: Kind, yes: bool| {
            if yes {
                m |= k.bit();
            }
        };
        set(Kind::Ipv4, !self.u32s(id::V4_KEYS).is_empty());
        set(Kind::Ipv6, !self.u64s(id::V6_KEYS).is_empty());
        set(Kind::Cidr, !self.u64s(id::CIDR_ROWS).is_empty());
        for (algo, (kind, _)) in HASH_ALGOS.iter().enumerate() {
            set(*kind, !self.section(id::HASH + 3 * algo as u32).is_empty());
        }
        for kind in [Kind::Domain, Kind::Url, Kind::Email, Kind::Username, Kind::Ssdeep] {
            let t = keys::tag(kind);
            let any = self.fst.iter().any(|(_, map)| {
                use fst::{IntoStreamer, Streamer};
                map.range().ge([t]).lt([t + 1]).into_stream().next().is_some()
            });
            set(kind, any);
        }
        m
    }

    /// Whether it holds no indicator.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Size of the index in bytes (on disk and in memory).
    pub fn size_bytes(&self) -> usize {
        self.data.bytes().len()
    }

    /// When it was compiled (microseconds since the epoch).
    pub fn created(&self) -> crate::time::Timestamp {
        crate::time::Timestamp(self.created)
    }

    /// The store change sequence the snapshot includes.
    pub fn seq(&self) -> i64 {
        self.seq
    }

    fn section(&self, sid: u32) -> &[u8] {
        let r = self.ranges.get(sid as usize).cloned().unwrap_or(0..0);
        self.data.bytes().get(r).unwrap_or(&[])
    }

    fn u32s(&self, sid: u32) -> &[u32] {
        bytemuck::try_cast_slice(self.section(sid)).unwrap_or(&[])
    }

    fn u64s(&self, sid: u32) -> &[u64] {
        bytemuck::try_cast_slice(self.section(sid)).unwrap_or(&[])
    }

    // ----- rows, collections, communities

    /// Collection index and flags of a row.
    pub(crate) fn row_cf(&self, row: u32) -> Option<(u32, u32)> {
        self.u32s(id::ROW_CF).get(row as usize).map(|v| (v >> 8, v & 0xFF))
    }

    /// Validity window of a row, in seconds (`UNTIL_NEVER` for none).
    pub(crate) fn row_window(&self, row: u32) -> (u32, u32) {
        let w = self.u32s(id::ROW_WIN);
        let i = row as usize * 2;
        (w.get(i).copied().unwrap_or(u32::MAX), w.get(i + 1).copied().unwrap_or(0))
    }

    /// The indicator id of a row.
    pub(crate) fn row_uuid(&self, row: u32) -> Option<uuid::Uuid> {
        let runs = self.u64s(id::UUID_RUNS);
        let (mut lo, mut hi) = (0, runs.len() / 3);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if runs[3 * mid] <= u64::from(row) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let i = lo.checked_sub(1)?;
        let base = (u128::from(runs[3 * i + 1]) << 64) | u128::from(runs[3 * i + 2]);
        Some(uuid::Uuid::from_u128(base.wrapping_add(u128::from(row) - u128::from(runs[3 * i]))))
    }

    /// The row of an indicator id, if the index holds it.
    pub(crate) fn row_of_uuid(&self, id: uuid::Uuid) -> Option<u32> {
        let runs = self.u64s(id::UUID_RUNS);
        let n = runs.len() / 3;
        let base = |i: usize| (u128::from(runs[3 * i + 1]) << 64) | u128::from(runs[3 * i + 2]);
        let u = id.as_u128();
        let (mut lo, mut hi) = (0, n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if base(mid) <= u {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let i = lo.checked_sub(1)?;
        let row = u64::try_from(u - base(i)).ok()?.checked_add(runs[3 * i])?;
        let end = if i + 1 < n { runs[3 * (i + 1)] } else { u64::from(self.rows) };
        (row < end).then_some(row as u32)
    }

    /// The CIDR text of a row whose indicator is a range.
    pub(crate) fn row_cidr(&self, row: u32) -> Option<ipnet::IpNet> {
        let c = self.u64s(id::CIDR_ROWS);
        let n = c.len() / 3;
        let mut lo = 0;
        let mut hi = n;
        while lo < hi {
            let mid = (lo + hi) / 2;
            if (c[3 * mid] >> 8) < u64::from(row) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let head = *c.get(3 * lo)?;
        if head >> 8 != u64::from(row) {
            return None;
        }
        let prefix = (head & 0x7F) as u8;
        if head & 0x80 != 0 {
            let a = (u128::from(c[3 * lo + 1]) << 64) | u128::from(c[3 * lo + 2]);
            ipnet::Ipv6Net::new(a.into(), prefix).ok().map(ipnet::IpNet::V6)
        } else {
            ipnet::Ipv4Net::new((c[3 * lo + 2] as u32).into(), prefix).ok().map(ipnet::IpNet::V4)
        }
    }

    /// Number of collections.
    pub fn collection_count(&self) -> usize {
        self.u32s(id::COLLECTIONS).len() / 6
    }

    fn uuid_at(t: &[u32], i: usize) -> Option<uuid::Uuid> {
        let w = t.get(6 * i..6 * i + 4)?;
        Some(uuid::Uuid::from_u128(
            (u128::from(w[0]) << 96) | (u128::from(w[1]) << 64) | (u128::from(w[2]) << 32) | u128::from(w[3]),
        ))
    }

    /// The id of collection `i`.
    pub fn collection_uuid(&self, i: u32) -> Option<uuid::Uuid> {
        Index::uuid_at(self.u32s(id::COLLECTIONS), i as usize)
    }

    /// The community index of collection `i`, and whether sub-communities see it.
    pub(crate) fn collection_scope(&self, i: u32) -> Option<(u32, bool)> {
        let t = self.u32s(id::COLLECTIONS);
        Some((*t.get(6 * i as usize + 4)?, *t.get(6 * i as usize + 5)? != 0))
    }

    /// Number of communities.
    pub fn community_count(&self) -> usize {
        self.u32s(id::COMMUNITIES).len() / 6
    }

    /// The id of community `i`.
    pub fn community_uuid(&self, i: u32) -> Option<uuid::Uuid> {
        Index::uuid_at(self.u32s(id::COMMUNITIES), i as usize)
    }

    /// The parent of community `i`.
    pub(crate) fn community_parent(&self, i: u32) -> Option<u32> {
        self.u32s(id::COMMUNITIES).get(6 * i as usize + 4).copied().filter(|p| *p != u32::MAX)
    }

    // ----- lookups

    fn each_row(&self, r: u32, f: &mut dyn FnMut(u32)) {
        if r == NO_POSTING {
            return;
        }
        if r & 0x8000_0000 == 0 {
            f(r);
            return;
        }
        let p = self.u32s(id::POSTINGS);
        let i = (r & 0x7FFF_FFFF) as usize;
        let Some(&n) = p.get(i) else { return };
        for row in p.get(i + 1..i + 1 + n as usize).unwrap_or(&[]) {
            f(*row);
        }
    }

    /// Every row whose indicator is `ip` or a range covering it: `(row, kind)`.
    pub(crate) fn lookup_ip(&self, ip: IpAddr, f: &mut dyn FnMut(u32, Kind)) {
        match ip {
            IpAddr::V4(a) => {
                let a = u32::from(a);
                let keys = self.u32s(id::V4_KEYS);
                if !keys.is_empty() {
                    let table = self.u32s(id::V4_PREFIX);
                    let b = if self.v4_bits == 0 { 0 } else { (a >> (32 - self.v4_bits)) as usize };
                    let lo = table.get(b).copied().unwrap_or(0) as usize;
                    let hi = (table.get(b + 1).copied().unwrap_or(0) as usize).min(keys.len());
                    if lo < hi {
                        if let Ok(i) = keys[lo..hi].binary_search(&a) {
                            if let Some(&r) = self.u32s(id::V4_POST).get(lo + i) {
                                self.each_row(r, &mut |row| f(row, Kind::Ipv4));
                            }
                        }
                    }
                }
                let starts = self.u32s(id::V4C_START);
                // the last start <= a lies in a's bucket, or is the last start before it
                let (lo, hi) = if self.v4c_bits == 0 {
                    (0, starts.len())
                } else {
                    let b = (a >> (32 - self.v4c_bits)) as usize;
                    let lo = self.v4c_prefix.get(b).copied().unwrap_or(0) as usize;
                    let hi = self.v4c_prefix.get(b + 1).copied().map_or(starts.len(), |h| h as usize);
                    (lo.min(starts.len()), hi.min(starts.len()))
                };
                let i = lo + starts[lo..hi.max(lo)].partition_point(|s| *s <= a);
                if let Some(&r) = i.checked_sub(1).and_then(|i| self.u32s(id::V4C_POST).get(i)) {
                    self.each_row(r, &mut |row| f(row, Kind::Cidr));
                }
            }
            IpAddr::V6(a) => {
                let a = u128::from(a);
                let at = |w: &[u64], i: usize| (u128::from(w[2 * i]) << 64) | u128::from(w[2 * i + 1]);
                let keys = self.u64s(id::V6_KEYS);
                let n = keys.len() / 2;
                let (mut lo, mut hi) = (0, n);
                while lo < hi {
                    let mid = (lo + hi) / 2;
                    if at(keys, mid) < a {
                        lo = mid + 1
                    } else {
                        hi = mid
                    }
                }
                if lo < n && at(keys, lo) == a {
                    if let Some(&r) = self.u32s(id::V6_POST).get(lo) {
                        self.each_row(r, &mut |row| f(row, Kind::Ipv6));
                    }
                }
                let starts = self.u64s(id::V6C_START);
                let n = starts.len() / 2;
                let (mut lo, mut hi) = (0, n);
                while lo < hi {
                    let mid = (lo + hi) / 2;
                    if at(starts, mid) <= a {
                        lo = mid + 1
                    } else {
                        hi = mid
                    }
                }
                if let Some(&r) = lo.checked_sub(1).and_then(|i| self.u32s(id::V6C_POST).get(i)) {
                    self.each_row(r, &mut |row| f(row, Kind::Cidr));
                }
            }
        }
    }

    #[inline]
    fn filter_passes(&self, key: &[u8]) -> bool {
        match &self.filter {
            Some(p) => p.view(self.section(id::STR_FILTER)).contains(filter::hash_bytes(FILTER_SEED, key)),
            None => false,
        }
    }

    /// The value of a string key in its `fst` shard.
    fn fst_get(&self, key: &[u8]) -> Option<u64> {
        let i = match self.fst.len() {
            1 => 0,
            _ => {
                let h = build::shard_head(key);
                self.fst.partition_point(|(first, _)| *first <= h).checked_sub(1)?
            }
        };
        self.fst.get(i)?.1.get(key)
    }

    fn string_rows(&self, key: &[u8], f: &mut dyn FnMut(u32)) {
        if !self.filter_passes(key) {
            return;
        }
        if let Some(r) = self.fst_get(key) {
            if let Ok(r) = u32::try_from(r) {
                self.each_row(r, f);
            }
        }
    }

    /// Every row of a string kind (URL, e-mail, user name, ssdeep) whose value is `value`
    /// (already normalised).
    pub(crate) fn lookup_string(&self, kind: Kind, value: &str, f: &mut dyn FnMut(u32)) {
        with_key(keys::tag(kind), value, &mut |key| self.string_rows(key, f));
    }

    /// Every row whose domain is `name` (exact), or a parent of it with sub-domain matching:
    /// `(row, matched domain)`.
    pub(crate) fn lookup_domain(&self, name: &str, f: &mut dyn FnMut(u32, &str)) {
        with_key(b'd', name, &mut |key| self.lookup_domain_key(key, name, f));
    }

    /// [`Index::lookup_domain`] with `key` a buffer holding `d` + `name`.
    fn lookup_domain_key(&self, key: &mut [u8], name: &str, f: &mut dyn FnMut(u32, &str)) {
        self.string_rows(key, &mut |row| f(row, name));
        let mut rest = name;
        while let Some(dot) = rest.find('.') {
            rest = &rest[dot + 1..];
            if !rest.contains('.') {
                break; // a bare TLD is never an indicator
            }
            // the suffix `rest` is the tail of `key`: mark it as a parent-domain key in place
            let key = &mut key[name.len() - rest.len()..];
            key[0] = keys::SUBDOMAIN_MARK;
            if !self.filter_passes(key) {
                continue;
            }
            key[0] = b'd';
            if let Some(r) = self.fst_get(key).and_then(|r| u32::try_from(r).ok()) {
                self.each_row(r, &mut |row| {
                    if self.row_cf(row).is_some_and(|(_, fl)| fl & FLAG_SUBDOMAINS != 0) {
                        f(row, rest)
                    }
                });
            }
        }
    }

    /// Every row whose hash of `kind` is `bytes`.
    pub(crate) fn lookup_hash(&self, kind: Kind, bytes: &[u8], f: &mut dyn FnMut(u32)) {
        let Some(algo) = HASH_ALGOS.iter().position(|(k, w)| *k == kind && *w == bytes.len()) else { return };
        let width = bytes.len();
        let base = id::HASH + 3 * algo as u32;
        let keys = self.section(base);
        let n = keys.len() / width;
        if n == 0 {
            return;
        }
        let bits = self.hash_bits[algo];
        let top = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        let b = if bits == 0 { 0 } else { (top >> (32 - bits)) as usize };
        let table = self.u32s(base + 2);
        let lo = table.get(b).copied().unwrap_or(0) as usize;
        let hi = (table.get(b + 1).copied().unwrap_or(0) as usize).min(n);
        // keys are at least 16 bytes: compare the first 8 as one number, the rest only on a tie
        let want = u64::from_be_bytes(bytes[..8].try_into().unwrap_or_default());
        for i in lo..hi {
            let k = &keys[i * width..(i + 1) * width];
            let head = u64::from_be_bytes(k[..8].try_into().unwrap_or_default());
            let order = head.cmp(&want).then_with(|| k[8..].cmp(&bytes[8..]));
            match order {
                std::cmp::Ordering::Less => continue,
                std::cmp::Ordering::Equal => {
                    if let Some(&r) = self.u32s(base + 1).get(i) {
                        self.each_row(r, f);
                    }
                    return;
                }
                std::cmp::Ordering::Greater => return,
            }
        }
    }
}

/// Call `f` with `tag` followed by `value`, in a stack buffer when it fits.
fn with_key(tag: u8, value: &str, f: &mut dyn FnMut(&mut [u8])) {
    let n = value.len() + 1;
    let mut small = [0u8; 256];
    let mut big = Vec::new();
    let key: &mut [u8] = if n <= small.len() {
        &mut small[..n]
    } else {
        big.resize(n, 0);
        &mut big
    };
    key[0] = tag;
    key[1..].copy_from_slice(value.as_bytes());
    f(key);
}

/// The string `fst` shards of an index image, each checked.
fn load_shards(data: &Arc<Backing>, ranges: &[Range<usize>]) -> Result<Vec<(u64, fst::Map<Bytes>)>> {
    let all = ranges[id::STR_FST as usize].clone();
    let table = &data.bytes()[ranges[id::STR_SHARDS as usize].clone()];
    if table.is_empty() || table.len() % 24 != 0 {
        return Err(corrupt("index string shard table is missing or has a bad size"));
    }
    let word = |i: usize| u64::from_le_bytes(table[8 * i..8 * i + 8].try_into().unwrap_or_default());
    let mut shards = Vec::with_capacity(table.len() / 24);
    let mut prev: Option<(u64, u64)> = None;
    for s in 0..table.len() / 24 {
        let (head, start, end) = (word(3 * s), word(3 * s + 1), word(3 * s + 2));
        let ordered = prev.is_none_or(|(h, e)| head > h && start == e);
        if !ordered || start > end || end > all.len() as u64 || (prev.is_none() && start != 0) {
            return Err(corrupt(format!("index string shard {s} is out of order or out of bounds")));
        }
        let range = all.start + start as usize..all.start + end as usize;
        let map = fst::Map::new(Bytes { data: data.clone(), range })
            .map_err(|e| corrupt(format!("index string shard {s} is corrupt: {e}")))?;
        shards.push((head, map));
        prev = Some((head, end));
    }
    Ok(shards)
}
