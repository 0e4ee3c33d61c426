//! Matching pre-extracted values by field id (the id of the field in [`Matcher::fields`]), for
//! bindings that walk events themselves (the Python wheel walks dicts): no field-name look-up per
//! value.

use super::{Candidates, EventMatches, Matcher, TimeSource};
use crate::time::Timestamp;
use std::borrow::Cow;

impl Matcher {
    /// [`Matcher::match_fields`] with each field given by its id in [`Matcher::fields`] rather
    /// than its name. Ids out of range are ignored; `offset` is the pair's position.
    ///
    /// ```
    /// use iocmatch::{ImportDefaults, MatchOptions, Matcher, NewCollection, Store, Timestamp};
    /// use std::sync::Arc;
    ///
    /// let store = Store::open_in_memory()?;
    /// store.create_collection(&NewCollection::named("c2"))?;
    /// let defaults = ImportDefaults { valid_from: Some(Timestamp::from_secs(0)), ..Default::default() };
    /// store.import_text("c2", b"203.0.113.5\n", &defaults)?;
    /// let m = Matcher::new(Arc::new(store.compile()?), &MatchOptions::default())?;
    /// let id = m.fields().id("destination.ip").unwrap();
    /// let found = m.match_field_ids(&[(id, "203.0.113.5")], None);
    /// assert_eq!(found.matches[0].field, "destination.ip");
    /// # Ok::<(), iocmatch::Error>(())
    /// ```
    pub fn match_field_ids<V: AsRef<str>>(&self, fields: &[(u32, V)], at: Option<Timestamp>) -> EventMatches {
        let (time, time_source) = match at {
            Some(t) => (t, TimeSource::Caller),
            None => (self.default_time(), TimeSource::Default),
        };
        let mut c = Candidates::default();
        let n = self.paths.len() as u32;
        for (i, (field, v)) in fields.iter().enumerate() {
            if *field < n {
                c.add(self, *field, Cow::Borrowed(v.as_ref()), i);
            }
        }
        EventMatches { matches: c.finish(self, Self::secs(time)), time, time_source }
    }
}

#[cfg(test)]
mod tests {
    use crate::{ImportDefaults, MatchOptions, Matcher, NewCollection, Store, Timestamp};
    use std::sync::Arc;

    #[test]
    fn ids_and_names_agree() {
        let store = Store::open_in_memory().unwrap();
        store.create_collection(&NewCollection::named("c")).unwrap();
        let defaults = ImportDefaults { valid_from: Some(Timestamp::from_secs(0)), ..Default::default() };
        store.import_text("c", b"203.0.113.5\nevil.example\nd41d8cd98f00b204e9800998ecf8427e\n", &defaults).unwrap();
        let m = Matcher::new(Arc::new(store.compile().unwrap()), &MatchOptions::default()).unwrap();
        let by_name = [
            ("destination.ip", "203.0.113.5"),
            ("dns.question.name", "evil.example"),
            ("file.hash.md5", "D41D8CD98F00B204E9800998ECF8427E"),
            ("no.such.field", "evil.example"),
        ];
        let by_id: Vec<(u32, &str)> = by_name.iter().map(|(f, v)| (m.fields().id(f).unwrap_or(u32::MAX), *v)).collect();
        let at = Some(Timestamp::from_secs(1_000));
        let a = m.match_fields(&by_name, at);
        let b = m.match_field_ids(&by_id, at);
        assert_eq!(a, b);
        assert_eq!(a.matches.len(), 3);
    }
}
