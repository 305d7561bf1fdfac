//! The CI regression gate: `configs/ci.toml` checked against the committed
//! `configs/baselines/ci.json`. Any change that moves a number — a loss
//! formula, a dataset, the matching — fails here (and so fails `.ci/run`),
//! with a table of the metrics that moved.

use std::path::Path;

mod common;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn detloss(args: &[&str]) -> (i32, String, String) {
    common::detloss(args, Path::new(ROOT))
}

#[test]
fn ci_config_matches_the_committed_baseline() {
    common::shared_data();
    let out = tempfile::tempdir().unwrap();
    let (code, _, err) = detloss(&[
        "--config",
        "configs/ci.toml",
        "--out",
        out.path().to_str().unwrap(),
        "--check",
    ]);
    assert_eq!(code, 0, "the CI baseline check failed:\n{err}");
    let check = std::fs::read_to_string(out.path().join("ci/check.md")).unwrap();
    assert!(check.contains(", 0 failing."), "{check}");
}

#[test]
fn a_tampered_baseline_fails_with_a_readable_diff() {
    common::shared_data();
    let dir = tempfile::tempdir().unwrap();
    let mut doc: serde_json::Value = serde_json::from_slice(
        &std::fs::read(Path::new(ROOT).join("configs/baselines/ci.json")).unwrap(),
    )
    .unwrap();
    // Pretend the baseline's GIoU mean on coco-val2014-100 was 1 % lower, and
    // its AP one ulp higher.
    let table = doc["loss_tables"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|t| t["dataset"] == "coco-val2014-100")
        .unwrap();
    let giou = table["box_losses"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|r| r["spec"] == "giou(variant=torchvision)")
        .unwrap();
    let mean = giou["mean"].as_f64().unwrap();
    giou["mean"] = serde_json::json!(mean * 0.99);
    let ap = table["evaluation"]["stats"][0].as_f64().unwrap();
    table["evaluation"]["stats"][0] = serde_json::json!(f64::from_bits(ap.to_bits() + 1));
    let tampered = dir.path().join("tampered.json");
    std::fs::write(&tampered, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();

    let out = dir.path().join("out");
    let (code, _, err) = detloss(&[
        "--config",
        "configs/ci.toml",
        "--out",
        out.to_str().unwrap(),
        "--check",
        tampered.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("check failed: 2 metrics differ from the baseline"),
        "{err}"
    );
    assert!(
        err.contains("loss_tables[coco-val2014-100].box_losses[giou(variant=torchvision)].mean"),
        "{err}"
    );
    assert!(
        err.contains("loss_tables[coco-val2014-100].evaluation.stats[0]"),
        "{err}"
    );
    assert!(
        err.contains(&format!("{}", mean * 0.99)) && err.contains(&format!("{mean}")),
        "{err}"
    );
    assert!(
        err.contains("MOVED") && err.contains("exact") && err.contains("rel 1e-9"),
        "{err}"
    );
    let md = std::fs::read_to_string(out.join("ci/check.md")).unwrap();
    assert!(
        md.contains("## Failing metrics") && md.contains("2 failing"),
        "{md}"
    );
}

#[test]
fn blessing_writes_a_baseline_that_then_passes() {
    common::shared_data();
    let dir = tempfile::tempdir().unwrap();
    let baseline = dir.path().join("b.json");
    let out = dir.path().join("out");
    let b = baseline.to_str().unwrap();
    let o = out.to_str().unwrap();
    let (code, _, err) = detloss(&[
        "--config",
        "configs/ci.toml",
        "--out",
        o,
        "--check",
        b,
        "-q",
    ]);
    assert_eq!(code, 2, "a missing baseline is an input error: {err}");
    assert!(
        err.contains("cannot read the baseline") && err.contains("--bless"),
        "{err}"
    );
    let (code, _, err) = detloss(&[
        "--config",
        "configs/ci.toml",
        "--out",
        o,
        "--check",
        b,
        "--bless",
        "-q",
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = detloss(&[
        "--config",
        "configs/ci.toml",
        "--out",
        o,
        "--check",
        b,
        "-q",
    ]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn two_runs_write_byte_identical_results_and_json_output_matches() {
    common::shared_data();
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for k in 0..2 {
        let out = dir.path().join(format!("run{k}"));
        let (code, stdout, err) = detloss(&[
            "--config",
            "configs/ci.toml",
            "--out",
            out.to_str().unwrap(),
            "--format",
            "json",
            "-j",
            "2",
        ]);
        assert_eq!(code, 0, "{err}");
        let file = std::fs::read(out.join("ci/results.json")).unwrap();
        assert_eq!(
            stdout.as_bytes(),
            &file[..],
            "--format json prints results.json"
        );
        files.push(file);
    }
    assert_eq!(files[0], files[1]);
}
