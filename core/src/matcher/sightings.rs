//! Sightings: how many events each indicator was found in, per UTC day, counted by matchers
//! given a [`SightingsRecorder`] (opt-in, see [`super::MatchOptions::sightings`]).
//!
//! A matcher counts every indicator found in an event once per event, at the event's time,
//! whatever the indicator's validity window (telemetry ignores validity), but only where it
//! may report it at all: visible collections, field scopes and the Command and Control rule.
//! Counts live in memory, in sharded maps, until [`crate::Store::flush_sightings`] adds them to
//! the store.

use rustc_hash::FxHashMap;
use std::sync::Mutex;

/// Shards of the counter: matching threads rarely wait for each other.
const SHARDS: usize = 16;

/// Counts of one indicator on one UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sighting {
    /// The indicator's uuid.
    pub indicator: uuid::Uuid,
    /// The UTC day, in days since 1970-01-01.
    pub day: i64,
    /// Events it was found in that day.
    pub count: u64,
}

type Shard = Mutex<FxHashMap<(u128, i64), u64>>;

/// A concurrent in-memory counter of sightings per indicator and UTC day. `Send + Sync`:
/// share one (in an `Arc`) between matchers and threads; a [`super::LiveMatcher`] keeps its
/// recorder across snapshot swaps.
#[derive(Default)]
pub struct SightingsRecorder {
    shards: [Shard; SHARDS],
}

impl std::fmt::Debug for SightingsRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SightingsRecorder").field("pending", &self.pending()).finish()
    }
}

fn lock(s: &Shard) -> std::sync::MutexGuard<'_, FxHashMap<(u128, i64), u64>> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

impl SightingsRecorder {
    /// An empty recorder.
    pub fn new() -> SightingsRecorder {
        SightingsRecorder::default()
    }

    fn shard(&self, id: u128) -> &Shard {
        let h = (id as u64) ^ ((id >> 64) as u64);
        &self.shards[(h.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 60) as usize % SHARDS]
    }

    /// Count `count` sightings of `indicator` on `day` (days since 1970-01-01).
    pub fn record(&self, indicator: uuid::Uuid, day: i64, count: u64) {
        if count == 0 {
            return;
        }
        let id = indicator.as_u128();
        let mut m = lock(self.shard(id));
        let c = m.entry((id, day)).or_insert(0);
        *c = c.saturating_add(count);
    }

    /// The sightings counted and not yet taken, summed over indicators and days.
    pub fn pending(&self) -> u64 {
        self.shards
            .iter()
            .map(|s| lock(s).values().fold(0u64, |a, &c| a.saturating_add(c)))
            .fold(0, u64::saturating_add)
    }

    /// A copy of the counts not yet taken, ordered by indicator and day.
    pub fn counts(&self) -> Vec<Sighting> {
        let mut out: Vec<Sighting> = Vec::new();
        for s in &self.shards {
            out.extend(lock(s).iter().map(|(&(id, day), &count)| Sighting {
                indicator: uuid::Uuid::from_u128(id),
                day,
                count,
            }));
        }
        out.sort();
        out
    }

    /// Take every count out (the recorder starts again from zero), ordered by indicator and day.
    pub fn take(&self) -> Vec<Sighting> {
        let mut out: Vec<Sighting> = Vec::new();
        for s in &self.shards {
            let m = std::mem::take(&mut *lock(s));
            out.extend(m.into_iter().map(|((id, day), count)| Sighting {
                indicator: uuid::Uuid::from_u128(id),
                day,
                count,
            }));
        }
        out.sort();
        out
    }

    /// Put counts taken back (after a failed flush), adding to those counted since.
    pub fn restore(&self, counts: &[Sighting]) {
        for s in counts {
            self.record(s.indicator, s.day, s.count);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_take_and_restore() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<SightingsRecorder>();
        let r = SightingsRecorder::new();
        let a = uuid::Uuid::from_u128(1);
        let b = uuid::Uuid::from_u128(u128::MAX);
        r.record(a, 3, 1);
        r.record(a, 3, 2);
        r.record(b, -1, 1);
        r.record(a, 4, 0);
        assert_eq!(r.pending(), 4);
        let want = vec![Sighting { indicator: a, day: 3, count: 3 }, Sighting { indicator: b, day: -1, count: 1 }];
        assert_eq!(r.counts(), want);
        assert_eq!(r.take(), want);
        assert_eq!(r.pending(), 0);
        r.record(a, 3, 1);
        r.restore(&want);
        assert_eq!(r.counts()[0].count, 4);
    }
}
