//! Compiling indicators into an index image.

use super::format::{id, AlignedBuf, Writer};
use super::keys::{tag, SUBDOMAIN_MARK};
use super::{filter, FLAG_C2, FLAG_SUBDOMAINS, HASH_ALGOS, NO_POSTING, UNTIL_NEVER};
use crate::error::{Error, ErrorKind, Result};
use crate::observable::{IndicatorValue, Kind};
use crate::time::Timestamp;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use std::net::IpAddr;

/// One indicator to compile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorRecord {
    /// Its id (the uuid of `indicator--<uuid>`).
    pub id: uuid::Uuid,
    /// Index of its collection in the collections given to the builder.
    pub collection: u32,
    /// The observable(s).
    pub value: IndicatorValue,
    /// Start of validity.
    pub valid_from: Timestamp,
    /// End of validity; `None` never ends.
    pub valid_until: Option<Timestamp>,
    /// An IP indicator of the Command and Control phase: looked up in `destination.ip` only.
    pub c2: bool,
    /// A domain indicator that also matches its sub-domains.
    pub subdomains: bool,
}

/// One collection of the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionRecord {
    /// Its id (the uuid of `ioc-collection--<uuid>`).
    pub id: uuid::Uuid,
    /// Index of its community in the communities given to the builder.
    pub community: u32,
    /// Whether sub-communities of its community see it.
    pub available_for_sub_communities: bool,
}

/// One community of the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommunityRecord {
    /// Its id.
    pub id: uuid::Uuid,
    /// Index of its parent community.
    pub parent: Option<u32>,
}

/// Collects communities, collections and indicators, then compiles them.
#[derive(Debug, Default)]
pub struct IndexBuilder {
    communities: Vec<CommunityRecord>,
    collections: Vec<CollectionRecord>,
    indicators: Vec<IndicatorRecord>,
    seq: i64,
    /// String keys per `fst` shard; [`SHARD_KEYS`] when 0.
    shard_keys: usize,
}

/// Seconds since the epoch as stored in a row: clamped to `u32`; the end rounded up so that
/// rounding never drops a match.
fn secs_from(t: Timestamp) -> u32 {
    t.secs().clamp(0, i64::from(u32::MAX - 1)) as u32
}

fn secs_until(t: Option<Timestamp>) -> u32 {
    match t {
        None => UNTIL_NEVER,
        Some(t) => {
            let up = t.0.div_euclid(1_000_000) + i64::from(t.0.rem_euclid(1_000_000) != 0);
            up.clamp(0, i64::from(u32::MAX - 1)) as u32
        }
    }
}

/// Postings: a list of rows becomes one `u32` reference (the row itself when alone).
#[derive(Default)]
struct Postings {
    data: Vec<u32>,
    shared: FxHashMap<Vec<u32>, u32>,
}

impl Postings {
    fn add(&mut self, rows: &[u32]) -> u32 {
        match rows {
            [] => NO_POSTING,
            [one] => *one,
            many => {
                let r = 0x8000_0000 | self.data.len() as u32;
                self.data.push(many.len() as u32);
                self.data.extend_from_slice(many);
                r
            }
        }
    }

    /// Like `add`, sharing identical lists (CIDR intervals repeat the same lists).
    fn add_shared(&mut self, rows: &[u32]) -> u32 {
        if rows.len() < 2 {
            return self.add(rows);
        }
        if let Some(r) = self.shared.get(rows) {
            return *r;
        }
        let r = self.add(rows);
        self.shared.insert(rows.to_vec(), r);
        r
    }
}

/// Sorted (key, row) pairs grouped by key: keys and one posting per key.
fn group<K: Ord + Copy + Send>(mut pairs: Vec<(K, u32)>, post: &mut Postings) -> (Vec<K>, Vec<u32>) {
    pairs.par_sort_unstable();
    pairs.dedup();
    let mut keys = Vec::with_capacity(pairs.len());
    let mut refs = Vec::with_capacity(pairs.len());
    let mut rows = Vec::new();
    let mut i = 0;
    while i < pairs.len() {
        let k = pairs[i].0;
        let j = i + pairs[i..].iter().take_while(|p| p.0 == k).count();
        rows.clear();
        rows.extend(pairs[i..j].iter().map(|p| p.1));
        keys.push(k);
        refs.push(post.add(&rows));
        i = j;
    }
    (keys, refs)
}

/// Elementary intervals of nested or disjoint ranges `[lo, hi]`: interval starts (the first
/// is always 0) and the posting of the ranges covering each.
fn intervals<K>(mut ranges: Vec<(K, K, u32)>, post: &mut Postings, succ: impl Fn(K) -> Option<K>) -> (Vec<K>, Vec<u32>)
where
    K: Ord + Copy + Default,
{
    let mut bounds: Vec<K> = vec![K::default()];
    for (lo, hi, _) in &ranges {
        bounds.push(*lo);
        if let Some(h) = succ(*hi) {
            bounds.push(h);
        }
    }
    bounds.sort_unstable();
    bounds.dedup();
    let mut cover: Vec<Vec<u32>> = vec![Vec::new(); bounds.len()];
    ranges.sort_unstable();
    for (lo, hi, row) in &ranges {
        let a = bounds.partition_point(|b| b < lo);
        let b = match succ(*hi) {
            Some(h) => bounds.partition_point(|x| *x < h),
            None => bounds.len(),
        };
        for c in &mut cover[a..b] {
            c.push(*row);
        }
    }
    let mut starts = Vec::with_capacity(bounds.len());
    let mut refs: Vec<u32> = Vec::with_capacity(bounds.len());
    let mut prev: Option<&Vec<u32>> = None;
    for (b, c) in bounds.iter().zip(&cover) {
        if prev == Some(c) {
            continue; // same set as the interval before: merge
        }
        let mut sorted = c.clone();
        sorted.sort_unstable();
        starts.push(*b);
        refs.push(post.add_shared(&sorted));
        prev = Some(c);
    }
    (starts, refs)
}

/// Keys bucketed by their top `bits` bits: `2^bits + 1` offsets.
fn prefix_table(tops: impl Iterator<Item = u32>, n: usize, bits: u32) -> Vec<u32> {
    let mut table = vec![0u32; (1usize << bits) + 1];
    for t in tops {
        let b = if bits == 0 { 0 } else { (t >> (32 - bits)) as usize };
        table[b + 1] += 1;
    }
    for i in 1..table.len() {
        table[i] += table[i - 1];
    }
    debug_assert_eq!(table[table.len() - 1] as usize, n);
    table
}

/// Prefix bits for `n` uniformly spread keys: about two keys per bucket.
pub(crate) fn prefix_bits(n: usize, max: u32) -> u32 {
    if n < 4 {
        0
    } else {
        (usize::BITS - 1 - n.leading_zeros()).saturating_sub(1).min(max)
    }
}

impl IndexBuilder {
    /// An empty builder.
    pub fn new() -> IndexBuilder {
        IndexBuilder::default()
    }

    /// Add a community; returns its index.
    pub fn add_community(&mut self, c: CommunityRecord) -> u32 {
        self.communities.push(c);
        self.communities.len() as u32 - 1
    }

    /// Add a collection; returns its index.
    pub fn add_collection(&mut self, c: CollectionRecord) -> u32 {
        self.collections.push(c);
        self.collections.len() as u32 - 1
    }

    /// Add an indicator.
    pub fn add_indicator(&mut self, r: IndicatorRecord) {
        self.indicators.push(r);
    }

    /// Reserve room for `n` more indicators.
    pub fn reserve(&mut self, n: usize) {
        self.indicators.reserve(n);
    }

    /// Number of indicators added.
    pub fn len(&self) -> usize {
        self.indicators.len()
    }

    /// Whether no indicator was added.
    pub fn is_empty(&self) -> bool {
        self.indicators.is_empty()
    }

    /// Record the store change sequence this snapshot includes.
    pub fn set_seq(&mut self, seq: i64) {
        self.seq = seq;
    }

    /// Compile into an in-memory index.
    ///
    /// # Errors
    /// A validation error when a record names a collection or community that was not added,
    /// or there are more than 2^24 collections or 2^31 indicators.
    pub fn build(self) -> Result<super::Index> {
        let image = self.build_image()?;
        super::Index::from_aligned(image)
    }

    pub(crate) fn build_image(mut self) -> Result<AlignedBuf> {
        let too_many = |what: &str| Error::new(ErrorKind::Validation, format!("too many {what} for one index"));
        if self.indicators.len() >= 0x7FFF_FFFF {
            return Err(too_many("indicators"));
        }
        if self.collections.len() >= 1 << 24 {
            return Err(too_many("collections"));
        }
        for c in &self.collections {
            if c.community as usize >= self.communities.len() {
                return Err(Error::invalid(
                    c.id.to_string(),
                    format!("collection {} names an unknown community", c.id),
                ));
            }
        }
        for c in &self.communities {
            if c.parent.is_some_and(|p| p as usize >= self.communities.len()) {
                return Err(Error::invalid(c.id.to_string(), format!("community {} names an unknown parent", c.id)));
            }
        }
        if let Some(r) = self.indicators.iter().find(|r| r.collection as usize >= self.collections.len()) {
            return Err(Error::invalid(r.id.to_string(), format!("indicator {} names an unknown collection", r.id)));
        }
        self.indicators.par_sort_unstable_by_key(|r| r.id);
        let rows = &self.indicators;
        let mut w = Writer::default();

        // rows
        let cf: Vec<u32> = rows
            .iter()
            .map(|r| {
                (r.collection << 8) | if r.c2 { FLAG_C2 } else { 0 } | if r.subdomains { FLAG_SUBDOMAINS } else { 0 }
            })
            .collect();
        let win: Vec<u32> = rows.iter().flat_map(|r| [secs_from(r.valid_from), secs_until(r.valid_until)]).collect();
        let mut runs: Vec<u64> = Vec::new();
        let mut prev: Option<u128> = None;
        for (i, r) in rows.iter().enumerate() {
            let u = r.id.as_u128();
            if prev.and_then(|p| p.checked_add(1)) != Some(u) {
                runs.extend([i as u64, (u >> 64) as u64, u as u64]);
            }
            prev = Some(u);
        }
        w.u32s(id::ROW_CF, &cf);
        w.u32s(id::ROW_WIN, &win);
        w.u64s(id::UUID_RUNS, &runs);
        let colls: Vec<u32> = self
            .collections
            .iter()
            .flat_map(|c| {
                let u = c.id.as_u128();
                [
                    (u >> 96) as u32,
                    (u >> 64) as u32,
                    (u >> 32) as u32,
                    u as u32,
                    c.community,
                    u32::from(c.available_for_sub_communities),
                ]
            })
            .collect();
        w.u32s(id::COLLECTIONS, &colls);
        let comms: Vec<u32> = self
            .communities
            .iter()
            .flat_map(|c| {
                let u = c.id.as_u128();
                [(u >> 96) as u32, (u >> 64) as u32, (u >> 32) as u32, u as u32, c.parent.unwrap_or(u32::MAX), 0]
            })
            .collect();
        w.u32s(id::COMMUNITIES, &comms);

        // keys, extracted in parallel (chunks keep row order)
        let chunks: Vec<Keys<'_>> = rows
            .par_chunks(EXTRACT_CHUNK)
            .enumerate()
            .map(|(i, chunk)| Keys::extract(chunk, (i * EXTRACT_CHUNK) as u32))
            .collect::<Result<_>>()?;
        let mut keys = Keys::default();
        for k in chunks {
            keys.append(k);
        }
        let Keys { strings, marks, v4, v6, v4c, v6c, cidr_rows, md5, sha1, sha256, sha512 } = keys;

        let mut post = Postings::default();
        // strings: fst shards + filter
        let (fst_bytes, shards, mut filter_keys) =
            build_strings(strings, &mut post, if self.shard_keys == 0 { SHARD_KEYS } else { self.shard_keys })?;
        filter_keys.extend(marks);
        let filter_bytes = filter::build_fuse8(&filter_keys)
            .map_err(|e| Error::new(ErrorKind::Validation, format!("cannot build the prefilter: {e}")))?;
        drop(filter_keys);
        w.bytes(id::STR_FST, fst_bytes);
        w.u64s(id::STR_SHARDS, &shards);
        w.bytes(id::STR_FILTER, filter_bytes);

        // ipv4 / ipv6 exact
        let (k4, p4) = group(v4, &mut post);
        let bits4 = prefix_bits(k4.len(), 16);
        w.u32s(id::V4_PREFIX, &prefix_table(k4.iter().copied(), k4.len(), bits4));
        w.u32s(id::V4_KEYS, &k4);
        w.u32s(id::V4_POST, &p4);
        let (k6, p6) = group(v6, &mut post);
        let k6w: Vec<u64> = k6.iter().flat_map(|k| [(k >> 64) as u64, *k as u64]).collect();
        w.u64s(id::V6_KEYS, &k6w);
        w.u32s(id::V6_POST, &p6);
        // cidrs
        let (s4, c4) = intervals(v4c, &mut post, |h: u32| h.checked_add(1));
        w.u32s(id::V4C_START, &s4);
        w.u32s(id::V4C_POST, &c4);
        let (s6, c6) = intervals(v6c, &mut post, |h: u128| h.checked_add(1));
        let s6w: Vec<u64> = s6.iter().flat_map(|k| [(k >> 64) as u64, *k as u64]).collect();
        w.u64s(id::V6C_START, &s6w);
        w.u32s(id::V6C_POST, &c6);
        w.u64s(id::CIDR_ROWS, &cidr_rows);

        // hashes
        let mut hash_bits = [0u64; 4];
        let grouped = [
            group_hashes(md5, &mut post),
            group_hashes(sha1, &mut post),
            group_hashes(sha256, &mut post),
            group_hashes(sha512, &mut post),
        ];
        for (algo, (keys, refs)) in grouped.into_iter().enumerate() {
            let width = HASH_ALGOS[algo].1;
            let n = keys.len() / width;
            let bits = prefix_bits(n, 24);
            hash_bits[algo] = u64::from(bits);
            let tops = keys.chunks_exact(width).map(|k| u32::from_be_bytes([k[0], k[1], k[2], k[3]]));
            let base = id::HASH + 3 * algo as u32;
            w.u32s(base + 2, &prefix_table(tops, n, bits));
            w.bytes(base, keys);
            w.u32s(base + 1, &refs);
        }

        w.u32s(id::POSTINGS, &post.data);
        let meta: Vec<u64> = [rows.len() as u64, u64::from(bits4)].into_iter().chain(hash_bits).collect();
        w.u64s(id::META, &meta);
        Ok(w.finish(Timestamp::now().0, self.seq))
    }
}

/// Rows per chunk of parallel key extraction.
const EXTRACT_CHUNK: usize = 1 << 16;

/// String keys per `fst` shard (shards are built in parallel).
const SHARD_KEYS: usize = 1 << 19;

/// A string key: `tag` + `value`, ordered by its first 16 bytes (zero-padded, so the order is
/// the bytes' order) and then by the whole value, without building the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct StrKey<'a> {
    head: u128,
    value: &'a [u8],
    row: u32,
}

impl<'a> StrKey<'a> {
    fn new(tag: u8, value: &'a str, row: u32) -> Self {
        StrKey { head: head128(tag, value.as_bytes()), value: value.as_bytes(), row }
    }

    fn tag(&self) -> u8 {
        (self.head >> 120) as u8
    }

    /// The key's bytes into `buf`.
    fn write(&self, buf: &mut Vec<u8>) {
        buf.clear();
        buf.push(self.tag());
        buf.extend_from_slice(self.value);
    }
}

/// `tag` and the first 15 bytes of `value`, big-endian, zero-padded.
fn head128(tag: u8, value: &[u8]) -> u128 {
    let mut b = [0u8; 16];
    b[0] = tag;
    let n = value.len().min(15);
    b[1..1 + n].copy_from_slice(&value[..n]);
    u128::from_be_bytes(b)
}

/// The first 8 bytes of a key, big-endian, zero-padded: how a key finds its `fst` shard.
pub(crate) fn shard_head(key: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    let n = key.len().min(8);
    b[..n].copy_from_slice(&key[..n]);
    u64::from_be_bytes(b)
}

/// The keys of some rows, by kind.
#[derive(Default)]
struct Keys<'a> {
    strings: Vec<StrKey<'a>>,
    marks: Vec<u64>,
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u32)>,
    v4c: Vec<(u32, u32, u32)>,
    v6c: Vec<(u128, u128, u32)>,
    cidr_rows: Vec<u64>,
    md5: Vec<([u8; 16], u32)>,
    sha1: Vec<([u8; 20], u32)>,
    sha256: Vec<([u8; 32], u32)>,
    sha512: Vec<([u8; 64], u32)>,
}

fn push_hash<const W: usize>(to: &mut Vec<([u8; W], u32)>, value: &str, row: u32) -> Result<()> {
    let mut k = [0u8; W];
    if !super::keys::decode_hex_into(value.as_bytes(), &mut k) {
        return Err(Error::invalid(value, format!("bad hash '{value}' in an indicator")));
    }
    to.push((k, row));
    Ok(())
}

impl<'a> Keys<'a> {
    /// The keys of `rows`, the first of which is row `base`.
    fn extract(rows: &'a [IndicatorRecord], base: u32) -> Result<Keys<'a>> {
        let mut k = Keys::default();
        let mut mark = Vec::new();
        for (i, r) in rows.iter().enumerate() {
            let row = base + i as u32;
            for o in &r.value.observables {
                match o.kind {
                    Kind::Ipv4 | Kind::Ipv6 => match o.value.parse::<IpAddr>() {
                        Ok(IpAddr::V4(a)) => k.v4.push((u32::from(a), row)),
                        Ok(IpAddr::V6(a)) => k.v6.push((u128::from(a), row)),
                        Err(_) => {
                            return Err(Error::invalid(&o.value, format!("bad ip '{}' in an indicator", o.value)))
                        }
                    },
                    Kind::Cidr => match o.value.parse::<ipnet::IpNet>() {
                        Ok(ipnet::IpNet::V4(n)) => {
                            k.v4c.push((u32::from(n.network()), u32::from(n.broadcast()), row));
                            k.cidr_rows.extend([
                                (u64::from(row) << 8) | u64::from(n.prefix_len()),
                                0,
                                u64::from(u32::from(n.network())),
                            ]);
                        }
                        Ok(ipnet::IpNet::V6(n)) => {
                            let a = u128::from(n.network());
                            k.v6c.push((a, u128::from(n.broadcast()), row));
                            k.cidr_rows.extend([
                                (u64::from(row) << 8) | 0x80 | u64::from(n.prefix_len()),
                                (a >> 64) as u64,
                                a as u64,
                            ]);
                        }
                        Err(_) => {
                            return Err(Error::invalid(&o.value, format!("bad cidr '{}' in an indicator", o.value)))
                        }
                    },
                    Kind::Md5 => push_hash(&mut k.md5, &o.value, row)?,
                    Kind::Sha1 => push_hash(&mut k.sha1, &o.value, row)?,
                    Kind::Sha256 => push_hash(&mut k.sha256, &o.value, row)?,
                    Kind::Sha512 => push_hash(&mut k.sha512, &o.value, row)?,
                    kind => {
                        if kind == Kind::Domain && r.subdomains {
                            mark.clear();
                            mark.push(SUBDOMAIN_MARK);
                            mark.extend_from_slice(o.value.as_bytes());
                            k.marks.push(filter::hash_bytes(super::FILTER_SEED, &mark));
                        }
                        k.strings.push(StrKey::new(tag(kind), &o.value, row));
                    }
                }
            }
        }
        Ok(k)
    }

    fn append(&mut self, mut o: Keys<'a>) {
        self.strings.append(&mut o.strings);
        self.marks.append(&mut o.marks);
        self.v4.append(&mut o.v4);
        self.v6.append(&mut o.v6);
        self.v4c.append(&mut o.v4c);
        self.v6c.append(&mut o.v6c);
        self.cidr_rows.append(&mut o.cidr_rows);
        self.md5.append(&mut o.md5);
        self.sha1.append(&mut o.sha1);
        self.sha256.append(&mut o.sha256);
        self.sha512.append(&mut o.sha512);
    }
}

/// The string keys as `fst` shards built in parallel: the shards' bytes end to end, the shard
/// table (`[first key's shard_head, start, end]` per shard) and the keys' filter hashes.
fn build_strings(
    mut strings: Vec<StrKey<'_>>,
    post: &mut Postings,
    shard_keys: usize,
) -> Result<(Vec<u8>, Vec<u64>, Vec<u64>)> {
    strings.par_sort_unstable();
    strings.dedup();
    // one entry per distinct key: its first pair and its posting
    let mut uniq: Vec<(StrKey<'_>, u32)> = Vec::new();
    let mut rows = Vec::new();
    let mut i = 0;
    while i < strings.len() {
        let k = strings[i];
        let j = i + strings[i..].iter().take_while(|p| p.head == k.head && p.value == k.value).count();
        rows.clear();
        rows.extend(strings[i..j].iter().map(|p| p.row));
        uniq.push((k, post.add(&rows)));
        i = j;
    }
    drop(strings);
    let filter_keys: Vec<u64> = uniq
        .par_iter()
        .map_init(Vec::new, |buf, (k, _)| {
            k.write(buf);
            filter::hash_bytes(super::FILTER_SEED, buf)
        })
        .collect();
    // shards of about `shard_keys` keys, cut where the 8-byte head changes
    let heads = |k: &StrKey<'_>| (k.head >> 64) as u64;
    let mut cuts = vec![0usize];
    let shard_keys = shard_keys.max(1);
    let mut at = shard_keys;
    while at < uniq.len() {
        let h = heads(&uniq[at - 1].0);
        let mut c = at;
        while c < uniq.len() && heads(&uniq[c].0) == h {
            c += 1;
        }
        if c >= uniq.len() {
            break;
        }
        cuts.push(c);
        at = c + shard_keys;
    }
    cuts.push(uniq.len());
    let built: Vec<Vec<u8>> = cuts
        .par_windows(2)
        .map(|w| {
            let mut b = fst::MapBuilder::memory();
            let mut buf = Vec::new();
            for (k, r) in &uniq[w[0]..w[1]] {
                k.write(&mut buf);
                b.insert(&buf, u64::from(*r))
                    .map_err(|e| Error::new(ErrorKind::Validation, format!("cannot build the string index: {e}")))?;
            }
            b.into_inner().map_err(|e| Error::new(ErrorKind::Validation, format!("cannot build the string index: {e}")))
        })
        .collect::<Result<_>>()?;
    let mut bytes = Vec::with_capacity(built.iter().map(Vec::len).sum());
    let mut table = Vec::with_capacity(3 * built.len());
    for (w, b) in cuts.windows(2).zip(built) {
        let head = uniq.get(w[0]).map_or(0, |(k, _)| heads(k));
        table.extend([head, bytes.len() as u64, (bytes.len() + b.len()) as u64]);
        bytes.extend_from_slice(&b);
    }
    Ok((bytes, table, filter_keys))
}

/// Group hash keys: the keys concatenated in sorted order, and one posting each.
fn group_hashes<const W: usize>(mut pairs: Vec<([u8; W], u32)>, post: &mut Postings) -> (Vec<u8>, Vec<u32>) {
    pairs.par_sort_unstable();
    pairs.dedup();
    let mut keys = Vec::with_capacity(pairs.len() * W);
    let mut refs = Vec::new();
    let mut rows = Vec::new();
    let mut i = 0;
    while i < pairs.len() {
        let j = i + pairs[i..].iter().take_while(|p| p.0 == pairs[i].0).count();
        rows.clear();
        rows.extend(pairs[i..j].iter().map(|p| p.1));
        keys.extend_from_slice(&pairs[i].0);
        refs.push(post.add(&rows));
        i = j;
    }
    (keys, refs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_round_outwards() {
        assert_eq!(secs_from(Timestamp(1_500_000)), 1);
        assert_eq!(secs_until(Some(Timestamp(1_500_000))), 2);
        assert_eq!(secs_until(Some(Timestamp(2_000_000))), 2);
        assert_eq!(secs_until(None), UNTIL_NEVER);
        assert_eq!(secs_from(Timestamp(-5)), 0);
    }

    #[test]
    fn nested_cidrs_make_intervals() {
        let mut post = Postings::default();
        // 10.0.0.0/8 (row 0) contains 10.1.0.0/16 (row 1)
        let (s, r) =
            intervals(vec![(0x0A00_0000u32, 0x0AFF_FFFF, 0), (0x0A01_0000, 0x0A01_FFFF, 1)], &mut post, |h: u32| {
                h.checked_add(1)
            });
        assert_eq!(s, vec![0, 0x0A00_0000, 0x0A01_0000, 0x0A02_0000, 0x0B00_0000]);
        assert_eq!(r[0], NO_POSTING);
        assert_eq!(r[1], 0);
        assert_eq!(r[3], 0);
        assert_eq!(r[4], NO_POSTING);
        let i = (r[2] & 0x7FFF_FFFF) as usize;
        assert_eq!(&post.data[i..i + 3], &[2, 0, 1]);
        // a range that ends at the top of the space
        let (s, r) =
            intervals(vec![(0x8000_0000u32, u32::MAX, 7)], &mut Postings::default(), |h: u32| h.checked_add(1));
        assert_eq!((s, r), (vec![0, 0x8000_0000], vec![NO_POSTING, 7]));
    }

    #[test]
    fn string_keys_in_many_shards() {
        use crate::observable::{IndicatorValue, Observable};
        let mut b = IndexBuilder { shard_keys: 5, ..IndexBuilder::default() };
        let comm = b.add_community(CommunityRecord { id: uuid::Uuid::from_u128(1), parent: None });
        let coll = b.add_collection(CollectionRecord {
            id: uuid::Uuid::from_u128(2),
            community: comm,
            available_for_sub_communities: false,
        });
        // runs of keys that share their first 8 bytes ("dexample"), which a cut must not split
        let mut values: Vec<(Kind, String)> = Vec::new();
        for i in 0..40 {
            values.push((Kind::Domain, format!("example-{i}.com")));
            values.push((Kind::Domain, format!("{}{i}.org", char::from(b'a' + (i % 26) as u8))));
            values.push((Kind::Url, format!("http://h{i}.example/p")));
            values.push((Kind::Email, format!("u{i}@mail.example")));
            values.push((Kind::Username, format!("user{i}")));
        }
        for (n, (kind, v)) in values.iter().enumerate() {
            b.add_indicator(IndicatorRecord {
                id: uuid::Uuid::from_u128(100 + n as u128),
                collection: coll,
                value: IndicatorValue::single(Observable { kind: *kind, value: v.clone() }),
                valid_from: Timestamp(0),
                valid_until: None,
                c2: false,
                subdomains: false,
            });
        }
        let idx = b.build().unwrap();
        assert!(idx.fst.len() > 10, "{} shards", idx.fst.len());
        let strings = Kind::Domain.bit() | Kind::Url.bit() | Kind::Email.bit() | Kind::Username.bit();
        assert_eq!(idx.present(), strings);
        let rows_of = |kind: Kind, v: &str| {
            let mut rows = Vec::new();
            match kind {
                Kind::Domain => idx.lookup_domain(v, &mut |r, _| rows.push(r)),
                _ => idx.lookup_string(kind, v, &mut |r| rows.push(r)),
            }
            rows
        };
        for (n, (kind, v)) in values.iter().enumerate() {
            assert_eq!(rows_of(*kind, v), vec![n as u32], "{kind:?} {v}");
        }
        for (kind, v) in [(Kind::Domain, "example-40.com"), (Kind::Domain, "0.org"), (Kind::Username, "user")] {
            assert!(rows_of(kind, v).is_empty(), "{v}");
        }
        assert!(rows_of(Kind::Username, "zzzz").is_empty() && rows_of(Kind::Url, "a").is_empty());
    }

    #[test]
    fn kinds_present_are_the_kinds_indexed() {
        use crate::observable::{IndicatorValue, Observable};
        let build = |values: &[(Kind, &str)]| {
            let mut b = IndexBuilder::default();
            let comm = b.add_community(CommunityRecord { id: uuid::Uuid::from_u128(1), parent: None });
            let coll = b.add_collection(CollectionRecord {
                id: uuid::Uuid::from_u128(2),
                community: comm,
                available_for_sub_communities: false,
            });
            for (n, (kind, v)) in values.iter().enumerate() {
                b.add_indicator(IndicatorRecord {
                    id: uuid::Uuid::from_u128(100 + n as u128),
                    collection: coll,
                    value: IndicatorValue::single(Observable { kind: *kind, value: v.to_string() }),
                    valid_from: Timestamp(0),
                    valid_until: None,
                    c2: false,
                    subdomains: false,
                });
            }
            b.build().unwrap().present()
        };
        assert_eq!(build(&[]), 0);
        let md5 = "d41d8cd98f00b204e9800998ecf8427e";
        assert_eq!(
            build(&[(Kind::Ipv4, "192.0.2.1"), (Kind::Md5, md5), (Kind::Ssdeep, "3:abc:def")]),
            Kind::Ipv4.bit() | Kind::Md5.bit() | Kind::Ssdeep.bit()
        );
        assert_eq!(
            build(&[(Kind::Ipv6, "2001:db8::1"), (Kind::Cidr, "10.0.0.0/8"), (Kind::Username, "root")]),
            Kind::Ipv6.bit() | Kind::Cidr.bit() | Kind::Username.bit()
        );
    }

    #[test]
    fn prefix_bits_grow_with_size() {
        assert_eq!(prefix_bits(0, 16), 0);
        assert_eq!(prefix_bits(3, 16), 0);
        assert_eq!(prefix_bits(1024, 16), 9);
        assert_eq!(prefix_bits(10_000_000, 16), 16);
    }
}
