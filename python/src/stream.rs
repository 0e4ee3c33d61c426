//! `iocmatch.Stream`: the matches of an NDJSON or raw-text stream, produced by the core's
//! streaming matcher on a thread of its own (in the process's pool, without the GIL) and handed
//! to the Python iterator through a bounded channel, in input order.

use crate::errors;
use crate::fork;
use crate::results::Match;
use iocmatch::matcher::{NdjsonItem, NdjsonSummary};
use iocmatch::{Error, ErrorKind, EventMatches, Timestamp};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyString};
use std::collections::VecDeque;
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Mutex};

/// Matched events in flight between the matching thread and the iterator.
const IN_FLIGHT: usize = 1024;

/// Where a stream's bytes come from.
pub enum Reader {
    /// A file opened by path.
    File(std::fs::File),
    /// A Python binary file object (its `read(n)` is called with the GIL).
    Python(Py<PyAny>),
}

impl Read for Reader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Reader::File(f) => f.read(buf),
            Reader::Python(obj) => Python::attach(|py| {
                let chunk = obj.bind(py).call_method1("read", (buf.len(),)).map_err(std::io::Error::other)?;
                let bytes: &[u8] = if chunk.is_none() {
                    &[]
                } else if let Ok(b) = chunk.cast::<PyBytes>() {
                    b.as_bytes()
                } else if let Ok(s) = chunk.cast::<PyString>() {
                    crate::convert::text(s).map_err(std::io::Error::other)?.as_bytes()
                } else if let Ok(b) = chunk.cast::<PyByteArray>() {
                    // SAFETY: copied at once, with the GIL held and no Python code running.
                    unsafe { b.as_bytes() }
                } else {
                    return Err(std::io::Error::other("read() must return bytes"));
                };
                if bytes.len() > buf.len() {
                    return Err(std::io::Error::other("read(n) returned more than n bytes"));
                }
                buf[..bytes.len()].copy_from_slice(bytes);
                Ok(bytes.len())
            }),
        }
    }
}

enum Msg {
    /// A line with matches.
    Event(u64, EventMatches),
    /// A bad line, in strict mode (the stream stops there).
    Bad(Error),
    /// The end, with the totals or the error that stopped the stream.
    Done(iocmatch::Result<NdjsonSummary>),
}

enum Out {
    Match(Match),
    Error(Error),
}

struct State {
    rx: Option<Receiver<Msg>>,
    pending: VecDeque<Out>,
    summary: NdjsonSummary,
}

/// The matches of an NDJSON or text stream, in input order (an iterator of :class:`Match`).
#[pyclass(frozen, module = "iocmatch")]
pub struct Stream {
    raw: bool,
    cancel: Arc<AtomicBool>,
    state: Mutex<State>,
}

impl Stream {
    /// Start matching `reader` on a thread of the pool.
    pub fn start(
        matcher: Arc<iocmatch::Matcher>,
        reader: Reader,
        at: Option<Timestamp>,
        raw: bool,
        strict: bool,
    ) -> iocmatch::Result<Stream> {
        let (tx, rx) = sync_channel(IN_FLIGHT);
        let cancel = Arc::new(AtomicBool::new(false));
        let stop = cancel.clone();
        std::thread::Builder::new()
            .name("iocmatch-stream".into())
            .spawn(move || {
                let stopped = || Error::new(ErrorKind::InvalidState, "stream closed");
                let result = fork::run(|| {
                    let mut sink = |item: NdjsonItem<'_>| -> iocmatch::Result<()> {
                        if stop.load(Ordering::Relaxed) {
                            return Err(stopped());
                        }
                        let msg = match item {
                            NdjsonItem::Event { line, matches } if !matches.matches.is_empty() => {
                                Msg::Event(line, matches.clone())
                            }
                            NdjsonItem::BadLine { error, .. } if strict => Msg::Bad(error.clone()),
                            _ => return Ok(()),
                        };
                        let bad = matches!(msg, Msg::Bad(_));
                        tx.send(msg).map_err(|_| stopped())?;
                        if bad {
                            return Err(stopped());
                        }
                        Ok(())
                    };
                    if raw {
                        matcher.scan_text_stream(reader, at, &mut sink)
                    } else {
                        matcher.match_ndjson(reader, at, &mut sink)
                    }
                });
                let _ = tx.send(Msg::Done(result));
            })
            .map_err(|e| Error::new(ErrorKind::Io, format!("cannot start a thread: {e}")))?;
        let state = State { rx: Some(rx), pending: VecDeque::new(), summary: NdjsonSummary::default() };
        Ok(Stream { raw, cancel, state: Mutex::new(state) })
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

fn busy() -> PyErr {
    PyRuntimeError::new_err("this stream is being read by another thread")
}

#[pymethods]
impl Stream {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Match>> {
        let mut st = match self.state.try_lock() {
            Ok(s) => s,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return Err(busy()),
        };
        loop {
            match st.pending.pop_front() {
                Some(Out::Match(m)) => return Ok(Some(m)),
                Some(Out::Error(e)) => return Err(errors::to_py(py, &e)),
                None => {}
            }
            let Some(rx) = st.rx.take() else { return Ok(None) };
            let (rx, msg) = py.detach(move || {
                let msg = rx.recv();
                (rx, msg)
            });
            st.rx = Some(rx);
            match msg {
                Ok(Msg::Event(line, found)) => {
                    let (time, time_source) = (found.time, found.time_source);
                    st.pending.extend(
                        found.matches.into_iter().map(|m| Out::Match(Match { m, line: Some(line), time, time_source })),
                    );
                }
                Ok(Msg::Bad(e)) => {
                    st.rx = None;
                    st.summary.bad_lines += 1;
                    st.pending.push_back(Out::Error(e));
                }
                Ok(Msg::Done(Ok(summary))) => {
                    st.rx = None;
                    st.summary = summary;
                }
                Ok(Msg::Done(Err(e))) => {
                    st.rx = None;
                    st.pending.push_back(Out::Error(e));
                }
                Err(_) => {
                    st.rx = None;
                    st.pending.push_back(Out::Error(Error::new(ErrorKind::Io, "the matching thread stopped")));
                }
            }
        }
    }

    /// Totals of the stream once it is exhausted: ``events``, ``matched_events``, ``matches``,
    /// ``bad_lines``, ``bytes``.
    #[getter]
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let st = self.state.try_lock().map_err(|_| busy())?;
        crate::convert::to_py(py, &st.summary)
    }

    fn __repr__(&self) -> String {
        if self.raw {
            "Stream(raw text)".into()
        } else {
            "Stream(ndjson)".into()
        }
    }
}
