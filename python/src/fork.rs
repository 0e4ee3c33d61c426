//! Surviving `os.fork()`: a fork counter, and a rayon pool per process.
//!
//! A child process inherits copies of the parent's SQLite connections and rayon's worker
//! threads, without the threads. Every object that holds such things notes the fork count when
//! it makes them and makes them again (leaking the inherited copies, never closing them) when it
//! is used in a process that has forked since. All parallel work runs in [`pool`], never in
//! rayon's global pool, whose workers a child would wait for forever.

use iocmatch::{Error, ErrorKind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once};

static FORKS: AtomicU64 = AtomicU64::new(0);

extern "C" fn child_after_fork() {
    FORKS.fetch_add(1, Ordering::SeqCst);
}

/// Count forks from now on (idempotent).
pub fn watch() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: registers a handler that only increments an atomic, which is async-signal-safe.
        unsafe {
            libc::pthread_atfork(None, None, Some(child_after_fork));
        }
    });
}

/// How many times this process line has forked since the module was loaded: a different value
/// than the one noted means "we are in a child, remake what you hold".
pub fn generation() -> u64 {
    FORKS.load(Ordering::SeqCst)
}

type Pool = Option<(u64, Arc<rayon::ThreadPool>)>;
static POOL: Mutex<Pool> = Mutex::new(None);

/// The rayon pool of this process (made on first use, and again after a fork).
fn pool() -> iocmatch::Result<Arc<rayon::ThreadPool>> {
    let gen = generation();
    let mut slot = POOL.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((g, p)) = &*slot {
        if *g == gen {
            return Ok(p.clone());
        }
    }
    if let Some((_, inherited)) = slot.take() {
        // Its threads do not exist in this process: dropping it would signal them in vain.
        std::mem::forget(inherited);
    }
    let p = rayon::ThreadPoolBuilder::new()
        .thread_name(|i| format!("iocmatch-{i}"))
        .build()
        .map_err(|e| Error::new(ErrorKind::Io, format!("cannot start worker threads: {e}")))?;
    let p = Arc::new(p);
    *slot = Some((gen, p.clone()));
    Ok(p)
}

/// Run `f` in this process's pool (call it without the GIL).
pub fn run<R: Send>(f: impl FnOnce() -> iocmatch::Result<R> + Send) -> iocmatch::Result<R> {
    pool()?.install(f)
}
