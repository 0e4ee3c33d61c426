//! Feature detection: the harness measures raw-text scanning only when core has
//! `Matcher::scan_text_stream` (it sets `cfg(has_scan_text_stream)`).

use std::path::Path;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(has_scan_text_stream)");
    let matcher = Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/src/matcher");
    println!("cargo::rerun-if-changed={}", matcher.display());
    let mut found = false;
    if let Ok(dir) = std::fs::read_dir(&matcher) {
        for entry in dir.flatten() {
            println!("cargo::rerun-if-changed={}", entry.path().display());
            if std::fs::read_to_string(entry.path()).is_ok_and(|s| s.contains("pub fn scan_text_stream")) {
                found = true;
            }
        }
    }
    if found {
        println!("cargo::rustc-cfg=has_scan_text_stream");
    }
}
