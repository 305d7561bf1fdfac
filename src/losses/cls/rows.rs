//! Row losses: a vector of C logits per sample.
//!
//! With `p = softmax(s)` computed by log-sum-exp (`ln p_c = s_c − lse(s)`,
//! stable for any finite logits):
//!
//! | loss | value per row | ∂/∂s | source |
//! |---|---|---|---|
//! | `ce(label_smoothing, ignore_index)` | Σ_c a_c·(−ln p_c), a_c = (1 − ε)·w_y·[c = y] + ε·w_c/C | p·Σa − a | PyTorch `cross_entropy` (class weights `w`, default 1) |
//! | `kd(T, form)` | T²·Σ_c q_c (ln q_c − ln p_c), q = softmax(t/T), p = softmax(s/T); `form=mmdet` divides by C | T·(p − q) (÷ C) | Hinton et al. 2015; mmdet `knowledge_distillation_kl_div_loss` |
//! | `dfl(reg_max)` | (r − y)·CE(s, l) + (y − l)·CE(s, r), l = ⌊y⌋, r = l + 1 | p − (r − y)·e_l − (y − l)·e_r | Li et al., arXiv 2006.04388; mmdet `distribution_focal_loss` |
//! | `hinge` (multi-class) | max(0, 1 + max_{j≠y} s_j − s_y) | +1 at the arg-max (split at ties), −1 at y | Crammer & Singer 2001 |
//!
//! An ignored row (`target == ignore_index`) has loss 0 and gradient 0. The
//! teacher in `kd` is a constant (detached, as in mmdet). A `dfl` target at
//! the last bin (y = reg_max) uses the bins reg_max − 1 and reg_max with all
//! weight on the last one.

use num_traits::Float;

use crate::losses::c;

/// The row losses.
#[derive(Debug, Clone, PartialEq)]
pub enum RowLoss {
    /// Softmax cross-entropy.
    Ce {
        /// ε.
        label_smoothing: f64,
        /// Rows with this target are ignored.
        ignore_index: i64,
        /// Per-class weights (empty: all 1).
        weight: Vec<f64>,
    },
    /// Knowledge distillation, KL with temperature.
    Kd {
        /// T.
        t: f64,
        /// Divide by the number of classes (mmdet's form).
        mean_over_classes: bool,
    },
    /// Distribution focal loss over `reg_max + 1` bins.
    Dfl {
        /// The last bin index.
        reg_max: usize,
    },
    /// Crammer–Singer multi-class hinge.
    Hinge,
}

/// What a sample's logits are compared with.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a, T> {
    /// A probability or binary label in [0, 1] (per-logit losses).
    Prob(T),
    /// A class index (`ce`, `hinge`).
    Class(i64),
    /// Teacher logits (`kd`).
    Teacher(&'a [T]),
    /// A continuous position in [0, reg_max] (`dfl`).
    Position(T),
}

/// `ln softmax(s)` into `out`.
#[inline]
fn log_softmax<T: Float>(s: &[T], out: &mut [T]) {
    let m = s.iter().fold(T::neg_infinity(), |a, &b| a.max(b));
    let sum = s.iter().fold(T::zero(), |a, &b| a + (b - m).exp());
    let lse = m + sum.ln();
    for (o, &v) in out.iter_mut().zip(s) {
        *o = v - lse;
    }
}

impl RowLoss {
    /// Value of one row; writes `∂loss/∂s` into `grad` (same length as `s`).
    /// `Err` names what does not fit (a class out of range, a target of the
    /// wrong kind, a position outside [0, reg_max]).
    pub fn eval<T: Float>(
        &self,
        s: &[T],
        target: Target<'_, T>,
        grad: &mut [T],
    ) -> Result<T, String> {
        let c = c::<T>;
        let n = s.len();
        if n == 0 || grad.len() != n {
            return Err(format!(
                "a row needs at least one logit and a gradient of the same length (got {n})"
            ));
        }
        let mut lp = vec![T::zero(); n];
        log_softmax(s, &mut lp);
        let class = |t: Target<'_, T>| match t {
            Target::Class(k) => Ok(k),
            _ => Err("this loss takes class ids as targets".to_string()),
        };
        match self {
            RowLoss::Ce {
                label_smoothing,
                ignore_index,
                weight,
            } => {
                let y = class(target)?;
                if y == *ignore_index {
                    grad.iter_mut().for_each(|g| *g = T::zero());
                    return Ok(T::zero());
                }
                if y < 0 || y as usize >= n {
                    return Err(format!("class {y} is outside 0..{n}"));
                }
                if !weight.is_empty() && weight.len() != n {
                    return Err(format!("{} class weights for {n} classes", weight.len()));
                }
                let w = |k: usize| {
                    if weight.is_empty() {
                        T::one()
                    } else {
                        c(weight[k])
                    }
                };
                let eps = c(*label_smoothing);
                let y = y as usize;
                let mut loss = T::zero();
                let mut total = T::zero();
                for k in 0..n {
                    let mut a = eps * w(k) / c(n as f64);
                    if k == y {
                        a = a + (T::one() - eps) * w(k);
                    }
                    grad[k] = a;
                    total = total + a;
                    loss = loss - a * lp[k];
                }
                for k in 0..n {
                    grad[k] = lp[k].exp() * total - grad[k];
                }
                Ok(loss)
            }
            RowLoss::Kd {
                t,
                mean_over_classes,
            } => {
                let Target::Teacher(teacher) = target else {
                    return Err("kd takes teacher logits as targets".into());
                };
                if teacher.len() != n {
                    return Err(format!(
                        "{} teacher logits for {n} student logits",
                        teacher.len()
                    ));
                }
                let tt = c(*t);
                let scaled: Vec<T> = s.iter().map(|&v| v / tt).collect();
                let tscaled: Vec<T> = teacher.iter().map(|&v| v / tt).collect();
                let mut lq = vec![T::zero(); n];
                log_softmax(&scaled, &mut lp);
                log_softmax(&tscaled, &mut lq);
                let scale = if *mean_over_classes {
                    tt * tt / c(n as f64)
                } else {
                    tt * tt
                };
                let mut kl = T::zero();
                for k in 0..n {
                    let q = lq[k].exp();
                    // 0·ln 0 = 0, as PyTorch's kl_div (xlogy).
                    if q > T::zero() {
                        kl = kl + q * (lq[k] - lp[k]);
                    }
                    grad[k] = scale / tt * (lp[k].exp() - q);
                }
                Ok(scale * kl)
            }
            RowLoss::Dfl { reg_max } => {
                let Target::Position(y) = target else {
                    return Err("dfl takes a continuous position as target".into());
                };
                if n != reg_max + 1 {
                    return Err(format!(
                        "dfl(reg_max={reg_max}) needs {} logits per row, got {n}",
                        reg_max + 1
                    ));
                }
                let top = c(*reg_max as f64);
                if !(y >= T::zero() && y <= top) {
                    return Err(format!(
                        "dfl target {} is outside [0, {reg_max}]",
                        y.to_f64().unwrap_or(f64::NAN)
                    ));
                }
                let mut l = y
                    .floor()
                    .to_usize()
                    .unwrap_or(0)
                    .min(reg_max.saturating_sub(1));
                if *reg_max == 0 {
                    l = 0;
                }
                let r = (l + 1).min(*reg_max);
                let wl = c(r as f64) - y;
                let wr = y - c(l as f64);
                for k in 0..n {
                    grad[k] = lp[k].exp() * (wl + wr);
                }
                grad[l] = grad[l] - wl;
                grad[r] = grad[r] - wr;
                Ok(-(wl * lp[l] + wr * lp[r]))
            }
            RowLoss::Hinge => {
                let y = class(target)?;
                if y < 0 || y as usize >= n {
                    return Err(format!("class {y} is outside 0..{n}"));
                }
                let y = y as usize;
                let best = (0..n)
                    .filter(|&k| k != y)
                    .fold(T::neg_infinity(), |a, k| a.max(s[k]));
                grad.iter_mut().for_each(|g| *g = T::zero());
                if n == 1 {
                    return Ok(T::zero());
                }
                let margin = T::one() + best - s[y];
                if margin <= T::zero() {
                    return Ok(T::zero());
                }
                let ties: Vec<usize> = (0..n).filter(|&k| k != y && s[k] == best).collect();
                let share = T::one() / c(ties.len() as f64);
                for k in ties {
                    grad[k] = share;
                }
                grad[y] = -T::one();
                Ok(margin)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ce_by_hand() {
        // s = (0, ln 3): p = (1/4, 3/4); −ln p_1 = ln(4/3); ∂ = p − e_1 = (1/4, −1/4).
        let mut g = [0.0; 2];
        let l = RowLoss::Ce {
            label_smoothing: 0.0,
            ignore_index: -100,
            weight: vec![],
        }
        .eval(&[0.0, 3f64.ln()], Target::Class(1), &mut g)
        .unwrap();
        assert!((l - (4.0f64 / 3.0).ln()).abs() < 1e-15);
        assert!((g[0] - 0.25).abs() < 1e-15 && (g[1] + 0.25).abs() < 1e-15);
    }

    #[test]
    fn dfl_at_an_integer_is_plain_ce() {
        let s = [0.3, -1.0, 2.0, 0.5];
        let mut g = [0.0; 4];
        let d = RowLoss::Dfl { reg_max: 3 }
            .eval(&s, Target::Position(2.0), &mut g)
            .unwrap();
        let mut g2 = [0.0; 4];
        let ce = RowLoss::Ce {
            label_smoothing: 0.0,
            ignore_index: -100,
            weight: vec![],
        }
        .eval(&s, Target::Class(2), &mut g2)
        .unwrap();
        assert!((d - ce).abs() < 1e-15);
        let top = RowLoss::Dfl { reg_max: 3 }
            .eval(&s, Target::Position(3.0), &mut g)
            .unwrap();
        let ce3 = RowLoss::Ce {
            label_smoothing: 0.0,
            ignore_index: -100,
            weight: vec![],
        }
        .eval(&s, Target::Class(3), &mut g2)
        .unwrap();
        assert!((top - ce3).abs() < 1e-15);
    }
}
