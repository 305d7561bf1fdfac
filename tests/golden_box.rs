//! Box losses against golden values from torch/torchvision (autograd, f64),
//! written by `scripts/make_golden.sh` into `tests/golden/`: torchvision
//! 0.29.2's own functions, and mmdet 3.3.0 / ultralytics 8.4 formulas written
//! out in torch (cross-checked against the packages' source by the script).
//!
//! Values must agree to 1e-12 relative, gradients to 1e-9, on 10,000 random
//! pairs and the edge cases. Where the library gives NaN (null in the file)
//! detloss must give a finite number instead; inverted boxes are skipped,
//! because detloss sorts corners where the libraries let negative areas flow.

use detloss::losses::{BoxLoss, BoxLossSpec};
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = format!("{}/tests/golden/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))).unwrap()
}

fn boxes(v: &Value) -> Vec<[f64; 4]> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|b| std::array::from_fn(|k| b[k].as_f64().unwrap()))
        .collect()
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1.0)
}

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
    let pairs = load("box_pairs.json");
    let pred = boxes(&pairs["pred"]);
    let target = boxes(&pairs["target"]);
    let n_random = pairs["n_random"].as_u64().unwrap() as usize;
    assert!(n_random >= 10_000);
    let skip: Vec<usize> = pairs["edge_cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["what"].as_str().unwrap().contains("inverted"))
        .map(|e| e["index"].as_u64().unwrap() as usize)
        .collect();
    let golden = load(file);
    let mut failures = Vec::new();
    for case in golden["cases"].as_array().unwrap() {
        let spec_text = spec_of(case);
        let spec = BoxLossSpec::parse(&spec_text, None).unwrap();
        let (mut compared, mut bad) = (0, 0);
        for i in 0..pred.len() {
            if skip.contains(&i) {
                continue;
            }
            let (v, g) = spec.pair(pred[i], target[i]);
            let want_v = case["loss"][i].as_f64();
            let want_g = case["grad"][i]
                .as_array()
                .map(|a| -> Vec<f64> { a.iter().map(|x| x.as_f64().unwrap()).collect() });
            assert!(
                v.is_finite() && g.iter().all(|x| x.is_finite()),
                "{spec_text} row {i}: not finite"
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
                        "{spec_text} row {i} {:?} vs {:?}: loss {v} want {want_v:?}; grad {g:?} want {want_g:?}",
                        pred[i], target[i]
                    ));
                }
            }
        }
        assert!(compared >= n_random, "{spec_text}");
        if bad > 0 {
            failures.push(format!("{spec_text}: {bad} of {compared} rows differ"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
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
