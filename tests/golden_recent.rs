//! The newer box losses (Wise-IoU, MPDIoU, Inner-IoU, Shape-IoU, Focaler-IoU,
//! NWD) against golden values from torch (autograd, f64), written by
//! `scripts/golden_recent_losses.py` (run by `scripts/make_golden.sh`) into
//! `tests/golden/box_recent.json`: each loss transcribed from its authors'
//! code (the case's `source` names repository, file and commit), on the
//! inputs of `tests/golden/box_pairs.json` with one image size per row.
//!
//! Values must agree to 1e-12 relative, gradients to 1e-9, on 10,000 random
//! pairs and the edge cases. Where torch gives NaN (null in the file) detloss
//! must give a finite number instead; inverted boxes are skipped, because
//! detloss sorts corners where the authors' code lets negative areas flow.
//! Wise-IoU's running mean (train mode) is replayed separately.

mod common;

use common::golden::{BoxPairs, close, load, rows};
use detloss::losses::{BoxLoss, BoxLossSpec};
use serde_json::Value;
use std::sync::OnceLock;

fn golden() -> &'static Value {
    static GOLDEN: OnceLock<Value> = OnceLock::new();
    GOLDEN.get_or_init(|| load("box_recent.json"))
}

fn pairs() -> &'static Value {
    static PAIRS: OnceLock<Value> = OnceLock::new();
    PAIRS.get_or_init(|| load("box_pairs.json"))
}

fn parse(spec: &str) -> BoxLossSpec {
    BoxLossSpec::parse(spec, None).unwrap_or_else(|e| panic!("{spec}: {e}"))
}

/// Every case whose spec starts with `family(`.
fn check_family(family: &str) {
    let pairs = BoxPairs::load();
    let golden = golden();
    assert_eq!(
        golden["n_total"].as_u64().unwrap() as usize,
        pairs.pred.len()
    );
    let image: Vec<[f64; 2]> = rows(&golden["image"]);
    assert_eq!(image.len(), pairs.pred.len());
    let cases: Vec<(String, &Value)> = golden["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["spec"].as_str().unwrap().to_string(), c))
        .filter(|(s, _)| s.starts_with(&format!("{family}(")))
        .collect();
    assert!(!cases.is_empty(), "no {family} case in box_recent.json");
    pairs.check(cases, Some(&image));
}

#[test]
fn wiou() {
    check_family("wiou");
}

#[test]
fn mpdiou() {
    check_family("mpdiou");
}

#[test]
fn inner_iou() {
    check_family("inner_iou");
}

#[test]
fn shape_iou() {
    check_family("shape_iou");
}

#[test]
fn focaler_iou() {
    check_family("focaler_iou");
}

#[test]
fn nwd() {
    check_family("nwd");
}

/// The Wise-IoU authors' train-mode forward: per batch, first
/// mean ← (1 − m)·mean + m·mean(1 − IoU), then the v3 loss with that mean.
#[test]
fn wiou_running_mean() {
    let pairs = pairs();
    let pred: Vec<[f64; 4]> = rows(&pairs["pred"]);
    let target: Vec<[f64; 4]> = rows(&pairs["target"]);
    let golden = golden();
    let image: Vec<[f64; 2]> = rows(&golden["image"]);
    let run = &golden["wiou_running"];
    let m = run["momentum"].as_f64().unwrap();
    let mut mean = run["initial_mean"].as_f64().unwrap();
    assert_eq!(
        (run["alpha"].as_f64(), run["delta"].as_f64()),
        (Some(1.9), Some(3.0))
    );
    let batches = run["batches"].as_array().unwrap();
    assert_eq!(batches.len(), 5);
    for (k, b) in batches.iter().enumerate() {
        let (lo, hi) = (
            b[0].as_u64().unwrap() as usize,
            b[1].as_u64().unwrap() as usize,
        );
        let batch_mean = (lo..hi)
            .map(|i| 1.0 - detloss::losses::iou_family::iou(pred[i], target[i]))
            .sum::<f64>()
            / (hi - lo) as f64;
        mean = (1.0 - m) * mean + m * batch_mean;
        let want_mean = run["mean"][k].as_f64().unwrap();
        assert!(
            close(mean, want_mean, 1e-12),
            "batch {k}: mean {mean} want {want_mean}"
        );
        let spec = parse(&format!("wiou(version=3, mean={mean:?})"));
        let sum: f64 = (lo..hi)
            .map(|i| spec.pair_sized(pred[i], target[i], image[i]).0)
            .sum();
        let want_sum = run["loss_sum"][k].as_f64().unwrap();
        assert!(
            close(sum, want_sum, 1e-12),
            "batch {k}: loss sum {sum} want {want_sum}"
        );
    }
}

/// The experiments' descent keeps the same running mean: one step (η = 0,
/// so the boxes stay) per batch, the mean carried from call to call.
#[test]
fn descent_keeps_the_authors_running_mean() {
    use detloss::experiments::descent::{descend_loss, from_xyxy};
    let pairs = pairs();
    let pred: Vec<[f64; 4]> = rows(&pairs["pred"]);
    let target: Vec<[f64; 4]> = rows(&pairs["target"]);
    let run = &golden()["wiou_running"];
    let spec = parse("wiou(version=3, momentum=0.01)");
    assert_eq!(spec.running_mean(), run["momentum"].as_f64());
    let mut mean = run["initial_mean"].as_f64().unwrap();
    for (k, b) in run["batches"].as_array().unwrap().iter().enumerate() {
        let (lo, hi) = (
            b[0].as_u64().unwrap() as usize,
            b[1].as_u64().unwrap() as usize,
        );
        let mut boxes: Vec<_> = pred[lo..hi].iter().map(|p| from_xyxy(*p)).collect();
        let targets: Vec<_> = target[lo..hi].iter().map(|t| from_xyxy(*t)).collect();
        let before = boxes.clone();
        descend_loss(
            &spec,
            &mut boxes,
            &targets,
            None,
            None,
            &[0.0],
            Some(&mut mean),
        );
        assert_eq!(boxes, before);
        let want = run["mean"][k].as_f64().unwrap();
        // The centre form's round trip moves corners by an ulp.
        assert!(close(mean, want, 1e-12), "batch {k}: {mean} vs {want}");
    }
}

/// `detloss loss` passes each pair's image size to MPDIoU (and refuses to
/// run it without one).
#[test]
fn the_loss_command_gives_mpdiou_its_image_sizes() {
    let pairs = pairs();
    let golden = golden();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("pairs.json");
    let out = dir.path().join("out.json");
    let n = pairs["n_random"].as_u64().unwrap() as usize;
    let take = |v: &Value| Value::Array(v.as_array().unwrap()[..n].to_vec());
    let file = serde_json::json!({
        "pred": take(&pairs["pred"]),
        "target": take(&pairs["target"]),
        "image_size": take(&golden["image"]),
    });
    std::fs::write(&input, serde_json::to_vec(&file).unwrap()).unwrap();
    let run = |input: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_detloss"))
            .args(["loss", "--name", "mpdiou"])
            .arg("--input")
            .arg(input)
            .arg("--output")
            .arg(&out)
            .output()
            .unwrap()
    };
    assert!(run(&input).status.success());
    let got: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let case = golden["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["spec"] == "mpdiou(variant=ultralytics)")
        .unwrap();
    for i in 0..n {
        let (a, b) = (
            got["loss"][i].as_f64().unwrap(),
            case["loss"][i].as_f64().unwrap(),
        );
        assert!(close(a, b, 1e-12), "row {i}: {a} vs {b}");
    }
    let bare = dir.path().join("bare.json");
    std::fs::write(
        &bare,
        r#"{"pred": [[0, 0, 2, 2]], "target": [[1, 1, 3, 3]]}"#,
    )
    .unwrap();
    let o = run(&bare);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("image_size") && err.contains("mpdiou"),
        "{err}"
    );
}
