//! Archives of events: NDJSON files, directories of them, gzip-compressed or not; read in
//! parallel over files and over the lines of each file.

use crate::error::{Error, ErrorKind, Result};
use crate::matcher::{EventMatches, NdjsonItem, NdjsonSummary};
use crate::time::Timestamp;
use rayon::prelude::*;
use serde::Serialize;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Directories deeper than this are not walked (a guard against symlink loops).
const MAX_DEPTH: usize = 32;
/// Progress is reported at most once per this many bytes read.
const PROGRESS_STEP: u64 = 1 << 20;

/// One file of an archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceFile {
    /// Its path, as found.
    pub path: PathBuf,
    /// Its size on disk (compressed size for gzip).
    pub size: u64,
    /// When it was last modified, if the system says.
    pub modified: Option<Timestamp>,
    /// Whether it is gzip-compressed (by its first bytes, whatever its name).
    pub gzip: bool,
}

/// A file that could not be read to its end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub message: String,
}

/// Totals of a pass over an archive.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SourceSummary {
    /// Files read (wholly or partly).
    pub files: u64,
    /// Lines, events, matches and bytes (uncompressed) over every file.
    pub totals: NdjsonSummary,
    /// Compressed bytes read from disk.
    pub disk_bytes: u64,
    /// Files that could not be read to their end; the others were read all the same.
    pub errors: Vec<SourceError>,
}

/// Where progress goes: `(bytes read from disk, total bytes on disk)`.
pub type ProgressFn<'a> = &'a (dyn Fn(u64, u64) + Sync);

/// An archive of events: the files of the paths given, directories walked recursively
/// (hidden entries skipped) in name order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventSource {
    files: Vec<SourceFile>,
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Io, format!("cannot read '{}': {e}", path.display()))
}

fn describe(path: &Path) -> Result<SourceFile> {
    let meta = std::fs::metadata(path).map_err(|e| io_err(path, e))?;
    let mut magic = [0u8; 2];
    let mut f = File::open(path).map_err(|e| io_err(path, e))?;
    let n = read_up_to(&mut f, &mut magic).map_err(|e| io_err(path, e))?;
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| Timestamp(i64::try_from(d.as_micros()).unwrap_or(i64::MAX)));
    Ok(SourceFile { path: path.to_path_buf(), size: meta.len(), modified, gzip: n == 2 && magic == [0x1f, 0x8b] })
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<SourceFile>) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(io_err(dir, format!("directories nested deeper than {MAX_DEPTH} levels")));
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| io_err(dir, e))?
        .filter_map(|e| e.ok())
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, depth + 1, out)?;
        } else if p.is_file() {
            out.push(describe(&p)?);
        }
    }
    Ok(())
}

/// Counts the bytes read from disk and reports progress.
struct Counting<'a, R> {
    inner: R,
    read: &'a AtomicU64,
    unreported: u64,
    total: u64,
    progress: Option<ProgressFn<'a>>,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.unreported += n as u64;
        if self.unreported >= PROGRESS_STEP || n == 0 {
            let done = self.read.fetch_add(self.unreported, Ordering::Relaxed) + self.unreported;
            self.unreported = 0;
            if let Some(p) = self.progress {
                p(done, self.total);
            }
        }
        Ok(n)
    }
}

impl<R> Drop for Counting<'_, R> {
    fn drop(&mut self) {
        self.read.fetch_add(self.unreported, Ordering::Relaxed);
    }
}

impl EventSource {
    /// The files of `paths`: files as they are, directories walked.
    ///
    /// # Errors
    /// An I/O error naming a path that does not exist or cannot be read.
    pub fn from_paths<P: AsRef<Path>>(paths: &[P]) -> Result<EventSource> {
        let mut files = Vec::new();
        for p in paths {
            let p = p.as_ref();
            if p.is_dir() {
                walk(p, 0, &mut files)?;
            } else {
                files.push(describe(p)?);
            }
        }
        Ok(EventSource { files })
    }

    /// Its files, in order.
    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }

    /// Keep only the files `keep` accepts.
    pub fn retain(&mut self, keep: impl FnMut(&SourceFile) -> bool) {
        self.files.retain(keep);
    }

    /// Bytes on disk over every file.
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    /// The decompressed bytes of one file.
    ///
    /// # Errors
    /// An I/O error naming the file.
    pub fn open(file: &SourceFile) -> Result<Box<dyn Read + Send>> {
        let f = File::open(&file.path).map_err(|e| io_err(&file.path, e))?;
        Ok(Self::decode(file, f))
    }

    fn decode<'a, R: Read + Send + 'a>(file: &SourceFile, raw: R) -> Box<dyn Read + Send + 'a> {
        if file.gzip {
            Box::new(flate2::read::MultiGzDecoder::new(BufReader::with_capacity(1 << 16, raw)))
        } else {
            Box::new(raw)
        }
    }

    /// Run `per_line` on every non-blank line of every file — files in parallel, the lines of a
    /// file in parallel blocks — and hand each result to `sink` with its file: in line order
    /// within a file, files interleaved. A file that cannot be read to its end is recorded in
    /// the summary and the others are read all the same.
    ///
    /// # Errors
    /// Whatever `sink` returns (which stops the pass).
    pub fn for_each_line(
        &self,
        per_line: &(dyn Fn(&[u8]) -> Result<EventMatches> + Sync),
        sink: &(dyn Fn(&SourceFile, NdjsonItem<'_>) -> Result<()> + Sync),
        progress: Option<ProgressFn<'_>>,
    ) -> Result<SourceSummary> {
        let read = AtomicU64::new(0);
        let total = self.total_bytes();
        let summary = Mutex::new(SourceSummary::default());
        let stop: Mutex<Option<Error>> = Mutex::new(None);
        self.files.par_iter().for_each(|file| {
            if stop.lock().unwrap_or_else(|p| p.into_inner()).is_some() {
                return;
            }
            let input = match File::open(&file.path) {
                Ok(r) => r,
                Err(e) => {
                    let mut s = summary.lock().unwrap_or_else(|p| p.into_inner());
                    s.errors.push(SourceError {
                        path: file.path.clone(),
                        message: io_err(&file.path, e).message().to_string(),
                    });
                    return;
                }
            };
            let counted = Self::decode(file, Counting { inner: input, read: &read, unreported: 0, total, progress });
            let sink_failed = Mutex::new(false);
            let r = crate::matcher::stream_lines(counted, per_line, &mut |item| {
                sink(file, item).inspect_err(|_| *sink_failed.lock().unwrap_or_else(|p| p.into_inner()) = true)
            });
            let mut s = summary.lock().unwrap_or_else(|p| p.into_inner());
            s.files += 1;
            match r {
                Ok(sum) => add(&mut s.totals, &sum),
                Err(e) if *sink_failed.lock().unwrap_or_else(|p| p.into_inner()) => {
                    *stop.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                }
                Err(e) => s.errors.push(SourceError {
                    path: file.path.clone(),
                    message: format!("cannot read '{}': {}", file.path.display(), e.message()),
                }),
            }
        });
        if let Some(e) = stop.into_inner().unwrap_or_else(|p| p.into_inner()) {
            return Err(e);
        }
        let mut s = summary.into_inner().unwrap_or_else(|p| p.into_inner());
        s.disk_bytes = read.load(Ordering::Relaxed);
        s.errors.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(s)
    }
}

fn add(a: &mut NdjsonSummary, b: &NdjsonSummary) {
    a.events += b.events;
    a.matched_events += b.matched_events;
    a.matches += b.matches;
    a.bad_lines += b.bad_lines;
    a.bytes += b.bytes;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::TimeSource;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn echo(l: &[u8]) -> Result<EventMatches> {
        if l.starts_with(b"bad") {
            return Err(Error::invalid("bad", "a bad line"));
        }
        Ok(EventMatches { matches: Vec::new(), time: Timestamp(l.len() as i64), time_source: TimeSource::Caller })
    }

    #[test]
    fn walks_directories_reads_gzip_and_reports_every_line() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("sub/deeper")).unwrap();
        std::fs::write(d.join("a.ndjson"), b"x\nyy\n\nbad\n").unwrap();
        std::fs::write(d.join("sub/b.json.gz"), gz(b"zzz\nwwww")).unwrap();
        // compressed whatever its name; a hidden file is skipped
        std::fs::write(d.join("sub/deeper/c.log"), gz(b"vvvvv\n")).unwrap();
        std::fs::write(d.join(".hidden"), b"nope\n").unwrap();
        let src = EventSource::from_paths(&[d]).unwrap();
        let names: Vec<String> =
            src.files().iter().map(|f| f.path.strip_prefix(d).unwrap().display().to_string()).collect();
        assert_eq!(names, ["a.ndjson", "sub/b.json.gz", "sub/deeper/c.log"]);
        assert_eq!(src.files().iter().map(|f| f.gzip).collect::<Vec<_>>(), [false, true, true]);
        let seen = Mutex::new(Vec::new());
        let reported = AtomicU64::new(0);
        let progress = |done: u64, total: u64| {
            assert!(done <= total);
            reported.fetch_max(done, Ordering::Relaxed);
        };
        let sum = src
            .for_each_line(
                &echo,
                &|f, item| {
                    let name = f.path.file_name().unwrap().to_string_lossy().to_string();
                    match item {
                        NdjsonItem::Event { line, matches } => seen.lock().unwrap().push((name, line, matches.time.0)),
                        NdjsonItem::BadLine { line, error } => {
                            assert_eq!(error.line(), Some(line));
                            seen.lock().unwrap().push((name, line, -1))
                        }
                    }
                    Ok(())
                },
                Some(&progress),
            )
            .unwrap();
        let mut seen = seen.into_inner().unwrap();
        seen.sort();
        let want: Vec<(String, u64, i64)> = vec![
            ("a.ndjson".into(), 1, 1),
            ("a.ndjson".into(), 2, 2),
            ("a.ndjson".into(), 4, -1),
            ("b.json.gz".into(), 1, 3),
            ("b.json.gz".into(), 2, 4),
            ("c.log".into(), 1, 5),
        ];
        assert_eq!(seen, want);
        assert_eq!((sum.files, sum.totals.events, sum.totals.bad_lines), (3, 5, 1));
        assert_eq!(sum.disk_bytes, src.total_bytes());
        assert_eq!(reported.load(Ordering::Relaxed), src.total_bytes());
        assert!(sum.errors.is_empty());
    }

    #[test]
    fn a_corrupt_file_is_reported_and_the_others_read() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let mut broken = gz(b"one\ntwo\nthree\n");
        let n = broken.len();
        broken[n / 2] ^= 0xff;
        broken.truncate(n - 4);
        std::fs::write(d.join("a.gz"), broken).unwrap();
        std::fs::write(d.join("b.ndjson"), b"fine\n").unwrap();
        let src = EventSource::from_paths(&[d.join("a.gz"), d.join("b.ndjson")]).unwrap();
        let from_b = AtomicU64::new(0);
        let sink = |f: &SourceFile, _: NdjsonItem<'_>| {
            if f.path.ends_with("b.ndjson") {
                from_b.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        };
        let sum = src.for_each_line(&echo, &sink, None).unwrap();
        assert_eq!(sum.errors.len(), 1, "{sum:?}");
        assert!(sum.errors[0].message.contains("a.gz"), "{:?}", sum.errors);
        assert_eq!(from_b.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn a_missing_path_is_named_and_a_sink_error_stops_the_pass() {
        let e = EventSource::from_paths(&["/nonexistent/archive.ndjson"]).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/archive.ndjson"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), b"1\n2\n").unwrap();
        let src = EventSource::from_paths(&[dir.path()]).unwrap();
        let e = src.for_each_line(&echo, &|_, _| Err(Error::new(ErrorKind::Io, "disk full")), None).unwrap_err();
        assert!(e.to_string().contains("disk full"), "{e}");
    }
}
