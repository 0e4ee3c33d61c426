//! The shared observable vectors (`testdata/observables.json`, also run by the C and Python
//! suites) and property tests of normalisation.

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

use iocmatch::observable::{normalize, parse_indicator, refang, IndicatorValue, Kind, Observable};
use iocmatch::ErrorKind;
use proptest::prelude::*;
use serde_json::Value;

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/observables.json");

fn load() -> Vec<Value> {
    let text = std::fs::read_to_string(VECTORS).unwrap_or_else(|e| panic!("cannot read {VECTORS}: {e}"));
    let doc: Value = serde_json::from_str(&text).expect("observables.json is not valid JSON");
    doc["vectors"].as_array().expect("no \"vectors\" array").clone()
}

/// The input of a vector: `input`, or `input_repeat: [text, count]`.
fn input_of(v: &Value) -> Result<String, String> {
    if let Some(s) = v["input"].as_str() {
        return Ok(s.to_owned());
    }
    match v["input_repeat"].as_array().map(Vec::as_slice) {
        Some([Value::String(s), Value::Number(n)]) => {
            Ok(s.repeat(n.as_u64().ok_or("bad input_repeat count")? as usize))
        }
        _ => Err("no input".into()),
    }
}

fn observable_of(v: &Value) -> Result<Observable, String> {
    serde_json::from_value(v.clone()).map_err(|e| format!("bad expected observable {v}: {e}"))
}

fn check(v: &Value) -> Result<(), String> {
    let input = input_of(v)?;
    let kind: Option<Kind> = match &v["kind"] {
        Value::Null => None,
        Value::String(k) => Some(k.parse().map_err(|e| format!("bad kind: {e}"))?),
        other => return Err(format!("bad kind {other}")),
    };
    if !v["expect"].is_null() {
        let want = observable_of(&v["expect"])?;
        let got = normalize(&input, kind).map_err(|e| format!("normalize failed: {e}"))?;
        if got != want {
            return Err(format!("normalize gave {got:?}"));
        }
        // Normalising the normalised value again changes nothing.
        let again = normalize(&got.value, kind).map_err(|e| format!("re-normalize failed: {e}"))?;
        if again != got {
            return Err(format!("not idempotent: re-normalize gave {again:?}"));
        }
        Ok(())
    } else if !v["expect_indicator"].is_null() {
        let want: IndicatorValue =
            serde_json::from_value(v["expect_indicator"].clone()).map_err(|e| format!("bad expect_indicator: {e}"))?;
        let got = parse_indicator(&input, kind).map_err(|e| format!("parse_indicator failed: {e}"))?;
        if got != want {
            return Err(format!("parse_indicator gave {got:?}"));
        }
        let mask = want.observables.iter().fold(0, |m, o| m | o.kind.bit());
        if got.kinds_mask() != mask {
            return Err(format!("kinds_mask {:#x}, expected {mask:#x}", got.kinds_mask()));
        }
        let back = IndicatorValue::from_stored(&got.key(), got.kinds_mask())
            .ok_or_else(|| format!("from_stored({:?}, {:#x}) gave None", got.key(), got.kinds_mask()))?;
        if back.observables != got.observables {
            return Err(format!("from_stored gave {back:?}"));
        }
        Ok(())
    } else if v["error"] == Value::Bool(true) {
        let indicator = v["indicator"] == Value::Bool(true);
        let r = if indicator {
            parse_indicator(&input, kind).map(|x| format!("{x:?}"))
        } else {
            normalize(&input, kind).map(|x| format!("{x:?}"))
        };
        let e = match r {
            Ok(x) => return Err(format!("expected an error, got {x}")),
            Err(e) => e,
        };
        if e.kind() != ErrorKind::Validation {
            return Err(format!("error kind {:?}: {e}", e.kind()));
        }
        if e.message().len() > 700 || e.value().is_some_and(|x| x.len() > MAX_VALUE_IN_ERROR) {
            return Err(format!("error too long ({} bytes)", e.message().len()));
        }
        if let Some(sub) = v["error_contains"].as_str() {
            if !e.message().contains(sub) {
                return Err(format!("error {:?} does not contain {sub:?}", e.message()));
            }
        }
        Ok(())
    } else {
        Err("vector has none of expect, expect_indicator, error".into())
    }
}

/// Errors name the value, but an oversized one is cut.
const MAX_VALUE_IN_ERROR: usize = iocmatch::observable::MAX_LEN;

#[test]
fn shared_vectors() {
    let vectors = load();
    assert!(vectors.len() >= 180, "only {} vectors", vectors.len());
    let failures: Vec<String> = vectors
        .iter()
        .enumerate()
        .filter_map(|(i, v)| check(v).err().map(|why| format!("#{i} {v}\n    -> {why}")))
        .collect();
    assert!(failures.is_empty(), "{} of {} vectors failed:\n{}", failures.len(), vectors.len(), failures.join("\n"));
}

#[test]
fn vectors_cover_every_kind() {
    let vectors = load();
    for k in Kind::ALL {
        let valid = vectors.iter().any(|v| {
            v["expect"]["kind"] == k.as_str()
                || v["expect_indicator"]["observables"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|o| o["kind"] == k.as_str()))
        });
        assert!(valid, "no valid vector of kind {k}");
        let forced_error = vectors.iter().any(|v| v["error"] == true && v["kind"] == k.as_str());
        assert!(forced_error, "no error vector with kind {k} given");
    }
}

#[test]
fn oversized_errors_are_short() {
    let e = normalize(&"é".repeat(3000), None).unwrap_err();
    assert!(e.message().contains("too long"), "{e}");
    assert!(e.message().len() < 200, "{e}");
    assert!(e.value().unwrap().len() <= 64);
    // The limit itself is fine.
    let url = format!("http://evil.com/{}", "a".repeat(iocmatch::observable::MAX_LEN - 16));
    assert_eq!(url.len(), iocmatch::observable::MAX_LEN);
    assert_eq!(normalize(&url, None).unwrap().value, url);
    assert!(normalize(&format!("{url}a"), None).is_err());
}

fn check_idempotent(input: &str) -> Result<Observable, TestCaseError> {
    let first = normalize(input, None).map_err(|e| TestCaseError::fail(format!("{input:?}: {e}")))?;
    let second = normalize(&first.value, None).map_err(|e| TestCaseError::fail(format!("{first:?}: {e}")))?;
    prop_assert_eq!(&second, &first);
    let forced = normalize(&first.value, Some(first.kind)).map_err(|e| TestCaseError::fail(format!("{e}")))?;
    prop_assert_eq!(&forced, &first);
    Ok(first)
}

fn domain_strategy() -> impl Strategy<Value = String> {
    let ascii = "[a-z0-9]([a-z0-9_-]{0,10}[a-z0-9])?".prop_filter("not punycode", |l| !l.starts_with("xn--"));
    let idn = prop::sample::select(vec!["bücher", "münchen", "пример", "例え", "straße", "ελλάδα"]);
    let label = prop_oneof![4 => ascii, 1 => idn.prop_map(str::to_owned)];
    let tld = prop_oneof!["[a-z]{2,6}", Just("рф".to_owned()), Just("xn--p1ai".to_owned())];
    (prop::collection::vec(label, 1..4), tld, any::<bool>(), any::<u64>()).prop_map(|(labels, tld, dot, case)| {
        let mut d = labels.join(".");
        d.push('.');
        d.push_str(&tld);
        if dot {
            d.push('.');
        }
        // Upper-case some ASCII letters.
        d.chars().enumerate().map(|(i, c)| if case >> (i % 64) & 1 == 1 { c.to_ascii_uppercase() } else { c }).collect()
    })
}

/// Whether `s` contains something [`refang`] rewrites.
fn has_marker(s: &str) -> bool {
    let l = s.to_ascii_lowercase();
    let inner = [".", "dot", "@", "at", ":", "://", "/"];
    let brackets = [("[", "]"), ("(", ")"), ("{", "}")];
    brackets.iter().any(|(o, c)| inner.iter().any(|i| l.contains(&format!("{o}{i}{c}"))))
        || l.contains("hxxp")
        || l.contains("fxp")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn ipv4_idempotent(a in any::<[u8; 4]>()) {
        let s = Ipv4Addr::from(a).to_string();
        let o = check_idempotent(&s)?;
        prop_assert_eq!(o.kind, Kind::Ipv4);
        prop_assert_eq!(o.value, s);
    }

    #[test]
    fn ipv6_idempotent(a in any::<[u16; 8]>(), upper in any::<bool>(), full in any::<bool>()) {
        let addr = Ipv6Addr::from(a);
        let s = if full {
            a.iter().map(|g| format!("{g:04x}")).collect::<Vec<_>>().join(":")
        } else {
            addr.to_string()
        };
        let s = if upper { s.to_uppercase() } else { s };
        let o = check_idempotent(&s)?;
        match addr.to_ipv4_mapped() {
            Some(v4) => prop_assert_eq!(o.value, v4.to_string()),
            None => {
                prop_assert_eq!(o.kind, Kind::Ipv6);
                prop_assert_eq!(o.value, addr.to_string());
            }
        }
    }

    #[test]
    fn cidr_idempotent(a in any::<[u8; 4]>(), p in 0u8..=32, b in any::<[u16; 8]>(), q in 0u8..=128) {
        let v4 = check_idempotent(&format!("{}/{p}", Ipv4Addr::from(a)))?;
        prop_assert_eq!(v4.kind, if p == 32 { Kind::Ipv4 } else { Kind::Cidr });
        let v6 = check_idempotent(&format!("{}/{q}", Ipv6Addr::from(b)))?;
        prop_assert!(matches!(v6.kind, Kind::Cidr | Kind::Ipv6 | Kind::Ipv4));
    }

    #[test]
    fn hex_hash_idempotent(len in prop::sample::select(vec![32usize, 40, 64, 128]), seed in "[0-9a-fA-F]{128}") {
        let s = &seed[..len];
        let o = check_idempotent(s)?;
        let want = match len { 32 => Kind::Md5, 40 => Kind::Sha1, 64 => Kind::Sha256, _ => Kind::Sha512 };
        prop_assert_eq!(o.kind, want);
        prop_assert_eq!(o.value, s.to_ascii_lowercase());
    }

    #[test]
    fn domain_idempotent(d in domain_strategy()) {
        let o = check_idempotent(&d)?;
        prop_assert_eq!(o.kind, Kind::Domain);
        prop_assert!(o.value.is_ascii() && !o.value.ends_with('.'));
        prop_assert_eq!(o.value.clone(), o.value.to_ascii_lowercase());
    }

    #[test]
    fn refang_without_markers_is_borrowed(s in "[^\\[({xX]*") {
        let r = refang(&s);
        prop_assert!(matches!(r, Cow::Borrowed(_)));
        prop_assert_eq!(r.as_ref(), s.as_str());
    }

    #[test]
    fn refang_without_markers_is_unchanged(s in "[a-zA-Z0-9.:/@\\[\\](){} ]{0,40}".prop_filter("markers", |s| !has_marker(s))) {
        let r = refang(&s);
        prop_assert_eq!(r.as_ref(), s.as_str());
    }

    #[test]
    fn never_panics_on_strings(s in ".*") {
        exercise(&s);
    }

    #[test]
    fn never_panics_on_bytes(b in prop::collection::vec(any::<u8>(), 0..300)) {
        exercise(&String::from_utf8_lossy(&b));
    }

    #[test]
    fn never_panics_on_near_misses(s in "[0-9a-fA-FxX.:/\\[\\]()@%,;*=_ -]{0,60}") {
        exercise(&s);
    }
}

/// Run every entry point; only panics matter.
fn exercise(s: &str) {
    let _ = normalize(s, None);
    let _ = parse_indicator(s, None);
    let _ = refang(s);
    for k in Kind::ALL {
        let _ = normalize(s, Some(k));
        let _ = parse_indicator(s, Some(k));
    }
    if let Ok(v) = parse_indicator(s, None) {
        assert!(IndicatorValue::from_stored(&v.key(), v.kinds_mask()).is_some(), "{s:?} -> {v:?}");
    }
}
