//! Per-logit classification losses: one logit `x`, one target, value and
//! `∂loss/∂x`.
//!
//! σ is the logistic function; every loss is written with the stable
//! softplus `sp(z) = max(z, 0) + ln(1 + e^{−|z|})`, so that ln σ(x) = −sp(−x)
//! and ln(1 − σ(x)) = −sp(x) never overflow (logits up to ±1e4 and beyond).
//!
//! | loss | value | source |
//! |---|---|---|
//! | `bce(pos_weight)` | (1 − y)·x + (1 + (w − 1)·y)·sp(−x) | PyTorch `binary_cross_entropy_with_logits` |
//! | `focal(alpha, gamma)` | α_t·(1 − p_t)^γ·BCE(x, y), p_t = σy + (1 − σ)(1 − y), α_t = αy + (1 − α)(1 − y); α = −1 turns α_t off | Lin et al., arXiv 1708.02002; torchvision `sigmoid_focal_loss` |
//! | `qfl(beta)` | \|y − σ\|^β·BCE(x, y), y ∈ [0, 1] the quality (IoU) target | Li et al., arXiv 2006.04388 (GFL); mmdet `quality_focal_loss` |
//! | `vfl(alpha, gamma, iou_weighted)` | w·BCE(x, q), w = q (or 1) for q > 0, α·σ^γ for q = 0 | Zhang et al., arXiv 2008.13367 (VarifocalNet); mmdet `varifocal_loss` |
//! | `logistic` | sp(−s·x), s = 2y − 1 | PyTorch `soft_margin_loss` |
//! | `hinge` | max(0, 1 − s·x) | textbook; derivative 0 at the kink, as `clamp` |
//! | `exponential` | e^{−s·x}, saturating at the largest finite value | AdaBoost (Freund & Schapire) |
//!
//! No factor is detached: the modulating factors of focal, QFL and VFL carry
//! gradient, as in torchvision and mmdet 3.3 (checked by the golden tests).
//! Where a power `u^γ` with γ < 1 meets `u = 0` (a perfectly classified
//! sample), the derivative is its limit 0 rather than PyTorch's `inf·0 = NaN`.

use num_traits::Float;

use crate::losses::c;

/// The per-logit losses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LogitLoss {
    /// Binary cross-entropy with logits; `pos_weight` scales the positive term.
    Bce {
        /// Weight of the positive term (1: plain BCE).
        pos_weight: f64,
    },
    /// Sigmoid focal loss.
    Focal {
        /// α (−1: no α weighting).
        alpha: f64,
        /// γ.
        gamma: f64,
    },
    /// Quality focal loss.
    Qfl {
        /// β.
        beta: f64,
    },
    /// Varifocal loss.
    Vfl {
        /// α, the weight of negatives.
        alpha: f64,
        /// γ.
        gamma: f64,
        /// Weight positives by their target q (else by 1).
        iou_weighted: bool,
    },
    /// Logistic loss on the margin.
    Logistic,
    /// Hinge loss on the margin.
    Hinge,
    /// Exponential loss on the margin.
    Exponential,
}

/// `sp(z) = ln(1 + e^z)`, stable.
#[inline(always)]
pub fn softplus<T: Float>(z: T) -> T {
    z.max(T::zero()) + (-z.abs()).exp().ln_1p()
}

/// σ(z), stable for large |z|.
#[inline(always)]
pub fn sigmoid<T: Float>(z: T) -> T {
    if z >= T::zero() {
        T::one() / (T::one() + (-z).exp())
    } else {
        let e = z.exp();
        e / (T::one() + e)
    }
}

/// `(value, ∂/∂x)` of BCE with logits and a positive weight.
#[inline(always)]
fn bce<T: Float>(x: T, y: T, pos_weight: T) -> (T, T) {
    let one = T::one();
    let l = one + (pos_weight - one) * y;
    let v = (one - y) * x + l * softplus(-x);
    (v, (one - y) - l * sigmoid(-x))
}

/// `|a|^p` and its derivative with respect to `a`; 0 at `a = 0` for any p > 0.
#[inline(always)]
fn abs_pow<T: Float>(a: T, p: T) -> (T, T) {
    let m = a.abs();
    if p == T::zero() {
        return (T::one(), T::zero());
    }
    if m == T::zero() {
        // |a|^p at 0: value 0, derivative 0 (its limit for p > 1, PyTorch's
        // sign(0) = 0 for p = 1).
        return (T::zero(), T::zero());
    }
    let v = m.powf(p);
    let s = if a > T::zero() { T::one() } else { -T::one() };
    (v, p * v / m * s)
}

impl LogitLoss {
    /// Value and `∂loss/∂x` for logit `x` and target `y` (a probability in
    /// [0, 1]; for the margin losses 0/1 labels, mapped to s = 2y − 1).
    #[inline(always)]
    pub fn eval<T: Float>(&self, x: T, y: T) -> (T, T) {
        let c = c::<T>;
        let one = T::one();
        let zero = T::zero();
        match *self {
            LogitLoss::Bce { pos_weight } => bce(x, y, c(pos_weight)),
            LogitLoss::Focal { alpha, gamma } => {
                // One exp and one log for everything: e = e^{−|x|} gives
                // sp(±x), σ(x) and σ(−x) without overflow or cancellation.
                let e = (-x.abs()).exp();
                let r = one / (one + e);
                let l1p = e.ln_1p();
                let pos = x >= zero;
                let (s, sn) = if pos { (r, e * r) } else { (e * r, r) };
                let sp_neg = if pos { l1p } else { l1p - x }; // sp(−x)
                let ce = (one - y) * x + sp_neg;
                let dce = s - y;
                // u = 1 − p_t, computed without cancellation.
                let u = y * sn + (one - y) * s;
                let du = (one - y - y) * s * sn; // ∂u/∂x = (1 − 2y)·σ(1 − σ)
                let (m, dm) = if gamma == 2.0 {
                    (u * u, (u + u) * du)
                } else if gamma == 1.0 {
                    (u, du)
                } else if gamma == 0.0 {
                    (one, zero)
                } else if u > zero {
                    let g = c(gamma);
                    let m = u.powf(g);
                    (m, g * m / u * du)
                } else {
                    (zero, zero)
                };
                let a = if alpha >= 0.0 {
                    c(alpha) * y + (one - c(alpha)) * (one - y)
                } else {
                    one
                };
                (a * m * ce, a * (dm * ce + m * dce))
            }
            LogitLoss::Qfl { beta } => {
                let (ce, dce) = bce(x, y, one);
                let s = sigmoid(x);
                let (m, dm_da) = abs_pow(s - y, c(beta));
                let ds = s * sigmoid(-x);
                (m * ce, dm_da * ds * ce + m * dce)
            }
            LogitLoss::Vfl {
                alpha,
                gamma,
                iou_weighted,
            } => {
                let (ce, dce) = bce(x, y, one);
                if y > zero {
                    let w = if iou_weighted { y } else { one };
                    (w * ce, w * dce)
                } else {
                    // mmdet: α·|σ − q|^γ with q ≤ 0.
                    let s = sigmoid(x);
                    let (m, dm_da) = abs_pow(s - y, c(gamma));
                    let a = c(alpha);
                    (a * m * ce, a * (dm_da * s * sigmoid(-x) * ce + m * dce))
                }
            }
            LogitLoss::Logistic => {
                let s = y + y - one;
                (softplus(-s * x), -s * sigmoid(-s * x))
            }
            LogitLoss::Hinge => {
                let s = y + y - one;
                let m = one - s * x;
                if m > zero { (m, -s) } else { (zero, zero) }
            }
            LogitLoss::Exponential => {
                let s = y + y - one;
                let e = (-s * x).exp().min(T::max_value());
                (e, (-s * e).max(-T::max_value()).min(T::max_value()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand-computed forward values (six decimals), independent of this code:
    /// sigmoid focal loss (Lin et al., arXiv 1708.02002) with α 0.25, γ 2
    /// (torchvision and mmdet defaults), α −1, γ 2 (fvcore's default, no α
    /// weighting) and α 0.25, γ 1.5 (ultralytics' default); QFL with β = 2
    /// (Li et al., GFL, arXiv 2006.04388).
    #[test]
    fn reference_table() {
        let rows = [
            (2.0, 1.0, [0.000451, 0.001804, 0.001306]),
            (-2.0, 1.0, [0.412520, 1.650078, 0.439548]),
            (2.0, 0.0, [1.237559, 1.650078, 1.318645]),
            (0.0, 1.0, [0.043322, 0.173287, 0.061266]),
        ];
        for (x, y, want) in rows {
            let got = [
                LogitLoss::Focal {
                    alpha: 0.25,
                    gamma: 2.0,
                }
                .eval(x, y)
                .0,
                LogitLoss::Focal {
                    alpha: -1.0,
                    gamma: 2.0,
                }
                .eval(x, y)
                .0,
                LogitLoss::Focal {
                    alpha: 0.25,
                    gamma: 1.5,
                }
                .eval(x, y)
                .0,
            ];
            for (g, w) in got.iter().zip(want) {
                assert!((g - w).abs() < 1e-6, "x {x} y {y}: {got:?} vs {want:?}");
            }
        }
        for (x, y, want) in [
            (0.0, 0.0, 0.173287),
            (0.0, 0.8, 0.062383),
            (2.0, 0.5, 0.163412),
        ] {
            let v: f64 = LogitLoss::Qfl { beta: 2.0 }.eval(x, y).0;
            assert!((v - want).abs() < 1e-6, "{x} {y}: {v}");
        }
    }

    #[test]
    fn stable_at_extreme_logits() {
        for x in [-1e4f64, -80.0, 80.0, 1e4] {
            for y in [0.0, 0.5, 1.0] {
                let (v, d) = LogitLoss::Bce { pos_weight: 1.0 }.eval(x, y);
                assert!(v.is_finite() && d.is_finite());
            }
        }
        assert_eq!(LogitLoss::Bce { pos_weight: 1.0 }.eval(-1e4f64, 1.0).0, 1e4);
        assert_eq!(softplus(1e4f32), 1e4);
    }
}
