//! The DIoU authors' simulation gradients (`losses::authors`) and MATLAB's
//! random stream (`experiments::sampling`) against an
//! independent literal port of the authors' MATLAB code,
//! `scripts/diou_authors_reference.py`, which wrote
//! `tests/golden/diou_authors.json`.

use detloss::experiments::sampling::{MatlabRand, disk_points};
use detloss::losses::authors::AuthorsLoss;
use serde_json::Value;

fn golden() -> Value {
    let text = include_str!("golden/diou_authors.json");
    serde_json::from_str(text).expect("tests/golden/diou_authors.json")
}

fn arr4(v: &Value) -> [f64; 4] {
    std::array::from_fn(|i| v[i].as_f64().expect("number"))
}

#[test]
fn matlab_rng_default_stream_and_the_authors_centres() {
    let g = golden();
    let mut r = MatlabRand::new(5489);
    for (k, want) in g["matlab_rng_default_first_draws"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        assert_eq!(r.uniform(), want.as_f64().unwrap(), "draw {k}");
    }
    // MATLAB's documented first values of `rng default; rand(1, 3)`.
    let mut r = MatlabRand::new(5489);
    for want in [0.8147, 0.9058, 0.1270] {
        assert!((r.uniform() - want).abs() < 5e-5);
    }
    let pts = disk_points(5000, 3.0, [10.0, 10.0], 5489);
    for (i, want) in g["centres"].as_object().unwrap() {
        let i: usize = i.parse().unwrap();
        let got = pts[i - 1];
        let want = [want[0].as_f64().unwrap(), want[1].as_f64().unwrap()];
        for k in 0..2 {
            assert!(
                (got[k] - want[k]).abs() < 1e-13,
                "centre {i}: {got:?} vs {want:?}"
            );
        }
    }
}

#[test]
fn gradients_and_trajectories_match_the_literal_port() {
    let g = golden();
    let cases = g["cases"].as_array().unwrap();
    assert!(cases.len() >= 100, "{}", cases.len());
    let mut fragile = 0;
    for c in cases {
        let loss = AuthorsLoss::parse(c["loss"].as_str().unwrap()).unwrap();
        let (pred, target) = (arr4(&c["pred"]), arr4(&c["target"]));
        let what = format!("{} / {}", c["case"], c["loss"]);
        let (iou, d) = loss.step(pred, target);
        assert!((iou - c["iou"].as_f64().unwrap()).abs() < 1e-15, "{what}");
        let want = arr4(&c["grad"]);
        for k in 0..4 {
            // step() returns minus the similarity gradient the MATLAB returns.
            assert!(
                (-d[k] - want[k]).abs() <= 1e-12 * want[k].abs().max(1.0),
                "{what}: component {k}: {} vs {}",
                -d[k],
                want[k]
            );
        }
        // 200 steps of the update, as the simulation's engine runs it.
        let mut b = pred;
        for t in 1..=200 {
            let eta = if t <= 160 {
                0.1
            } else if t <= 180 {
                0.01
            } else {
                0.001
            };
            let (iou, d) = loss.step(b, target);
            let k = eta * (2.0 - iou);
            for j in 0..4 {
                b[j] -= k * d[j];
            }
        }
        let want = arr4(&c["final"]);
        let off = (0..4).map(|j| (b[j] - want[j]).abs()).fold(0.0, f64::max);
        // GIoU without overlap follows a near-chaotic path (the unclamped
        // intersection), where a last-bit difference in libm can grow: those
        // cases are counted, not failed, and must stay rare.
        if off > 1e-9 {
            assert_eq!(loss, AuthorsLoss::Giou, "{what}: final {b:?} vs {want:?}");
            fragile += 1;
        }
    }
    assert!(fragile <= 2, "{fragile} GIoU cases drifted from the port");
}
