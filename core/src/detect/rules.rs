//! Live detection: the enabled rules of a store turn an event's matches into alerts, one per
//! rule whose collections hold a matched indicator.

use super::alert::{Alert, DetectionType};
use crate::error::Result;
use crate::matcher::{EventMatches, MatchOptions, Matcher, NdjsonItem, NdjsonSummary};
use crate::store::{Rule, Store};
use crate::time::Timestamp;
use rustc_hash::FxHashMap;
use std::io::Read;
use std::sync::Arc;

/// The enabled rules of a store, indexed by the collections they cover. Cheap to query from
/// many threads; load it again to see rule changes.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
    /// Collection id -> indexes into `rules`.
    by_collection: FxHashMap<String, Vec<u32>>,
}

impl RuleSet {
    /// The enabled rules of `store` (disabled rules alert nothing).
    pub fn load(store: &Store) -> Result<RuleSet> {
        Ok(RuleSet::new(store.enabled_rules()?))
    }

    /// A set of these rules, whether enabled or not (filter them first to honour the flag).
    pub fn new(rules: Vec<Rule>) -> RuleSet {
        let mut by_collection: FxHashMap<String, Vec<u32>> = FxHashMap::default();
        for (i, r) in rules.iter().enumerate() {
            for c in &r.collections {
                by_collection.entry(c.clone()).or_default().push(i as u32);
            }
        }
        RuleSet { rules, by_collection }
    }

    /// The rules.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Whether there is no rule (nothing can alert).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The collections covered by at least one rule (`ioc-collection--<uuid>`), sorted.
    pub fn collections(&self) -> Vec<String> {
        let mut v: Vec<String> = self.by_collection.keys().cloned().collect();
        v.sort();
        v
    }

    /// The alerts of one event: one per rule covering the collection of at least one match,
    /// in rule order, each with only that rule's matches.
    pub fn alerts(
        &self,
        event: &EventMatches,
        detection_type: DetectionType,
        source: Option<&str>,
        line: Option<u64>,
    ) -> Vec<Alert> {
        if event.matches.is_empty() || self.rules.is_empty() {
            return Vec::new();
        }
        let mut per_rule: Vec<(u32, Vec<crate::matcher::Match>)> = Vec::new();
        for m in &event.matches {
            let Some(rules) = self.by_collection.get(&m.collection_id) else { continue };
            for &r in rules {
                match per_rule.iter_mut().find(|(i, _)| *i == r) {
                    Some((_, v)) => v.push(m.clone()),
                    None => per_rule.push((r, vec![m.clone()])),
                }
            }
        }
        per_rule.sort_by_key(|(i, _)| *i);
        per_rule
            .into_iter()
            .map(|(i, matches)| {
                let rule = &self.rules[i as usize];
                Alert {
                    rule_id: rule.id.clone(),
                    rule_name: rule.name.clone(),
                    detection_type,
                    source: source.map(str::to_string),
                    line,
                    time: event.time,
                    time_source: event.time_source,
                    matches,
                }
            })
            .collect()
    }
}

/// Live detection: a matcher and the rules that turn its matches into `cti` alerts.
/// `Send + Sync`.
#[derive(Debug, Clone)]
pub struct Detector {
    matcher: Arc<Matcher>,
    rules: RuleSet,
}

impl Detector {
    /// Compile `store` and load its enabled rules.
    ///
    /// # Errors
    /// As [`Store::compile`] and [`Matcher::new`].
    pub fn new(store: &Store, options: &MatchOptions) -> Result<Detector> {
        let rules = RuleSet::load(store)?;
        let matcher = Matcher::new(Arc::new(store.compile()?), options)?;
        Ok(Detector { matcher: Arc::new(matcher), rules })
    }

    /// A detector over a matcher (e.g. [`crate::LiveMatcher::matcher`]) and rules.
    pub fn with_matcher(matcher: Arc<Matcher>, rules: RuleSet) -> Detector {
        Detector { matcher, rules }
    }

    /// Its rules.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Its matcher.
    pub fn matcher(&self) -> &Arc<Matcher> {
        &self.matcher
    }

    /// The alerts of one ECS event (JSON bytes), matched at `at`, else at its `@timestamp`.
    ///
    /// # Errors
    /// A validation error when the bytes are not a JSON object.
    pub fn detect(&self, json: &[u8], at: Option<Timestamp>) -> Result<Vec<Alert>> {
        let m = self.matcher.match_event(json, at)?;
        Ok(self.rules.alerts(&m, DetectionType::Cti, None, None))
    }

    /// Detect over an NDJSON stream (lines matched in parallel, in input order): `sink` gets the
    /// alerts of each event (with its line and `source`) and every bad line.
    ///
    /// # Errors
    /// Reading errors, and whatever `sink` returns.
    pub fn detect_ndjson<R: Read>(
        &self,
        input: R,
        at: Option<Timestamp>,
        source: Option<&str>,
        sink: &mut dyn FnMut(DetectItem<'_>) -> Result<()>,
    ) -> Result<NdjsonSummary> {
        self.matcher.match_ndjson(input, at, &mut |item| match item {
            NdjsonItem::Event { line, matches } => {
                let alerts = self.rules.alerts(matches, DetectionType::Cti, source, Some(line));
                if alerts.is_empty() {
                    Ok(())
                } else {
                    sink(DetectItem::Alerts(alerts))
                }
            }
            NdjsonItem::BadLine { line, error } => sink(DetectItem::BadLine { line, error }),
        })
    }
}

/// One result of [`Detector::detect_ndjson`].
#[derive(Debug)]
pub enum DetectItem<'a> {
    /// The alerts of one event (never empty).
    Alerts(Vec<Alert>),
    /// A line that is not a JSON object: skipped.
    BadLine {
        /// 1-based line number.
        line: u64,
        /// Why.
        error: &'a crate::Error,
    },
}

/// Live detection that follows the store: the next event after an import, an edit, a
/// revocation or a rule change (made through this store handle) sees it. Changes made by other
/// processes are picked up by [`LiveDetector::refresh`]. `Send + Sync`.
pub struct LiveDetector {
    store: Arc<Store>,
    live: crate::LiveMatcher,
    rules: arc_swap::ArcSwap<(u64, RuleSet)>,
}

impl std::fmt::Debug for LiveDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveDetector").field("rules", &self.rules.load().1.rules().len()).finish_non_exhaustive()
    }
}

impl LiveDetector {
    /// Compile the store, load its enabled rules, and start following it.
    ///
    /// # Errors
    /// As [`crate::LiveMatcher::new`].
    pub fn new(store: Arc<Store>, options: MatchOptions) -> Result<LiveDetector> {
        let generation = store.generation();
        let rules = RuleSet::load(&store)?;
        let live = crate::LiveMatcher::new(store.clone(), options)?;
        Ok(LiveDetector { store, live, rules: arc_swap::ArcSwap::from_pointee((generation, rules)) })
    }

    /// The current detector: matcher and rules brought up to date first if this store handle
    /// wrote since (cheap when nothing changed).
    pub fn detector(&self) -> Result<Detector> {
        let generation = self.store.generation();
        let mut rules = self.rules.load_full();
        if rules.0 != generation {
            rules = Arc::new((generation, RuleSet::load(&self.store)?));
            self.rules.store(rules.clone());
        }
        Ok(Detector::with_matcher(self.live.matcher()?, rules.1.clone()))
    }

    /// Bring matcher and rules up to date with every change in the store, from any process.
    pub fn refresh(&self) -> Result<()> {
        self.live.refresh()?;
        self.rules.store(Arc::new((self.store.generation(), RuleSet::load(&self.store)?)));
        Ok(())
    }

    /// The alerts of one ECS event (JSON bytes), on the current detector.
    ///
    /// # Errors
    /// A validation error when the bytes are not a JSON object; storage errors while catching up.
    pub fn detect(&self, json: &[u8], at: Option<Timestamp>) -> Result<Vec<Alert>> {
        self.detector()?.detect(json, at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ImportDefaults, NewCollection, NewRule};

    #[test]
    fn detectors_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Detector>();
        check::<LiveDetector>();
        check::<RuleSet>();
    }

    #[test]
    fn a_live_detector_sees_new_indicators_and_rule_changes() {
        let store = Arc::new(Store::open_in_memory().unwrap());
        store.create_collection(&NewCollection::named("feed")).unwrap();
        let d = LiveDetector::new(store.clone(), MatchOptions::default()).unwrap();
        let ev = br#"{"@timestamp":"2024-06-01T00:00:00Z","url":{"domain":"evil.example"}}"#;
        let names = |d: &LiveDetector| -> Vec<String> {
            d.detect(ev, None).unwrap().into_iter().map(|a| a.rule_name).collect()
        };
        assert!(names(&d).is_empty());
        let defaults =
            ImportDefaults { valid_from: Some(Timestamp::parse("2024-01-01").unwrap()), ..Default::default() };
        store.import_text("feed", b"evil.example\n", &defaults).unwrap();
        assert!(names(&d).is_empty(), "no rule yet");
        store.create_rule(&NewRule::for_collections("r", ["feed"])).unwrap();
        assert_eq!(names(&d), ["r"]);
        store.set_rule_enabled("r", false).unwrap();
        assert!(names(&d).is_empty());
        store.set_rule_enabled("r", true).unwrap();
        store.create_rule(&NewRule::for_community("all", "default")).unwrap();
        assert_eq!(names(&d), ["r", "all"]);
        d.refresh().unwrap();
        assert_eq!(names(&d), ["r", "all"]);
    }
}
