//! Training on a data set with a damaged shard: it is skipped from the damage
//! on, epoch after epoch, and the user is told once.

mod common;

use common::*;

#[test]
fn a_damaged_shard_warns_once_however_many_epochs() {
    let _guard = RENDER.lock().unwrap_or_else(|p| p.into_inner());
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("d");
    let d = data.to_str().expect("utf8");
    let o = synthfeat(&[
        "generate",
        "--out",
        d,
        "--count",
        "12",
        "--size",
        "32",
        "--views",
        "2",
        "--shard-size",
        "4",
        "--seed",
        "5",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let shard = data.join("shard-000001.tar");
    let bytes = std::fs::read(&shard).expect("shard");
    std::fs::write(&shard, &bytes[..bytes.len() / 2]).expect("truncate");
    let run = tmp.path().join("r");
    // 8 good samples at most, batches of 2, 24 steps: several epochs.
    let o = synthfeat(&[
        "train",
        "--data",
        d,
        "--out",
        run.to_str().expect("utf8"),
        "--size",
        "32",
        "--batch",
        "2",
        "--steps",
        "24",
        "--width",
        "4",
        "--val-percent",
        "0",
        "--val-every",
        "24",
    ]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    let warnings = err.matches("skipping the rest of a damaged shard").count();
    assert_eq!(
        warnings, 1,
        "one warning for the shard, not one per epoch: {err}"
    );
    assert!(
        err.contains("shard-000001.tar"),
        "the warning names the shard: {err}"
    );
}
