//! Box losses against golden values from torch/torchvision (autograd, f64),
//! written by `scripts/make_golden.sh` into `tests/golden/`: torchvision
//! 0.29.2's own functions, and mmdet 3.3.0 / ultralytics 8.4 formulas written
//! out in torch (cross-checked against the packages' source by the script).
//!
//! Values must agree to 1e-12 relative, gradients to 1e-9, on 10,000 random
//! pairs and the edge cases. Where the library gives NaN (null in the file)
//! detloss must give a finite number instead; inverted boxes are skipped,
//! because detloss sorts corners where the libraries let negative areas flow.

mod common;

use common::golden::{BoxPairs, close, load};
use serde_json::Value;

fn spec_of(case: &Value) -> String {
    let name = case["name"].as_str().unwrap();
    let variant = case["variant"].as_str().unwrap();
    let p = &case["params"];
    match name {
        "smooth_l1" => format!("smooth_l1(beta={})", p["beta"]),
        "huber" => format!("huber(delta={})", p["delta"]),
        "balanced_l1" => format!(
            "balanced_l1(alpha={}, gamma={}, beta={})",
            p["alpha"], p["gamma"], p["beta"]
        ),
        "l1" | "mse" => name.to_string(),
        _ => format!("{name}(variant={variant})"),
    }
}

fn check_family(file: &str) {
    let golden = load(file);
    let cases = golden["cases"].as_array().unwrap();
    BoxPairs::load().check(cases.iter().map(|c| (spec_of(c), c)), None);
}

#[test]
fn torchvision() {
    check_family("box_torchvision.json");
}

#[test]
fn mmdet() {
    check_family("box_mmdet.json");
}

#[test]
fn ultralytics() {
    check_family("box_ultralytics.json");
}

#[test]
fn elementwise() {
    check_family("box_elementwise.json");
}

#[test]
fn the_loss_command_reproduces_torchvision() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.json");
    let input = format!("{}/tests/golden/box_pairs.json", env!("CARGO_MANIFEST_DIR"));
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_detloss"))
        .args([
            "loss",
            "--name",
            "ciou",
            "--input",
            &input,
            "--output",
            out.to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let got: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let golden = load("box_torchvision.json");
    let case = golden["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "ciou")
        .unwrap();
    let n = load("box_pairs.json")["n_random"].as_u64().unwrap() as usize;
    for i in 0..n {
        let (a, b) = (
            got["loss"][i].as_f64().unwrap(),
            case["loss"][i].as_f64().unwrap(),
        );
        assert!(close(a, b, 1e-12), "row {i}: {a} vs {b}");
        for k in 0..4 {
            let (a, b) = (
                got["grad"][i][k].as_f64().unwrap(),
                case["grad"][i][k].as_f64().unwrap(),
            );
            assert!(close(a, b, 1e-9), "row {i} grad {k}: {a} vs {b}");
        }
    }
}
