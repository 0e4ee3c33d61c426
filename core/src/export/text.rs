//! A collection as a plain-text blocklist: one normalised observable per line.

use crate::error::Result;
use crate::observable::Kind;
use crate::store::Store;
use crate::time::Timestamp;

impl Store {
    /// The observables of a collection's active indicators (not revoked, valid now), one per
    /// line, grouped by kind in [`Kind::ALL`] order and in insertion order within a kind, each
    /// once. A multi-hash indicator gives one line per hash; an IP seen with a port gives the
    /// bare address. `kind` keeps one kind only.
    ///
    /// # Errors
    /// Not-found for the collection; storage errors.
    pub fn export_text(&self, collection: &str, kind: Option<Kind>) -> Result<String> {
        let now = Timestamp::now();
        let indicators = self.all_indicators(collection)?;
        let mut by_kind: Vec<Vec<&str>> = vec![Vec::new(); Kind::ALL.len()];
        let mut seen = std::collections::HashSet::new();
        for ind in indicators.iter().filter(|i| i.is_valid_at(now)) {
            for o in &ind.value.observables {
                if kind.is_some_and(|k| k != o.kind) || !seen.insert((o.kind, o.value.as_str())) {
                    continue;
                }
                let slot = Kind::ALL.iter().position(|k| *k == o.kind).unwrap_or(0);
                by_kind[slot].push(&o.value);
            }
        }
        let mut out = String::new();
        for v in by_kind.iter().flatten() {
            out.push_str(v);
            out.push('\n');
        }
        Ok(out)
    }
}
