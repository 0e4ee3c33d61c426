//! Property: the compiled index agrees with a naive reference matcher (a linear scan over the
//! indicators, written as plainly as possible) on random indicators and events.

use iocmatch::index::{CollectionRecord, CommunityRecord, IndexBuilder, IndicatorRecord};
use iocmatch::observable::{normalize, parse_indicator, Kind};
use iocmatch::scope::Profile;
use iocmatch::{MatchOptions, Matcher, Timestamp};
use proptest::prelude::*;
use std::net::IpAddr;
use std::sync::Arc;

const DOMAINS: &[&str] =
    &["evil.example", "a.evil.example", "b.a.evil.example", "other.test", "x.other.test", "evil.example.org"];
const V4: &[&str] = &["192.0.2.1", "192.0.2.77", "198.51.100.5", "10.1.2.3", "10.200.0.1"];
const V4NETS: &[&str] = &["192.0.2.0/24", "192.0.2.64/26", "10.0.0.0/8", "10.1.0.0/16", "0.0.0.0/0"];
const V6: &[&str] = &["2001:db8::1", "2001:db8::2", "2001:db8:1::5"];
const V6NETS: &[&str] = &["2001:db8::/32", "2001:db8:1::/48"];
const URLS: &[&str] = &["http://evil.example/a", "https://evil.example/a", "http://other.test/x?y=1"];
const EMAILS: &[&str] = &["bad@evil.example", "x@other.test"];
const MD5S: &[&str] = &["d41d8cd98f00b204e9800998ecf8427e", "0123456789abcdef0123456789abcdef"];
const FIELDS: &[&str] = &[
    "source.ip",
    "destination.ip",
    "related.ip",
    "dns.question.name",
    "url.domain",
    "url.original",
    "email.from.address",
    "file.hash.md5",
    "user.name",
];

#[derive(Debug, Clone)]
struct Ind {
    value: String,
    collection: u32,
    from: i64,
    until: Option<i64>,
    c2: bool,
    subdomains: bool,
}

fn pool() -> Vec<&'static str> {
    [DOMAINS, V4, V4NETS, V6, V6NETS, URLS, EMAILS, MD5S].concat()
}

fn ind() -> impl Strategy<Value = Ind> {
    (prop::sample::select(pool()), 0u32..3, 0i64..100, prop::option::of(1i64..100), any::<bool>(), any::<bool>())
        .prop_map(|(v, collection, from, len, c2, subdomains)| Ind {
            value: v.to_string(),
            collection,
            from: from * 1000,
            until: len.map(|l| (from + l) * 1000),
            c2,
            subdomains,
        })
}

fn event_value() -> impl Strategy<Value = String> {
    let odd = prop::sample::select(vec![
        "EVIL.example.",
        "c.b.a.evil.example",
        "notevil.example",
        "::ffff:192.0.2.1",
        "HTTP://EVIL.EXAMPLE:80/a#f",
        "Bad@Evil.Example",
        "D41D8CD98F00B204E9800998ECF8427E",
        "192.0.2.200",
        "10.255.255.255",
        "2001:db8:ffff::1",
        "junk",
    ]);
    prop_oneof![prop::sample::select(pool()).prop_map(str::to_string), odd.prop_map(str::to_string)]
}

/// The reference: does indicator `i` match `value` seen in `field` at `t`?
fn reference(i: &Ind, field: &str, value: &str, t: i64, profile: &Profile) -> Option<Kind> {
    if t < i.from || i.until.is_some_and(|u| t > u) {
        return None;
    }
    let kinds = profile.kinds_of(field);
    let iv = parse_indicator(&i.value, None).ok()?;
    let o = &iv.observables[0];
    if kinds & o.kind.bit() == 0 {
        return None;
    }
    let c2_only = i.c2 && matches!(o.kind, Kind::Ipv4 | Kind::Ipv6 | Kind::Cidr);
    if c2_only && field != "destination.ip" {
        return None;
    }
    match o.kind {
        Kind::Ipv4 | Kind::Ipv6 => {
            let ip: IpAddr = normalize(value, None)
                .ok()
                .filter(|n| matches!(n.kind, Kind::Ipv4 | Kind::Ipv6))?
                .value
                .parse()
                .ok()?;
            (ip.to_string() == o.value).then_some(o.kind)
        }
        Kind::Cidr => {
            let ip: IpAddr = normalize(value, None)
                .ok()
                .filter(|n| matches!(n.kind, Kind::Ipv4 | Kind::Ipv6))?
                .value
                .parse()
                .ok()?;
            let net: ipnet::IpNet = o.value.parse().ok()?;
            net.contains(&ip).then_some(Kind::Cidr)
        }
        Kind::Domain => {
            let d = normalize(value, Some(Kind::Domain)).ok()?.value;
            (d == o.value || (i.subdomains && d.ends_with(&format!(".{}", o.value)))).then_some(Kind::Domain)
        }
        k => {
            let n = normalize(value, Some(k)).ok()?.value;
            (n == o.value).then_some(k)
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn index_agrees_with_the_reference(
        inds in prop::collection::vec(ind(), 0..25),
        events in prop::collection::vec((prop::sample::select(FIELDS.to_vec()), event_value(), 0i64..120_000), 1..20),
    ) {
        let mut b = IndexBuilder::new();
        let comm = b.add_community(CommunityRecord { id: uuid::Uuid::from_u128(1), parent: None });
        for c in 0..3u32 {
            b.add_collection(CollectionRecord { id: uuid::Uuid::from_u128(100 + u128::from(c)), community: comm, available_for_sub_communities: false });
        }
        for (n, i) in inds.iter().enumerate() {
            let value = parse_indicator(&i.value, None).unwrap();
            let is_ip = matches!(value.observables[0].kind, Kind::Ipv4 | Kind::Ipv6 | Kind::Cidr);
            b.add_indicator(IndicatorRecord {
                id: uuid::Uuid::from_u128(1000 + n as u128),
                collection: i.collection,
                value,
                valid_from: Timestamp::from_secs(i.from),
                valid_until: i.until.map(Timestamp::from_secs),
                c2: i.c2 && is_ip,
                subdomains: i.subdomains,
            });
        }
        let m = Matcher::new(Arc::new(b.build().unwrap()), &MatchOptions::default()).unwrap();
        let profile = Profile::default();
        for (field, value, t) in &events {
            let got = m.match_fields(&[(field, value)], Some(Timestamp::from_secs(*t)));
            let mut got: Vec<(String, Kind)> = got.matches.iter().map(|x| (x.indicator_id.clone(), x.kind)).collect();
            got.sort();
            let mut want: Vec<(String, Kind)> = inds
                .iter()
                .enumerate()
                .filter_map(|(n, i)| reference(i, field, value, *t, &profile).map(|k| (format!("indicator--{}", uuid::Uuid::from_u128(1000 + n as u128)), k)))
                .collect();
            want.sort();
            prop_assert_eq!(got, want, "field {} value {} at {}", field, value, t);
        }
        // the same through a JSON event
        let (field, value, t) = &events[0];
        let json = serde_json::json!({ field.to_string(): value });
        let r = m.match_event(json.to_string().as_bytes(), Some(Timestamp::from_secs(*t))).unwrap();
        let n = inds.iter().filter(|i| reference(i, field, value, *t, &profile).is_some()).count();
        prop_assert_eq!(r.matches.len(), n);
    }
}
