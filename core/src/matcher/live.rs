//! A matcher that follows the store: after an import, an edit or a revocation, the next match
//! sees the change, while threads already matching finish on their snapshot.
//!
//! The snapshot is the compiled base index plus a small delta index of the indicators changed
//! since, and tombstones for the base rows they supersede (edited or revoked). When the delta
//! grows past a share of the base, or collections change, the base is recompiled. Snapshots
//! are swapped atomically (`arc-swap`).

use super::{MatchOptions, Matcher, SightingsRecorder};
use crate::error::Result;
use crate::index::{Index, IndexBuilder};
use crate::store::Store;
use arc_swap::ArcSwap;
use std::sync::{Arc, Mutex};

/// Recompile the base when the delta holds more than this share of it (or this many rows).
const DELTA_SHARE: usize = 10;
const DELTA_MAX: usize = 200_000;

struct Snapshot {
    matcher: Arc<Matcher>,
    base: Arc<Index>,
    /// The store's change sequence the snapshot includes.
    seq: i64,
    /// The store handle's generation when the snapshot was taken.
    generation: u64,
    /// A digest of the collections table: a change there forces a recompile.
    tables: u64,
}

/// A [`Matcher`] kept fresh from a [`Store`].
pub struct LiveMatcher {
    store: Arc<Store>,
    options: MatchOptions,
    snapshot: ArcSwap<Snapshot>,
    refreshing: Mutex<()>,
}

impl std::fmt::Debug for LiveMatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveMatcher").field("seq", &self.snapshot.load().seq).finish_non_exhaustive()
    }
}

impl LiveMatcher {
    /// Compile the store and start following it.
    ///
    /// # Errors
    /// As [`Store::compile`] and [`Matcher::new`].
    pub fn new(store: Arc<Store>, options: MatchOptions) -> Result<LiveMatcher> {
        let snap = Self::full(&store, &options)?;
        Ok(LiveMatcher { store, options, snapshot: ArcSwap::from_pointee(snap), refreshing: Mutex::new(()) })
    }

    fn full(store: &Store, options: &MatchOptions) -> Result<Snapshot> {
        let generation = store.generation();
        let tables = store.collections_digest()?;
        let base = Arc::new(store.compile()?);
        let matcher = Arc::new(Matcher::new(base.clone(), options)?);
        Ok(Snapshot { matcher, seq: base.seq(), base, generation, tables })
    }

    /// The current matcher, brought up to date first if this store handle wrote since.
    /// Cheap when nothing changed (one atomic load). Changes made through other handles or
    /// processes are picked up by [`LiveMatcher::refresh`].
    pub fn matcher(&self) -> Result<Arc<Matcher>> {
        let snap = self.snapshot.load();
        if snap.generation == self.store.generation() {
            return Ok(snap.matcher.clone());
        }
        drop(snap);
        self.refresh()?;
        Ok(self.snapshot.load().matcher.clone())
    }

    /// The recorder its matchers count sightings into, if the options gave one; the same
    /// across snapshot swaps.
    pub fn sightings(&self) -> Option<&Arc<SightingsRecorder>> {
        self.options.sightings.as_ref()
    }

    /// Add the sightings counted so far to the store ([`Store::flush_sightings`]) and start
    /// counting again from zero; returns the sightings written. Nothing to do without a recorder.
    ///
    /// # Errors
    /// Storage errors; the counts are then kept for the next flush.
    pub fn flush_sightings(&self) -> Result<u64> {
        match &self.options.sightings {
            Some(rec) => self.store.flush_sightings(rec),
            None => Ok(0),
        }
    }

    /// Bring the snapshot up to date with every change in the store, from any process. Flushes
    /// the sightings counted so far first (see [`LiveMatcher::flush_sightings`]).
    pub fn refresh(&self) -> Result<()> {
        let _one_at_a_time = self.refreshing.lock().unwrap_or_else(|p| p.into_inner());
        self.flush_sightings()?;
        let snap = self.snapshot.load_full();
        let generation = self.store.generation();
        let seq = self.store.change_seq()?;
        if seq == snap.seq {
            if generation != snap.generation {
                self.snapshot.store(Arc::new(Snapshot {
                    generation,
                    matcher: snap.matcher.clone(),
                    base: snap.base.clone(),
                    ..*snap
                }));
            }
            return Ok(());
        }
        let tables = self.store.collections_digest()?;
        if tables != snap.tables {
            self.snapshot.store(Arc::new(Self::full(&self.store, &self.options)?));
            return Ok(());
        }
        // every indicator changed since the base: tombstone its base row, keep it if active
        let base = &snap.base;
        let mut dead = vec![0u64; base.len().div_ceil(64)];
        let mut delta = IndexBuilder::new();
        let now_seq = self.store.changes_since(base.seq(), &mut delta, &mut |id| {
            if let Some(row) = base.row_of_uuid(id) {
                dead[row as usize / 64] |= 1 << (row % 64);
            }
        })?;
        if delta.len() > DELTA_MAX || delta.len() * DELTA_SHARE > base.len().max(1000) {
            self.snapshot.store(Arc::new(Self::full(&self.store, &self.options)?));
            return Ok(());
        }
        delta.set_seq(now_seq);
        let delta = Arc::new(delta.build()?);
        let matcher = Matcher::layered(vec![(base.clone(), Some(Arc::new(dead))), (delta, None)], &self.options)?;
        self.snapshot.store(Arc::new(Snapshot {
            matcher: Arc::new(matcher),
            base: base.clone(),
            seq: now_seq,
            generation,
            tables,
        }));
        Ok(())
    }
}
