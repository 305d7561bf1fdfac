//! Classification losses against golden values from torch/torchvision
//! (autograd, f64), written by `scripts/golden_cls_losses.py` into
//! `tests/golden/cls_*.json`: torchvision's `sigmoid_focal_loss`, PyTorch's
//! `binary_cross_entropy_with_logits`, `cross_entropy`, `kl_div` and
//! `soft_margin_loss`, and mmdet 3.3's QFL, VFL, KD and DFL formulas
//! (cross-checked against mmdet's own source by the script).
//!
//! Values to 1e-12 and gradients to 1e-9, relative with an absolute floor of
//! 1 (torch's BCE-with-logits has ~1e-16·|x| absolute error at large |x|).
//! Where torch gives NaN or Inf (null in the file), detloss must be finite.

use detloss::losses::cls::{LogitLoss, RowLoss, Target};
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = format!("{}/tests/golden/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))).unwrap()
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1.0)
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn logit_loss(case: &Value) -> LogitLoss {
    let p = &case["params"];
    let f = |k: &str, d: f64| p[k].as_f64().unwrap_or(d);
    match case["name"].as_str().unwrap() {
        "bce" => LogitLoss::Bce {
            pos_weight: f("pos_weight", 1.0),
        },
        "focal" => LogitLoss::Focal {
            alpha: f("alpha", 0.25),
            gamma: f("gamma", 2.0),
        },
        "qfl" => LogitLoss::Qfl {
            beta: f("beta", 2.0),
        },
        "vfl" => LogitLoss::Vfl {
            alpha: f("alpha", 0.75),
            gamma: f("gamma", 2.0),
            iou_weighted: p["iou_weighted"].as_bool().unwrap_or(true),
        },
        "logistic" => LogitLoss::Logistic,
        "hinge" => LogitLoss::Hinge,
        "exponential" => LogitLoss::Exponential,
        other => panic!("no loss for golden case {other}"),
    }
}

#[test]
fn per_logit_losses() {
    let g = load("cls_elementwise.json");
    let x = floats(&g["logits"]);
    let binary = floats(&g["target_binary"]);
    let soft = floats(&g["target_soft"]);
    let mut failures = Vec::new();
    for case in g["cases"].as_array().unwrap() {
        let loss = logit_loss(case);
        let y = if case["target"] == "soft" {
            &soft
        } else {
            &binary
        };
        let mut bad = 0;
        for i in 0..x.len() {
            let (v, d) = loss.eval(x[i], y[i]);
            assert!(
                v.is_finite() && d.is_finite(),
                "{loss:?} at x {} y {}: {v} {d}",
                x[i],
                y[i]
            );
            let ok = case["loss"][i].as_f64().is_none_or(|w| close(v, w, 1e-12))
                && case["grad"][i].as_f64().is_none_or(|w| close(d, w, 1e-9));
            if !ok {
                bad += 1;
                if failures.len() < 10 {
                    failures.push(format!(
                        "{loss:?} x {} y {}: {v} {d} want {} {}",
                        x[i], y[i], case["loss"][i], case["grad"][i]
                    ));
                }
            }
        }
        if bad > 0 {
            failures.push(format!("{loss:?} ({}): {bad} rows differ", case["target"]));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn rows(v: &Value) -> Vec<Vec<f64>> {
    v.as_array().unwrap().iter().map(floats).collect()
}

#[test]
fn row_losses() {
    let g = load("cls_softmax.json");
    let logits = rows(&g["logits"]);
    let teacher = rows(&g["teacher_logits"]);
    let target: Vec<i64> = g["target"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    let dfl_logits = rows(&g["dfl_logits"]);
    let dfl_target = floats(&g["dfl_target"]);
    let mut failures = Vec::new();
    for case in g["cases"].as_array().unwrap() {
        let p = &case["params"];
        let (loss, inputs) = match case["name"].as_str().unwrap() {
            "ce" => (
                RowLoss::Ce {
                    label_smoothing: p["label_smoothing"].as_f64().unwrap(),
                    ignore_index: p["ignore_index"].as_i64().unwrap(),
                    weight: p.get("weight").map(floats).unwrap_or_default(),
                },
                &logits,
            ),
            "kd" => (
                RowLoss::Kd {
                    t: p["T"].as_f64().unwrap(),
                    mean_over_classes: p["form"] == "mmdet",
                },
                &logits,
            ),
            "dfl" => (
                RowLoss::Dfl {
                    reg_max: p["reg_max"].as_u64().unwrap() as usize,
                },
                &dfl_logits,
            ),
            other => panic!("no loss for golden case {other}"),
        };
        let mut bad = 0;
        for r in 0..inputs.len() {
            let s = &inputs[r];
            let t = match &loss {
                RowLoss::Kd { .. } => Target::Teacher(&teacher[r]),
                RowLoss::Dfl { .. } => Target::Position(dfl_target[r]),
                _ => Target::Class(target[r]),
            };
            let mut grad = vec![0.0; s.len()];
            let v = loss.eval(s, t, &mut grad).unwrap();
            let want_g = case["grad"][r]
                .as_array()
                .map(|a| floats(&Value::Array(a.clone())));
            let ok = case["loss"][r].as_f64().is_none_or(|w| close(v, w, 1e-12))
                && want_g
                    .as_ref()
                    .is_none_or(|w| w.iter().zip(&grad).all(|(a, b)| close(*a, *b, 1e-9)));
            if !ok {
                bad += 1;
                if failures.len() < 10 {
                    failures.push(format!(
                        "{loss:?} row {r}: {v} {grad:?} want {} {:?}",
                        case["loss"][r], want_g
                    ));
                }
            }
        }
        if bad > 0 {
            failures.push(format!(
                "{:?} {}: {bad} rows differ",
                case["name"], case["params"]
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
