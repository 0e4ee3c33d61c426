//! A process killed with SIGKILL in the middle of a large import leaves the store holding the
//! whole import or none of it, plus everything acknowledged before. Real child processes.

use iocmatch::{IndicatorQuery, Store};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_iocmatch");
const BIG: usize = 150_000;

fn iocmatch(db: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN).arg("--db").arg(db).args(args).output().unwrap()
}

fn setup(db: &Path, small: &Path) {
    assert!(iocmatch(db, &["collection", "create", "feed"]).status.success());
    let out = iocmatch(db, &["import", "text", "feed", small.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn count(db: &Path) -> u64 {
    Store::open(db).unwrap().indicators("feed", &IndicatorQuery::default()).unwrap().total
}

#[test]
fn sigkill_mid_import_loses_nothing_acknowledged_and_leaves_no_half_import() {
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small.txt");
    let big = dir.path().join("big.txt");
    std::fs::write(&small, (0..1000).map(|i| format!("acked-{i}.example\n")).collect::<String>()).unwrap();
    std::fs::write(&big, (0..BIG).map(|i| format!("bulk-{i}.example\n")).collect::<String>()).unwrap();

    // How long does a whole import take here?
    let probe = dir.path().join("probe.db");
    setup(&probe, &small);
    let t = Instant::now();
    assert!(iocmatch(&probe, &["import", "text", "feed", big.to_str().unwrap()]).status.success());
    let full = t.elapsed();
    assert_eq!(count(&probe), 1000 + BIG as u64);

    let mut killed_mid_way = 0;
    for (n, frac) in [0.15, 0.35, 0.55, 0.7, 0.8, 0.9, 0.97].into_iter().enumerate() {
        let db = dir.path().join(format!("s{n}.db"));
        setup(&db, &small);
        let mut child = Command::new(BIN)
            .arg("--db")
            .arg(&db)
            .args(["import", "text", "feed", big.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(full.mul_f64(frac));
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        let c = count(&db);
        assert!(c == 1000 || c == 1000 + BIG as u64, "kill at {frac} of {full:?}: store holds {c} indicators");
        // Killed before its commit: nothing of it may remain. (A kill after the commit, while the
        // process is closing, rightly leaves the whole import.)
        if !status.success() && c == 1000 {
            killed_mid_way += 1;
        }
        // the store is usable after the crash
        let out = iocmatch(&db, &["import", "text", "feed", small.to_str().unwrap(), "--json"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    assert!(killed_mid_way >= 2, "only {killed_mid_way} imports were killed before their commit (full run {full:?})");
}
