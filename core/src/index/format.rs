//! The index file: a header, a section table, and 64-byte aligned sections of little-endian
//! arrays, protected by a checksum. Everything is validated on load; a corrupt, truncated or
//! foreign file is an error, never a panic.
//!
//! ```text
//! 0   magic "IOCMIDX\0"        8 bytes
//! 8   endianness mark          u32 0x01020304 as written by a little-endian machine
//! 12  format version           u32
//! 16  section count            u32
//! 20  reserved                 u32
//! 24  checksum                 u64 xxh3-64 of the whole file with these 8 bytes zeroed
//! 32  file length              u64
//! 40  created                  i64 microseconds since the epoch
//! 48  store change sequence    i64 (what the snapshot includes)
//! 56  reserved                 u64
//! 64  section table            count x (id u32, reserved u32, offset u64, length u64)
//! ..  sections, each at a multiple of 64
//! ```

use crate::error::{Error, ErrorKind, Result};

/// First bytes of every index file.
pub const MAGIC: &[u8; 8] = b"IOCMIDX\0";
/// The format version this build reads and writes.
pub const VERSION: u32 = 2;
const ENDIAN_MARK: u32 = 0x0102_0304;
const HEADER_LEN: usize = 64;
const ENTRY_LEN: usize = 24;
const ALIGN: usize = 64;

/// Section ids.
#[allow(missing_docs)]
pub mod id {
    pub const META: u32 = 1;
    pub const ROW_CF: u32 = 2;
    pub const ROW_WIN: u32 = 3;
    pub const UUID_RUNS: u32 = 4;
    pub const COLLECTIONS: u32 = 5;
    pub const COMMUNITIES: u32 = 6;
    pub const POSTINGS: u32 = 7;
    pub const STR_FST: u32 = 8;
    pub const STR_FILTER: u32 = 9;
    pub const V4_KEYS: u32 = 10;
    pub const V4_POST: u32 = 11;
    pub const V4_PREFIX: u32 = 12;
    pub const V4C_START: u32 = 13;
    pub const V4C_POST: u32 = 14;
    pub const V6_KEYS: u32 = 15;
    pub const V6_POST: u32 = 16;
    pub const V6C_START: u32 = 17;
    pub const V6C_POST: u32 = 18;
    pub const CIDR_ROWS: u32 = 19;
    /// Hash sections: `HASH + 3 * algo + {0: keys, 1: postings, 2: prefix table}`.
    pub const HASH: u32 = 20;
    /// The string `fst` shards: `[first key's shard head, start, end]` in `STR_FST`, per shard.
    pub const STR_SHARDS: u32 = 32;
}

/// Writes sections into one file image.
#[derive(Default)]
pub(crate) struct Writer {
    sections: Vec<(u32, Vec<u8>)>,
}

impl Writer {
    pub fn bytes(&mut self, id: u32, data: Vec<u8>) {
        self.sections.push((id, data));
    }

    pub fn u32s(&mut self, id: u32, data: &[u32]) {
        self.bytes(id, bytemuck::cast_slice(data).to_vec());
    }

    pub fn u64s(&mut self, id: u32, data: &[u64]) {
        self.bytes(id, bytemuck::cast_slice(data).to_vec());
    }

    /// The file image, checksummed, in an 8-byte aligned buffer.
    pub fn finish(self, created: i64, seq: i64) -> AlignedBuf {
        let table_end = HEADER_LEN + self.sections.len() * ENTRY_LEN;
        let mut offset = table_end.next_multiple_of(ALIGN);
        let mut entries = Vec::with_capacity(self.sections.len());
        for (id, data) in &self.sections {
            entries.push((*id, offset as u64, data.len() as u64));
            offset = (offset + data.len()).next_multiple_of(ALIGN);
        }
        let len = offset;
        let mut buf = AlignedBuf::zeroed(len);
        let b = buf.as_mut_bytes();
        b[..8].copy_from_slice(MAGIC);
        b[8..12].copy_from_slice(&ENDIAN_MARK.to_le_bytes());
        b[12..16].copy_from_slice(&VERSION.to_le_bytes());
        b[16..20].copy_from_slice(&(self.sections.len() as u32).to_le_bytes());
        b[32..40].copy_from_slice(&(len as u64).to_le_bytes());
        b[40..48].copy_from_slice(&created.to_le_bytes());
        b[48..56].copy_from_slice(&seq.to_le_bytes());
        for (i, (id, off, slen)) in entries.iter().enumerate() {
            let e = HEADER_LEN + i * ENTRY_LEN;
            b[e..e + 4].copy_from_slice(&id.to_le_bytes());
            b[e + 8..e + 16].copy_from_slice(&off.to_le_bytes());
            b[e + 16..e + 24].copy_from_slice(&slen.to_le_bytes());
        }
        for ((_, data), (_, off, _)) in self.sections.iter().zip(&entries) {
            b[*off as usize..*off as usize + data.len()].copy_from_slice(data);
        }
        let sum = checksum(b);
        b[24..32].copy_from_slice(&sum.to_le_bytes());
        buf
    }
}

/// xxh3-64 of the file with the checksum field taken as zero.
fn checksum(b: &[u8]) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(&b[..24]);
    h.update(&[0u8; 8]);
    h.update(&b[32..]);
    h.digest()
}

/// Bytes in a buffer aligned for u64 access.
pub(crate) struct AlignedBuf {
    words: Vec<u64>,
    len: usize,
}

impl AlignedBuf {
    pub fn zeroed(len: usize) -> AlignedBuf {
        AlignedBuf { words: vec![0u64; len.div_ceil(8)], len }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &bytemuck::cast_slice(&self.words)[..self.len]
    }

    pub fn as_mut_bytes(&mut self) -> &mut [u8] {
        &mut bytemuck::cast_slice_mut(&mut self.words)[..self.len]
    }
}

/// Where each section lies, after validation.
#[derive(Debug, Clone, Default)]
pub(crate) struct Layout {
    pub sections: Vec<(u32, std::ops::Range<usize>)>,
    pub created: i64,
    pub seq: i64,
}

fn corrupt(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::Corrupt, msg)
}

impl Layout {
    /// Validate the header, the section table and the checksum of a file image.
    pub fn parse(b: &[u8], verify_checksum: bool) -> Result<Layout> {
        if b.len() < HEADER_LEN || &b[..8] != MAGIC {
            return Err(corrupt("not an iocmatch index file (bad magic)"));
        }
        let u32_at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().expect("4 bytes"));
        let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().expect("8 bytes"));
        if u32_at(8) != ENDIAN_MARK {
            return Err(corrupt("index file was written with another byte order"));
        }
        let version = u32_at(12);
        if version != VERSION {
            return Err(corrupt(format!(
                "index file format version {version} is not supported (this build reads {VERSION}): compile it again"
            )));
        }
        let len = u64_at(32);
        if len != b.len() as u64 {
            return Err(corrupt(format!(
                "index file is truncated or extended: header says {len} bytes, file has {}",
                b.len()
            )));
        }
        if verify_checksum && checksum(b) != u64_at(24) {
            return Err(corrupt("index file checksum mismatch: the file is corrupt"));
        }
        let count = u32_at(16) as usize;
        let table_end = count.checked_mul(ENTRY_LEN).and_then(|t| t.checked_add(HEADER_LEN));
        if table_end.is_none_or(|t| t > b.len()) {
            return Err(corrupt("index section table is out of bounds"));
        }
        let mut sections = Vec::with_capacity(count);
        for i in 0..count {
            let e = HEADER_LEN + i * ENTRY_LEN;
            let (id, off, slen) = (u32_at(e), u64_at(e + 8), u64_at(e + 16));
            let end = off.checked_add(slen);
            if off % ALIGN as u64 != 0 || end.is_none_or(|end| end > b.len() as u64) {
                return Err(corrupt(format!("index section {id} is out of bounds or misaligned")));
            }
            if sections.iter().any(|(s, _)| *s == id) {
                return Err(corrupt(format!("index section {id} appears twice")));
            }
            sections.push((id, off as usize..(off + slen) as usize));
        }
        Ok(Layout { sections, created: u64_at(40) as i64, seq: u64_at(48) as i64 })
    }

    /// The byte range of a section; an absent section is empty.
    #[cfg(test)]
    pub fn range(&self, id: u32) -> std::ops::Range<usize> {
        self.sections.iter().find(|(s, _)| *s == id).map(|(_, r)| r.clone()).unwrap_or(0..0)
    }
}

/// A section as u32s.
pub(crate) fn as_u32s(b: &[u8], id: u32) -> Result<&[u32]> {
    bytemuck::try_cast_slice(b).map_err(|_| corrupt(format!("index section {id} has a bad size")))
}

/// A section as u64s.
pub(crate) fn as_u64s(b: &[u8], id: u32) -> Result<&[u64]> {
    bytemuck::try_cast_slice(b).map_err(|_| corrupt(format!("index section {id} has a bad size")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> AlignedBuf {
        let mut w = Writer::default();
        w.u32s(id::ROW_CF, &[1, 2, 3]);
        w.bytes(id::STR_FST, b"hello".to_vec());
        w.finish(42, 7)
    }

    #[test]
    fn round_trip() {
        let buf = sample();
        let l = Layout::parse(buf.as_bytes(), true).unwrap();
        assert_eq!((l.created, l.seq), (42, 7));
        let r = l.range(id::ROW_CF);
        assert_eq!(as_u32s(&buf.as_bytes()[r], id::ROW_CF).unwrap(), &[1, 2, 3]);
        assert_eq!(&buf.as_bytes()[l.range(id::STR_FST)], b"hello");
        assert!(l.range(id::V4_KEYS).is_empty());
    }

    #[test]
    fn every_single_bit_flip_is_detected() {
        let buf = sample();
        let good = buf.as_bytes().to_vec();
        for i in 0..good.len() {
            for bit in 0..8 {
                let mut b = good.clone();
                b[i] ^= 1 << bit;
                assert!(Layout::parse(&b, true).is_err(), "flip of bit {bit} of byte {i} went unnoticed");
            }
        }
    }

    #[test]
    fn truncation_and_foreign_files() {
        let good = sample().as_bytes().to_vec();
        for n in [0, 7, 8, 63, 64, good.len() - 1] {
            assert_eq!(Layout::parse(&good[..n], true).unwrap_err().kind(), ErrorKind::Corrupt, "{n}");
        }
        let e = Layout::parse(b"SQLite format 3\0 and then some more bytes to pass the length check of 64", true)
            .unwrap_err();
        assert!(e.to_string().contains("magic"), "{e}");
        let mut v = good.clone();
        v[12] = 9;
        assert!(Layout::parse(&v, false).unwrap_err().to_string().contains("version 9"));
    }
}
