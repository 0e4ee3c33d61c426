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
    let mut i = 0;
    while i < pairs.len() {
        let k = pairs[i].0;
        let j = i + pairs[i..].iter().take_while(|p| p.0 == k).count();
        let rows: Vec<u32> = pairs[i..j].iter().map(|p| p.1).collect();
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

        // keys
        let mut strings: Vec<(Vec<u8>, u32)> = Vec::new();
        let mut marks: Vec<u64> = Vec::new();
        let mut v4: Vec<(u32, u32)> = Vec::new();
        let mut v6: Vec<(u128, u32)> = Vec::new();
        let mut v4c: Vec<(u32, u32, u32)> = Vec::new();
        let mut v6c: Vec<(u128, u128, u32)> = Vec::new();
        let mut cidr_rows: Vec<u64> = Vec::new();
        let mut hashes: [Vec<(Vec<u8>, u32)>; 4] = Default::default();
        for (row, r) in rows.iter().enumerate() {
            let row = row as u32;
            for o in &r.value.observables {
                match o.kind {
                    Kind::Ipv4 | Kind::Ipv6 => match o.value.parse::<IpAddr>() {
                        Ok(IpAddr::V4(a)) => v4.push((u32::from(a), row)),
                        Ok(IpAddr::V6(a)) => v6.push((u128::from(a), row)),
                        Err(_) => {
                            return Err(Error::invalid(&o.value, format!("bad ip '{}' in an indicator", o.value)))
                        }
                    },
                    Kind::Cidr => match o.value.parse::<ipnet::IpNet>() {
                        Ok(ipnet::IpNet::V4(n)) => {
                            v4c.push((u32::from(n.network()), u32::from(n.broadcast()), row));
                            cidr_rows.extend([
                                (u64::from(row) << 8) | u64::from(n.prefix_len()),
                                0,
                                u64::from(u32::from(n.network())),
                            ]);
                        }
                        Ok(ipnet::IpNet::V6(n)) => {
                            let a = u128::from(n.network());
                            v6c.push((a, u128::from(n.broadcast()), row));
                            cidr_rows.extend([
                                (u64::from(row) << 8) | 0x80 | u64::from(n.prefix_len()),
                                (a >> 64) as u64,
                                a as u64,
                            ]);
                        }
                        Err(_) => {
                            return Err(Error::invalid(&o.value, format!("bad cidr '{}' in an indicator", o.value)))
                        }
                    },
                    Kind::Md5 | Kind::Sha1 | Kind::Sha256 | Kind::Sha512 => {
                        let algo = HASH_ALGOS.iter().position(|(k, _)| *k == o.kind).expect("hash kind");
                        let bytes = super::keys::decode_hex(o.value.as_bytes()).ok_or_else(|| {
                            Error::invalid(&o.value, format!("bad hash '{}' in an indicator", o.value))
                        })?;
                        hashes[algo].push((bytes, row));
                    }
                    k => {
                        let t = tag(k);
                        let mut key = Vec::with_capacity(o.value.len() + 1);
                        key.push(t);
                        key.extend_from_slice(o.value.as_bytes());
                        if k == Kind::Domain && r.subdomains {
                            let mut m = Vec::with_capacity(key.len());
                            m.push(SUBDOMAIN_MARK);
                            m.extend_from_slice(o.value.as_bytes());
                            marks.push(filter::hash_bytes(super::FILTER_SEED, &m));
                        }
                        strings.push((key, row));
                    }
                }
            }
        }

        let mut post = Postings::default();
        // strings: fst + filter
        strings.par_sort_unstable();
        strings.dedup();
        let mut fst_builder = fst::MapBuilder::memory();
        let mut filter_keys: Vec<u64> = marks;
        let mut i = 0;
        while i < strings.len() {
            let j = i + strings[i..].iter().take_while(|p| p.0 == strings[i].0).count();
            let rows_of: Vec<u32> = strings[i..j].iter().map(|p| p.1).collect();
            let r = post.add(&rows_of);
            fst_builder
                .insert(&strings[i].0, u64::from(r))
                .map_err(|e| Error::new(ErrorKind::Validation, format!("cannot build the string index: {e}")))?;
            filter_keys.push(filter::hash_bytes(super::FILTER_SEED, &strings[i].0));
            i = j;
        }
        drop(strings);
        let fst_bytes = fst_builder
            .into_inner()
            .map_err(|e| Error::new(ErrorKind::Validation, format!("cannot build the string index: {e}")))?;
        let filter_bytes = filter::build_fuse8(&filter_keys)
            .map_err(|e| Error::new(ErrorKind::Validation, format!("cannot build the prefilter: {e}")))?;
        w.bytes(id::STR_FST, fst_bytes);
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
        for (algo, pairs) in hashes.into_iter().enumerate() {
            let (keys, refs) = group_bytes(pairs, &mut post);
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

/// Group hash keys: the keys concatenated in sorted order, and one posting each.
fn group_bytes(mut pairs: Vec<(Vec<u8>, u32)>, post: &mut Postings) -> (Vec<u8>, Vec<u32>) {
    pairs.par_sort_unstable();
    pairs.dedup();
    let mut keys = Vec::new();
    let mut refs = Vec::new();
    let mut i = 0;
    while i < pairs.len() {
        let j = i + pairs[i..].iter().take_while(|p| p.0 == pairs[i].0).count();
        let rows: Vec<u32> = pairs[i..j].iter().map(|p| p.1).collect();
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
    fn prefix_bits_grow_with_size() {
        assert_eq!(prefix_bits(0, 16), 0);
        assert_eq!(prefix_bits(3, 16), 0);
        assert_eq!(prefix_bits(1024, 16), 9);
        assert_eq!(prefix_bits(10_000_000, 16), 16);
    }
}
