//! Classification losses: finite-difference gradients, the properties that
//! tie them together, and stability at extreme logits. Golden values from
//! torch are checked in `tests/golden_cls.rs`.

use detloss::losses::cls::{ClsLoss, ClsLossSpec, LogitLoss, RowLoss, Target};
use proptest::prelude::*;

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * (1.0 + a.abs().max(b.abs()))
}

const LOGIT_SPECS: &[&str] = &[
    "bce",
    "bce(pos_weight=3)",
    "focal",
    "focal(alpha=-1, gamma=0.5)",
    "focal(alpha=0.75, gamma=5)",
    "qfl",
    "qfl(beta=1.5)",
    "vfl",
    "vfl(iou_weighted=0)",
    "logistic",
    "hinge",
    "exponential",
];

#[test]
fn per_logit_gradients_match_finite_differences() {
    let mut checked = 0;
    for text in LOGIT_SPECS {
        let spec = ClsLossSpec::parse(text).unwrap();
        for i in 0..400 {
            let x = -8.0 + 16.0 * ((i as f64) * 0.618_033_988_75).fract();
            for y in [0.0, 1.0, 0.3, 0.85] {
                // Away from the hinge kink and from |σ − y| = 0 (the |·|^β kink for β < 2).
                if (text.starts_with("hinge") && ((2.0 * y - 1.0) * x - 1.0).abs() < 1e-3)
                    || (text.starts_with("qfl") && (1.0 / (1.0 + (-x).exp()) - y).abs() < 1e-3)
                    || (text.starts_with("hinge")
                        || text.starts_with("logistic")
                        || text.starts_with("exponential"))
                        && y != 0.0
                        && y != 1.0
                {
                    continue;
                }
                let mut g = [0.0];
                spec.sample(&[x], Target::Prob(y), &mut g).unwrap();
                let h = 1e-6;
                let f = |x: f64| spec.sample(&[x], Target::Prob(y), &mut [0.0]).unwrap();
                let fd = (f(x + h) - f(x - h)) / (2.0 * h);
                assert!(
                    close(g[0], fd, 1e-6),
                    "{text} x {x} y {y}: {} vs fd {fd}",
                    g[0]
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 10_000, "{checked}");
}

fn row_fd(loss: &RowLoss, s: &[f64], t: Target<'_, f64>) {
    let mut g = vec![0.0; s.len()];
    loss.eval(s, t, &mut g).unwrap();
    for k in 0..s.len() {
        let (mut a, mut b) = (s.to_vec(), s.to_vec());
        a[k] += 1e-6;
        b[k] -= 1e-6;
        let mut scratch = vec![0.0; s.len()];
        let fd = (loss.eval(&a, t, &mut scratch).unwrap()
            - loss.eval(&b, t, &mut scratch).unwrap())
            / 2e-6;
        assert!(close(g[k], fd, 1e-6), "{loss:?} ∂{k}: {} vs fd {fd}", g[k]);
    }
}

#[test]
fn row_gradients_match_finite_differences() {
    let row = |seed: usize, n: usize| -> Vec<f64> {
        (0..n)
            .map(|k| 4.0 * (((seed * 31 + k * 7) as f64) * 0.754_877_666).fract() - 2.0)
            .collect()
    };
    for seed in 0..200 {
        let s = row(seed, 6);
        let t = row(seed + 1000, 6);
        let y = (seed % 6) as i64;
        row_fd(
            &RowLoss::Ce {
                label_smoothing: 0.0,
                ignore_index: -100,
                weight: vec![],
            },
            &s,
            Target::Class(y),
        );
        row_fd(
            &RowLoss::Ce {
                label_smoothing: 0.1,
                ignore_index: -100,
                weight: vec![0.5, 1.0, 1.5, 2.0, 0.7, 1.2],
            },
            &s,
            Target::Class(y),
        );
        row_fd(
            &RowLoss::Kd {
                t: 4.0,
                mean_over_classes: false,
            },
            &s,
            Target::Teacher(&t),
        );
        row_fd(
            &RowLoss::Kd {
                t: 10.0,
                mean_over_classes: true,
            },
            &s,
            Target::Teacher(&t),
        );
        row_fd(
            &RowLoss::Dfl { reg_max: 5 },
            &s,
            Target::Position(0.37 + (seed % 45) as f64 * 0.1),
        );
        // Crammer–Singer: away from the kink and from ties.
        let best = (0..6)
            .filter(|&k| k != y as usize)
            .map(|k| s[k])
            .fold(f64::MIN, f64::max);
        if (1.0 + best - s[y as usize]).abs() > 1e-3 {
            row_fd(&RowLoss::Hinge, &s, Target::Class(y));
        }
    }
}

#[test]
fn ignored_rows_cost_nothing() {
    let mut g = [1.0; 3];
    let l = RowLoss::Ce {
        label_smoothing: 0.1,
        ignore_index: -100,
        weight: vec![],
    }
    .eval(&[1.0, 2.0, 3.0], Target::Class(-100), &mut g)
    .unwrap();
    assert_eq!((l, g), (0.0, [0.0; 3]));
}

#[test]
fn finite_at_extreme_logits_in_f32_and_f64() {
    for text in LOGIT_SPECS {
        let spec = ClsLossSpec::parse(text).unwrap();
        for x in [-1e4, -80.0, -30.0, 0.0, 30.0, 80.0, 1e4] {
            for y in [0.0, 0.5, 1.0] {
                let mut g = [0.0f64];
                let v = spec.sample(&[x], Target::Prob(y), &mut g).unwrap();
                assert!(
                    v.is_finite() && g[0].is_finite(),
                    "{text} f64 x {x} y {y}: {v} {g:?}"
                );
                let mut g = [0.0f32];
                let v = spec
                    .sample(&[x as f32], Target::Prob(y as f32), &mut g)
                    .unwrap();
                assert!(
                    v.is_finite() && g[0].is_finite(),
                    "{text} f32 x {x} y {y}: {v} {g:?}"
                );
            }
        }
    }
    for s in [[1e4f64, -1e4, 0.0], [80.0, -80.0, 30.0]] {
        let mut g = [0.0; 3];
        for loss in [
            RowLoss::Ce {
                label_smoothing: 0.1,
                ignore_index: -100,
                weight: vec![],
            },
            RowLoss::Dfl { reg_max: 2 },
        ] {
            let t = if matches!(loss, RowLoss::Dfl { .. }) {
                Target::Position(1.5)
            } else {
                Target::Class(1)
            };
            let v = loss.eval(&s, t, &mut g).unwrap();
            assert!(v.is_finite() && g.iter().all(|x| x.is_finite()), "{loss:?}");
        }
        let v = RowLoss::Kd {
            t: 4.0,
            mean_over_classes: false,
        }
        .eval(&s, Target::Teacher(&[-1e4, 1e4, 0.0]), &mut g)
        .unwrap();
        assert!(v.is_finite() && g.iter().all(|x| x.is_finite()));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn focal_with_gamma_zero_and_alpha_off_is_bce(x in -50.0..50.0f64, y in 0.0..=1.0f64) {
        let (a, da) = LogitLoss::Focal { alpha: -1.0, gamma: 0.0 }.eval(x, y);
        let (b, db) = LogitLoss::Bce { pos_weight: 1.0 }.eval(x, y);
        prop_assert!(close(a, b, 1e-14) && close(da, db, 1e-14));
    }

    #[test]
    fn qfl_with_binary_targets_and_beta_zero_is_bce(x in -50.0..50.0f64, positive in any::<bool>()) {
        let y = if positive { 1.0 } else { 0.0 };
        let (a, da) = LogitLoss::Qfl { beta: 0.0 }.eval(x, y);
        let (b, db) = LogitLoss::Bce { pos_weight: 1.0 }.eval(x, y);
        prop_assert!(close(a, b, 1e-14) && close(da, db, 1e-14));
    }

    #[test]
    fn kl_is_non_negative_and_zero_only_at_agreement(s in prop::collection::vec(-10.0..10.0f64, 5), t in prop::collection::vec(-10.0..10.0f64, 5), temp in 0.5..8.0f64) {
        let kd = RowLoss::Kd { t: temp, mean_over_classes: false };
        let mut g = vec![0.0; 5];
        let v = kd.eval(&s, Target::Teacher(&t), &mut g).unwrap();
        prop_assert!(v >= -1e-12, "{v}");
        let same = kd.eval(&s, Target::Teacher(&s), &mut g).unwrap();
        prop_assert!(same.abs() < 1e-12 && g.iter().all(|x| x.abs() < 1e-12));
        // Shifting all teacher logits leaves the distribution unchanged.
        let shifted: Vec<f64> = s.iter().map(|v| v + 3.0).collect();
        prop_assert!(kd.eval(&s, Target::Teacher(&shifted), &mut g).unwrap().abs() < 1e-9);
        let spread = t.iter().zip(&s).map(|(a, b)| (a - b) - (t[0] - s[0])).fold(0.0f64, |m, d| m.max(d.abs()));
        if spread > 1e-3 {
            prop_assert!(v > 0.0);
        }
    }

    #[test]
    fn hinge_and_exponential_bound_the_zero_one_loss(x in -20.0..20.0f64, positive in any::<bool>()) {
        let y = if positive { 1.0 } else { 0.0 };
        let margin = (2.0 * y - 1.0) * x;
        let zero_one = if margin <= 0.0 { 1.0 } else { 0.0 };
        prop_assert!(LogitLoss::Hinge.eval(x, y).0 >= zero_one);
        prop_assert!(LogitLoss::Exponential.eval(x, y).0 >= zero_one);
    }
}
