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

use detloss::losses::{BoxLoss, BoxLossSpec};
use serde_json::Value;
use std::sync::OnceLock;

fn load(name: &str) -> Value {
    let path = format!("{}/tests/golden/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))).unwrap()
}

fn golden() -> &'static Value {
    static GOLDEN: OnceLock<Value> = OnceLock::new();
    GOLDEN.get_or_init(|| load("box_recent.json"))
}

fn pairs() -> &'static Value {
    static PAIRS: OnceLock<Value> = OnceLock::new();
    PAIRS.get_or_init(|| load("box_pairs.json"))
}

fn rows<const N: usize>(v: &Value) -> Vec<[f64; N]> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|b| std::array::from_fn(|k| b[k].as_f64().unwrap()))
        .collect()
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1.0)
}

fn parse(spec: &str) -> BoxLossSpec {
    BoxLossSpec::parse(spec, None).unwrap_or_else(|e| panic!("{spec}: {e}"))
}

/// Every case whose spec starts with `family(`.
fn check_family(family: &str) {
    let pairs = pairs();
    let pred: Vec<[f64; 4]> = rows(&pairs["pred"]);
    let target: Vec<[f64; 4]> = rows(&pairs["target"]);
    let n_random = pairs["n_random"].as_u64().unwrap() as usize;
    assert!(n_random >= 10_000);
    let skip: Vec<usize> = pairs["edge_cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["what"].as_str().unwrap().contains("inverted"))
        .map(|e| e["index"].as_u64().unwrap() as usize)
        .collect();
    let golden = golden();
    assert_eq!(golden["n_total"].as_u64().unwrap() as usize, pred.len());
    let image: Vec<[f64; 2]> = rows(&golden["image"]);
    assert_eq!(image.len(), pred.len());
    let cases: Vec<&Value> = golden["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["spec"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{family}("))
        })
        .collect();
    assert!(!cases.is_empty(), "no {family} case in box_recent.json");
    let mut failures = Vec::new();
    for case in cases {
        let spec_text = case["spec"].as_str().unwrap();
        let spec = parse(spec_text);
        let (mut compared, mut bad) = (0, 0);
        for i in 0..pred.len() {
            if skip.contains(&i) {
                continue;
            }
            let (v, g) = spec.pair_sized(pred[i], target[i], image[i]);
            let want_v = case["loss"][i].as_f64();
            let want_g = case["grad"][i]
                .as_array()
                .map(|a| -> Vec<f64> { a.iter().map(|x| x.as_f64().unwrap()).collect() });
            assert!(
                v.is_finite() && g.iter().all(|x| x.is_finite()),
                "{spec_text} row {i} {:?} vs {:?}: not finite ({v}, {g:?})",
                pred[i],
                target[i]
            );
            let mut ok = want_v.is_none_or(|w| close(v, w, 1e-12));
            if let Some(wg) = &want_g {
                ok &= (0..4).all(|k| close(g[k], wg[k], 1e-9));
            }
            compared += 1;
            if !ok {
                bad += 1;
                if failures.len() < 12 {
                    failures.push(format!(
                        "{spec_text} row {i} {:?} vs {:?} image {:?}: loss {v} want {want_v:?}; grad {g:?} want {want_g:?}",
                        pred[i], target[i], image[i]
                    ));
                }
            }
        }
        assert!(compared >= 10_000, "{spec_text}: only {compared} rows");
        if bad > 0 {
            failures.push(format!("{spec_text}: {bad} of {compared} rows differ"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
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
