//! [`FieldPaths`]: the wanted dotted paths, compiled into a trie over key segments.

use std::collections::HashMap;

/// "No node" / "no field".
pub(crate) const NONE: u32 = u32::MAX;
/// The root of the trie: the top-level object.
pub(crate) const ROOT: u32 = 0;

/// The node has children: an object here is worth looking into.
pub(crate) const HAS_CHILDREN: u8 = 1;
/// The node is the top-level `@timestamp`.
pub(crate) const TIMESTAMP: u8 = 2;
/// A string here is wanted (a field, or the timestamp).
pub(crate) const WANTS_STRING: u8 = 4;

const TS_KEY: &[u8] = b"@timestamp";

#[derive(Debug, Clone, Copy)]
pub(crate) struct Node {
    /// The field id whose path ends here, or [`NONE`].
    pub(crate) field: u32,
    /// [`HAS_CHILDREN`] | [`TIMESTAMP`] | [`WANTS_STRING`].
    pub(crate) flags: u8,
}

/// Key segments are compared as this many little-endian words (zero-padded): segments of up to
/// `8 * WORDS` bytes in one go, longer ones (rare) also compare their tail.
const WORDS: usize = 2;

/// One slot of the open-addressing table of child links, keyed by (parent node, key segment):
/// the segment's first `8 * WORDS` bytes as words, its length, and for longer segments the rest,
/// kept in `tails` from `tail`. `node == NONE` marks an empty slot.
#[derive(Debug, Clone, Copy)]
struct Slot {
    words: [u64; WORDS],
    node: u32,
    len: u32,
    child: u32,
    tail: u32,
}

const EMPTY: Slot = Slot { words: [0; WORDS], node: NONE, len: 0, child: NONE, tail: 0 };

/// A compiled set of dotted ECS field paths to extract; the id of a field is its position in the
/// list given to [`FieldPaths::new`].
///
/// Built once, then shared (it is `Send + Sync`) by every thread calling
/// [`scan_event`](super::scan_event).
#[derive(Debug, Clone)]
pub struct FieldPaths {
    names: Vec<Box<str>>,
    ids: HashMap<Box<str>, u32>,
    nodes: Vec<Node>,
    slots: Vec<Slot>,
    /// `64 - log2(slots.len())`: the hash is the top bits of a product.
    shift: u32,
    /// Per node, a 256-bit filter of its children's (first byte, length) (see [`filter_bit`]): a
    /// key whose bit is clear cannot match, without a probe of the table.
    filters: Vec<[u64; 4]>,
    tails: Vec<u8>,
}

/// A node under construction.
#[derive(Default)]
struct Building {
    field: Option<u32>,
    timestamp: bool,
    children: Vec<(Vec<u8>, usize)>,
}

impl FieldPaths {
    /// Compile `paths` (dotted names such as `"source.ip"`, `"dns.question.name"`,
    /// `"email.to.address"`). Segments are split on `.` and matched exactly. The top-level
    /// `@timestamp` is always examined and need not be listed. When a path is listed twice, the
    /// first id gets the values.
    ///
    /// # Panics
    /// When there are more than `u32::MAX - 1` paths.
    pub fn new<S: AsRef<str>>(paths: &[S]) -> FieldPaths {
        assert!(paths.len() < NONE as usize, "too many field paths");
        let mut tree: Vec<Building> = vec![Building::default()];
        let mut names = Vec::with_capacity(paths.len());
        let mut ids = HashMap::with_capacity(paths.len());
        let insert = |tree: &mut Vec<Building>, segments: &mut dyn Iterator<Item = &[u8]>| -> usize {
            let mut at = 0;
            for seg in segments {
                at = match tree[at].children.iter().find(|(s, _)| s == seg) {
                    Some(&(_, child)) => child,
                    None => {
                        tree.push(Building::default());
                        let child = tree.len() - 1;
                        tree[at].children.push((seg.to_vec(), child));
                        child
                    }
                };
            }
            at
        };
        let ts = insert(&mut tree, &mut std::iter::once(TS_KEY));
        tree[ts].timestamp = true;
        for (id, path) in paths.iter().enumerate() {
            let path = path.as_ref();
            let id = id as u32;
            names.push(Box::from(path));
            ids.entry(Box::from(path)).or_insert(id);
            let node = insert(&mut tree, &mut path.as_bytes().split(|&b| b == b'.'));
            tree[node].field.get_or_insert(id);
        }

        let edge_count = tree.len() - 1;
        let size = (edge_count * 2).next_power_of_two().max(16);
        let shift = 64 - size.trailing_zeros();
        let mut slots = vec![EMPTY; size];
        let mut tails = Vec::new();
        let mut nodes = Vec::with_capacity(tree.len());
        let mut filters = vec![[0u64; 4]; tree.len()];
        for (n, b) in tree.iter().enumerate() {
            for (seg, child) in &b.children {
                let bit = filter_bit(seg.first().copied().unwrap_or(0), seg.len());
                filters[n][bit / 64] |= 1 << (bit % 64);
                let words = segment_words(seg);
                let mut i = slot_index(n as u32, words[0], seg.len(), shift);
                while slots[i].node != NONE {
                    i = (i + 1) & (size - 1);
                }
                slots[i] = Slot {
                    words,
                    node: n as u32,
                    len: seg.len() as u32,
                    child: *child as u32,
                    tail: tails.len() as u32,
                };
                tails.extend_from_slice(seg.get(8 * WORDS..).unwrap_or_default());
            }
            let mut flags = 0;
            if !b.children.is_empty() {
                flags |= HAS_CHILDREN;
            }
            if b.timestamp {
                flags |= TIMESTAMP | WANTS_STRING;
            }
            if b.field.is_some() {
                flags |= WANTS_STRING;
            }
            nodes.push(Node { field: b.field.unwrap_or(NONE), flags });
        }
        FieldPaths { names, ids, nodes, slots, shift, filters, tails }
    }

    /// The number of paths (the ids are `0..len()`).
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when no path was given (only `@timestamp` is then examined).
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The dotted name of field `id`.
    ///
    /// # Panics
    /// When `id` is not below [`len`](Self::len).
    pub fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }

    /// The id of the path `name` (the first one when it was listed twice).
    pub fn id(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    /// The node `n` (an id from this trie).
    #[inline(always)]
    pub(crate) fn node(&self, n: u32) -> Node {
        self.nodes[n as usize]
    }

    /// The child of `node` reached by the object key `buf[start..end]` (a key without escapes,
    /// which may hold several dot-separated segments); [`NONE`] when no wanted path goes through
    /// it. `buf` is the whole event: the key's words are loaded from it directly when there are
    /// 16 bytes left from `start`.
    #[inline(always)]
    pub(crate) fn lookup_in(&self, node: u32, buf: &[u8], start: usize, end: usize) -> u32 {
        let len = end - start;
        let chunk = buf.get(start..).and_then(<[u8]>::first_chunk::<16>);
        let (Some(chunk), true) = (chunk, len <= 16) else {
            return self.lookup(node, &buf[start..end]);
        };
        let (lo, hi) = chunk.split_at(8);
        let lo = u64::from_le_bytes(lo.try_into().unwrap_or_default());
        let hi = u64::from_le_bytes(hi.try_into().unwrap_or_default());
        let words = if len <= 8 { [lo & low_bytes(len), 0] } else { [lo, hi & low_bytes(len - 8)] };
        // A '.' among the key's bytes? (Exact: the bytes masked out are 0.)
        let (x, y) = (words[0] ^ (ONES * b'.' as u64), words[1] ^ (ONES * b'.' as u64));
        if ((x.wrapping_sub(ONES) & !x) | (y.wrapping_sub(ONES) & !y)) & HIGHS != 0 {
            return self.lookup(node, &buf[start..end]);
        }
        let bit = filter_bit(words[0] as u8, len);
        if let Some(f) = self.filters.get(node as usize) {
            if f[bit / 64] & (1 << (bit % 64)) == 0 {
                return NONE;
            }
        }
        self.find(node, &words, &buf[start..end])
    }

    /// The child of `node` reached by the object key `key` (unescaped), which may hold several
    /// dot-separated segments; [`NONE`] when no wanted path goes through it.
    pub(crate) fn lookup(&self, node: u32, key: &[u8]) -> u32 {
        let mut node = node;
        for seg in key.split(|&b| b == b'.') {
            if node == NONE {
                return NONE;
            }
            node = self.find(node, &segment_words(seg), seg);
        }
        node
    }

    /// The child of `node` by the single segment `seg` (whose words are `words`), or [`NONE`].
    #[inline(always)]
    fn find(&self, node: u32, words: &[u64; WORDS], seg: &[u8]) -> u32 {
        let len = seg.len();
        let mask = self.slots.len() - 1;
        let mut i = slot_index(node, words[0], len, self.shift);
        loop {
            let s = &self.slots[i];
            let differ = s.words.iter().zip(words).fold(0, |d, (a, b)| d | (a ^ b));
            if differ == 0 && s.node == node && s.len as usize == len {
                if len <= 8 * WORDS {
                    return s.child;
                }
                let t = s.tail as usize;
                if self.tails.get(t..t + (len - 8 * WORDS)) == seg.get(8 * WORDS..) {
                    return s.child;
                }
            }
            if s.node == NONE {
                return NONE;
            }
            i = (i + 1) & mask;
        }
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The home slot of (node, segment) in a table of `1 << (64 - shift)` slots (Fibonacci hashing).
#[inline(always)]
fn slot_index(node: u32, head: u64, len: usize, shift: u32) -> usize {
    let x = head ^ ((node as u64) << 40 | (len as u64) << 32).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (x.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> shift) as usize
}

/// The bit of a segment with first byte `first` (0 when empty) and length `len` in a filter.
#[inline(always)]
fn filter_bit(first: u8, len: usize) -> usize {
    (first as usize).wrapping_mul(31).wrapping_add(len.wrapping_mul(7)) & 255
}

/// A mask of the low `n` bytes of a word (`n <= 8`).
#[inline(always)]
fn low_bytes(n: usize) -> u64 {
    ((1u128 << (8 * n)) - 1) as u64
}

/// The first `8 * WORDS` bytes of `seg`, zero-padded, as little-endian words.
fn segment_words(seg: &[u8]) -> [u64; WORDS] {
    let mut bytes = [0u8; 8 * WORDS];
    let n = seg.len().min(8 * WORDS);
    bytes[..n].copy_from_slice(&seg[..n]);
    let mut words = [0u64; WORDS];
    for (k, w) in words.iter_mut().enumerate() {
        let mut b = [0u8; 8];
        b.copy_from_slice(&bytes[8 * k..8 * k + 8]);
        *w = u64::from_le_bytes(b);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_a_trie_over_segments() {
        let p = FieldPaths::new(&["source.ip", "source.nat.ip", "email.from", "email.from.address", "source.ip"]);
        assert_eq!((p.len(), p.is_empty()), (5, false));
        assert_eq!(p.id("source.ip"), Some(0));
        assert_eq!(p.id("email.from.address"), Some(3));
        assert_eq!(p.id("source"), None);
        assert_eq!(p.name(1), "source.nat.ip");
        let source = p.lookup(ROOT, b"source");
        let buf = b"source.ip\"ip\"nat.ip\"nat\"......";
        assert_eq!(p.lookup_in(ROOT, buf, 0, 6), source);
        assert_eq!(p.node(p.lookup_in(ROOT, buf, 0, 9)).field, 0);
        assert_eq!(p.node(p.lookup_in(source, buf, 10, 12)).field, 0);
        assert_eq!(p.node(p.lookup_in(source, buf, 13, 19)).field, 1);
        assert_eq!(p.lookup_in(source, buf, 20, 23), p.lookup(source, b"nat"));
        assert_ne!(p.lookup_in(source, buf, 20, 23), NONE);
        assert_eq!(p.lookup_in(source, buf, 20, 22), NONE);
        assert_eq!(p.lookup_in(source, buf, 24, 24), NONE);
        assert_ne!(source, NONE);
        assert_eq!(p.node(source).field, NONE);
        assert_eq!(p.node(p.lookup(source, b"ip")).field, 0);
        assert_eq!(p.node(p.lookup(ROOT, b"source.ip")).field, 0);
        assert_eq!(p.node(p.lookup(source, b"nat.ip")).field, 1);
        assert_eq!(p.lookup(source, b"nat.ipx"), NONE);
        assert_eq!(p.lookup(source, b"nat."), NONE);
        assert_eq!(p.lookup(ROOT, b"Source"), NONE);
        let from = p.lookup(ROOT, b"email.from");
        assert_eq!(p.node(from).field, 2);
        assert_eq!(p.node(from).flags, HAS_CHILDREN | WANTS_STRING);
        let ts = p.lookup(ROOT, b"@timestamp");
        assert_eq!(p.node(ts).flags, TIMESTAMP | WANTS_STRING);
        assert_eq!(p.node(ts).field, NONE);
    }

    #[test]
    fn empty_and_odd_segments() {
        let p = FieldPaths::new(&["", "a..b", "x", "a"]);
        let buf = b"\"\":1,\"a..b\":2,\"x\":3................";
        assert_eq!(p.node(p.lookup_in(ROOT, buf, 1, 1)).field, 0);
        assert_eq!(p.node(p.lookup_in(ROOT, buf, 6, 10)).field, 1);
        assert_eq!(p.node(p.lookup_in(ROOT, buf, 15, 16)).field, 2);
        assert_eq!(p.node(p.lookup(ROOT, b"a..b")).field, 1);
        assert_eq!(p.lookup(ROOT, b"a.b"), NONE);
        assert_eq!(p.node(p.lookup(ROOT, b"a")).field, 3);
        // Near the end of the input (fewer than 16 bytes left): the slow path.
        assert_eq!(p.node(p.lookup_in(ROOT, b"\"x\"", 1, 2)).field, 2);
        assert_eq!(p.node(p.lookup_in(ROOT, b"\"\"", 1, 1)).field, 0);
    }

    #[test]
    fn long_segments_compare_their_tail() {
        let p = FieldPaths::new(&[
            "destination.registered_domain",
            "destination.registered_domains",
            "x.abcdefghijklmnopqrstuvwxyz",
            "x.abcdefghijklmnopqrstuvwxy",
            "x.abcdefghijklmnopqrstuvwx",
        ]);
        let d = p.lookup(ROOT, b"destination");
        assert_eq!(p.node(p.lookup(d, b"registered_domain")).field, 0);
        assert_eq!(p.node(p.lookup(d, b"registered_domains")).field, 1);
        assert_eq!(p.lookup(d, b"registered_domaix"), NONE);
        assert_eq!(p.lookup(ROOT, b"destinatioN"), NONE);
        let x = p.lookup(ROOT, b"x");
        for (key, want) in [
            (&b"abcdefghijklmnopqrstuvwxyz"[..], 2),
            (b"abcdefghijklmnopqrstuvwxy", 3),
            (b"abcdefghijklmnopqrstuvwx", 4),
        ] {
            assert_eq!(p.node(p.lookup(x, key)).field, want);
            let mut buf = key.to_vec();
            buf.extend_from_slice(b"\":\"..........................");
            assert_eq!(p.node(p.lookup_in(x, &buf, 0, key.len())).field, want);
        }
        assert_eq!(p.lookup(x, b"abcdefghijklmnopqrstuvwxyZ"), NONE);
        assert_eq!(p.lookup(x, b"abcdefghijklmnopqrstuvw"), NONE);
    }

    #[test]
    fn is_send_sync_clone() {
        fn check<T: Send + Sync + Clone>() {}
        check::<FieldPaths>();
    }
}
