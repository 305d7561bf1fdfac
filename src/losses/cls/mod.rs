//! Classification and quality losses, value and exact gradient with respect
//! to the logits: per-logit losses ([`elementwise`]: BCE, focal, QFL, VFL,
//! logistic, hinge, exponential) and row losses ([`rows`]: softmax CE, KD,
//! DFL, multi-class hinge), behind one trait ([`ClsLoss`]) and one registry
//! of spec strings ([`CLS_REGISTRY`], parsed by [`ClsLossSpec::parse`]).

pub mod elementwise;
pub mod rows;

use num_traits::Float;
use rayon::prelude::*;

pub use elementwise::LogitLoss;
pub use rows::{RowLoss, Target};

use super::LossInfo;
use super::spec::{Params, parse_call};

/// Every classification loss detloss knows.
pub const CLS_REGISTRY: &[LossInfo<ClsKind>] = &[
    LossInfo {
        name: "bce",
        params: &[("pos_weight", "1")],
        variants: &[],
        about: "binary cross-entropy with logits (PyTorch)",
        build: |p| {
            Ok(ClsKind::Logit(LogitLoss::Bce {
                pos_weight: p.positive("pos_weight")?,
            }))
        },
    },
    LossInfo {
        name: "focal",
        params: &[("alpha", "0.25"), ("gamma", "2")],
        variants: &[],
        about: "sigmoid focal loss; alpha=-1 turns α off (Lin et al. 2017)",
        build: |p| {
            let alpha = p.num("alpha")?;
            if alpha != -1.0 && !(0.0..=1.0).contains(&alpha) {
                return Err(format!(
                    "`{}`: alpha must be in [0, 1], or -1 to turn α off (got {alpha})",
                    p.spec()
                ));
            }
            Ok(ClsKind::Logit(LogitLoss::Focal {
                alpha,
                gamma: p.non_negative("gamma")?,
            }))
        },
    },
    LossInfo {
        name: "qfl",
        params: &[("beta", "2")],
        variants: &[],
        about: "quality focal loss, soft IoU targets (Li et al. 2020, GFL)",
        build: |p| {
            Ok(ClsKind::Logit(LogitLoss::Qfl {
                beta: p.non_negative("beta")?,
            }))
        },
    },
    LossInfo {
        name: "vfl",
        params: &[("alpha", "0.75"), ("gamma", "2"), ("iou_weighted", "1")],
        variants: &[],
        about: "varifocal loss, IoU-weighted positives (Zhang et al. 2021)",
        build: |p| {
            Ok(ClsKind::Logit(LogitLoss::Vfl {
                alpha: p.unit("alpha")?,
                gamma: p.non_negative("gamma")?,
                iou_weighted: match p.text("iou_weighted") {
                    "1" | "true" => true,
                    "0" | "false" => false,
                    other => {
                        return Err(format!(
                            "`{}`: iou_weighted must be 0 or 1, got `{other}`",
                            p.spec()
                        ));
                    }
                },
            }))
        },
    },
    LossInfo {
        name: "logistic",
        params: &[],
        variants: &[],
        about: "ln(1 + e^{−y·f}) on the margin",
        build: |_| Ok(ClsKind::Logit(LogitLoss::Logistic)),
    },
    LossInfo {
        name: "hinge",
        params: &[],
        variants: &[],
        about: "max(0, 1 − y·f); on rows of logits: Crammer–Singer multi-class",
        build: |_| Ok(ClsKind::Logit(LogitLoss::Hinge)),
    },
    LossInfo {
        name: "exponential",
        params: &[],
        variants: &[],
        about: "e^{−y·f} (AdaBoost)",
        build: |_| Ok(ClsKind::Logit(LogitLoss::Exponential)),
    },
    LossInfo {
        name: "ce",
        params: &[("label_smoothing", "0"), ("ignore_index", "-100")],
        variants: &[],
        about: "softmax cross-entropy over rows (PyTorch), optional class weights",
        build: |p| {
            let ignore = p.num("ignore_index")?;
            if ignore.fract() != 0.0 {
                return Err(format!("`{}`: ignore_index must be an integer", p.spec()));
            }
            let eps = p.num("label_smoothing")?;
            if !(0.0..1.0).contains(&eps) {
                return Err(format!(
                    "`{}`: label_smoothing must be in [0, 1), got {eps}",
                    p.spec()
                ));
            }
            Ok(ClsKind::Row(RowLoss::Ce {
                label_smoothing: eps,
                ignore_index: ignore as i64,
                weight: vec![],
            }))
        },
    },
    LossInfo {
        name: "kd",
        params: &[("T", "4"), ("form", "hinton")],
        variants: &[],
        about: "T²·KL(softmax(t/T) ‖ softmax(s/T)); form=mmdet averages over classes",
        build: |p| {
            let mean_over_classes = match p.text("form") {
                "hinton" => false,
                "mmdet" => true,
                other => {
                    return Err(format!(
                        "`{}`: form must be hinton or mmdet, got `{other}`",
                        p.spec()
                    ));
                }
            };
            Ok(ClsKind::Row(RowLoss::Kd {
                t: p.positive("T")?,
                mean_over_classes,
            }))
        },
    },
    LossInfo {
        name: "dfl",
        params: &[("reg_max", "16")],
        variants: &[],
        about: "distribution focal loss over reg_max + 1 bins (Li et al. 2020, GFL)",
        build: |p| {
            let r = p.num("reg_max")?;
            if r < 1.0 || r.fract() != 0.0 || r > 1e6 {
                return Err(format!(
                    "`{}`: reg_max must be a positive integer, got {r}",
                    p.spec()
                ));
            }
            Ok(ClsKind::Row(RowLoss::Dfl {
                reg_max: r as usize,
            }))
        },
    },
];

/// A parsed classification loss.
#[derive(Debug, Clone, PartialEq)]
pub struct ClsLossSpec {
    /// Per-logit or row loss.
    pub kind: ClsKind,
    /// Canonical spec text.
    pub canonical: String,
}

/// What a classification spec resolves to.
#[derive(Debug, Clone, PartialEq)]
pub enum ClsKind {
    /// One logit per sample.
    Logit(LogitLoss),
    /// A row of logits per sample.
    Row(RowLoss),
}

impl ClsLossSpec {
    /// Parses a spec such as `focal(alpha=0.25, gamma=2)`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let (name, params) = parse_call(spec)?;
        let Some(info) = CLS_REGISTRY.iter().find(|i| i.name == name) else {
            let names: Vec<&str> = CLS_REGISTRY.iter().map(|i| i.name).collect();
            return Err(format!(
                "unknown loss `{name}`; valid classification losses: {}",
                names.join(", ")
            ));
        };
        let p = Params::resolve(spec, info, params, &[])?;
        let kind = (info.build)(&p)?;
        Ok(ClsLossSpec {
            kind,
            canonical: p.canonical(info.name, &[]),
        })
    }

    /// The same loss as a row loss, for `hinge` given rows of logits
    /// (Crammer–Singer); other losses are returned unchanged.
    pub fn for_rows(&self) -> ClsLossSpec {
        match self.kind {
            ClsKind::Logit(LogitLoss::Hinge) => ClsLossSpec {
                kind: ClsKind::Row(RowLoss::Hinge),
                canonical: "hinge(multiclass)".into(),
            },
            _ => self.clone(),
        }
    }
}

/// How per-sample losses are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reduction {
    /// Keep every value.
    None,
    /// Σ.
    Sum,
    /// Σ / n.
    Mean,
    /// Σ / max(1, number of positives): RetinaNet's normalisation by the
    /// number of foreground anchors (Lin et al. 2017; torchvision
    /// `retinanet.py`).
    MeanOverPositives,
}

/// Reduces per-sample values; `None` for [`Reduction::None`].
pub fn reduce<T: Float>(values: &[T], reduction: Reduction, positives: usize) -> Option<T> {
    let sum = values.iter().fold(T::zero(), |a, &b| a + b);
    let n = |k: usize| super::c::<T>(k.max(1) as f64);
    match reduction {
        Reduction::None => None,
        Reduction::Sum => Some(sum),
        Reduction::Mean => Some(sum / n(values.len())),
        Reduction::MeanOverPositives => Some(sum / n(positives)),
    }
}

/// Per-logits pairs per parallel work item (fixed: results never depend on
/// the thread count).
pub const CHUNK: usize = 8192;

/// A classification loss: value and exact gradient with respect to the
/// logits, per sample or per batch, in `f32` or `f64`.
pub trait ClsLoss: Sync {
    /// One sample: `logits` has one element for per-logit losses, C for row
    /// losses; `grad` (same length) receives ∂loss/∂logits. `Err` names a
    /// target that does not fit.
    fn sample<T: Float>(
        &self,
        logits: &[T],
        target: Target<'_, T>,
        grad: &mut [T],
    ) -> Result<T, String>;

    /// Per-logit losses over a batch (`x[i]` against `y[i]`), in parallel.
    /// `Err` for row losses.
    fn batch_logits<T: Float + Send + Sync>(
        &self,
        x: &[T],
        y: &[T],
        loss: &mut [T],
        grad: &mut [T],
    ) -> Result<(), String>;
}

fn run_logits<T, F>(f: F, x: &[T], y: &[T], loss: &mut [T], grad: &mut [T])
where
    T: Float + Send + Sync,
    F: Fn(T, T) -> (T, T) + Sync,
{
    loss.par_chunks_mut(CHUNK)
        .zip(grad.par_chunks_mut(CHUNK))
        .enumerate()
        .for_each(|(c, (l, g))| {
            let start = c * CHUNK;
            let (xs, ys) = (&x[start..start + l.len()], &y[start..start + l.len()]);
            for j in 0..l.len() {
                let (v, d) = f(xs[j], ys[j]);
                l[j] = v;
                g[j] = d;
            }
        });
}

impl ClsLoss for ClsLossSpec {
    fn sample<T: Float>(
        &self,
        logits: &[T],
        target: Target<'_, T>,
        grad: &mut [T],
    ) -> Result<T, String> {
        match &self.kind {
            ClsKind::Logit(l) => {
                let (Some(&x), Target::Prob(y), 1, 1) =
                    (logits.first(), target, logits.len(), grad.len())
                else {
                    return Err(format!(
                        "`{}` takes one logit and a target in [0, 1] per sample",
                        self.canonical
                    ));
                };
                let (v, d) = l.eval(x, y);
                grad[0] = d;
                Ok(v)
            }
            ClsKind::Row(r) => r.eval(logits, target, grad),
        }
    }

    fn batch_logits<T: Float + Send + Sync>(
        &self,
        x: &[T],
        y: &[T],
        loss: &mut [T],
        grad: &mut [T],
    ) -> Result<(), String> {
        let n = x.len();
        if y.len() != n || loss.len() != n || grad.len() != n {
            return Err(format!(
                "batch lengths differ: {n} logits, {} targets",
                y.len()
            ));
        }
        let ClsKind::Logit(l) = self.kind.clone() else {
            return Err(format!(
                "`{}` is a row loss: give rows of logits",
                self.canonical
            ));
        };
        // One loop per loss, so its `match` folds away inside the loop.
        match l {
            LogitLoss::Bce { pos_weight } => run_logits(
                move |a, b| LogitLoss::Bce { pos_weight }.eval(a, b),
                x,
                y,
                loss,
                grad,
            ),
            LogitLoss::Focal { alpha, gamma } => run_logits(
                move |a, b| LogitLoss::Focal { alpha, gamma }.eval(a, b),
                x,
                y,
                loss,
                grad,
            ),
            LogitLoss::Qfl { beta } => run_logits(
                move |a, b| LogitLoss::Qfl { beta }.eval(a, b),
                x,
                y,
                loss,
                grad,
            ),
            other => run_logits(move |a, b| other.eval(a, b), x, y, loss, grad),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_reject() {
        assert_eq!(
            ClsLossSpec::parse("focal").unwrap().canonical,
            "focal(alpha=0.25, gamma=2)"
        );
        assert!(
            ClsLossSpec::parse("focal(alpha=2)")
                .unwrap_err()
                .contains("alpha must be in [0, 1]")
        );
        assert!(
            ClsLossSpec::parse("qfl(gamma=2)")
                .unwrap_err()
                .contains("valid parameters: beta")
        );
        assert!(
            ClsLossSpec::parse("fokal")
                .unwrap_err()
                .contains("valid classification losses: bce")
        );
        assert_eq!(
            ClsLossSpec::parse("kd(T=2, form=mmdet)").unwrap().kind,
            ClsKind::Row(RowLoss::Kd {
                t: 2.0,
                mean_over_classes: true
            })
        );
    }

    #[test]
    fn retinanet_normalisation() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(reduce(&v, Reduction::MeanOverPositives, 2), Some(5.0));
        assert_eq!(reduce(&v, Reduction::MeanOverPositives, 0), Some(10.0));
        assert_eq!(reduce(&v, Reduction::Mean, 0), Some(2.5));
        assert_eq!(reduce(&v, Reduction::None, 0), None);
    }
}
