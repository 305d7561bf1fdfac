//! The loss zoo: box-regression losses with exact gradients.
//!
//! A loss is named by a spec string, as in configs and on the CLI:
//! `giou`, `ciou(variant=mmdet)`, `smooth_l1(beta=0.5)`,
//! `alpha_iou(alpha=3, base=ciou)`. [`BoxLossSpec::parse`] checks names and
//! parameters against [`REGISTRY`] and lists the valid ones on error.
//!
//! Every loss gives its value and its gradient with respect to the predicted
//! box through the [`BoxLoss`] trait: for one pair ([`BoxLoss::pair`]) or a
//! batch in struct-of-arrays form ([`BoxLoss::batch`], parallel over fixed
//! chunks, so results do not depend on the thread count), in `f32` or `f64`,
//! with the gradient in xyxy or in the centre form ([`BoxLoss::pair_cxcywh`]).

pub mod authors;
pub mod cls;
pub mod dual;
pub mod elementwise;
pub mod fast;
pub mod iou_family;
pub mod spec;

use num_traits::Float;
use rayon::prelude::*;

use spec::{Params, parse_call};

pub use elementwise::{ElementLoss, Encoding};
pub use iou_family::{AlphaBase, IouLoss, Variant};

/// A registered loss: its spec name, parameters with defaults, and summary.
#[derive(Debug, Clone, Copy)]
pub struct LossInfo {
    /// Spec name.
    pub name: &'static str,
    /// `(parameter, default)`; `base` takes a name, the others numbers.
    pub params: &'static [(&'static str, &'static str)],
    /// The variants `variant=` may name (empty: the loss has none); the
    /// first is the default.
    pub variants: &'static [Variant],
    /// One line: formula and source.
    pub about: &'static str,
}

/// Every box loss detloss knows.
pub const REGISTRY: &[LossInfo] = &[
    LossInfo {
        name: "iou",
        params: &[],
        variants: &Variant::ALL,
        about: "1 − IoU (UnitBox, linear form)",
    },
    LossInfo {
        name: "iou_log",
        params: &[],
        variants: &Variant::ALL,
        about: "−ln IoU (UnitBox)",
    },
    LossInfo {
        name: "iou_square",
        params: &[],
        variants: &Variant::ALL,
        about: "1 − IoU² (mmdet IoULoss square mode)",
    },
    LossInfo {
        name: "giou",
        params: &[],
        variants: &Variant::ALL,
        about: "1 − IoU + (A_C − U)/A_C (Rezatofighi et al. 2019)",
    },
    LossInfo {
        name: "diou",
        params: &[],
        variants: &Variant::ALL,
        about: "1 − IoU + ρ²/c² (Zheng et al. 2020)",
    },
    LossInfo {
        name: "ciou",
        params: &[],
        variants: &Variant::ALL,
        about: "DIoU + α·v, α constant (Zheng et al. 2020)",
    },
    LossInfo {
        name: "eiou",
        params: &[],
        variants: &[Variant::Torchvision, Variant::Paper],
        about: "DIoU + (w − w_g)²/c_w² + (h − h_g)²/c_h² (Zhang et al. 2021)",
    },
    LossInfo {
        name: "focal_eiou",
        params: &[("gamma", "0.5")],
        variants: &[Variant::Torchvision, Variant::Paper],
        about: "IoU^γ · EIoU (Zhang et al. 2021)",
    },
    LossInfo {
        name: "siou",
        params: &[],
        variants: &[Variant::Torchvision, Variant::Paper],
        about: "1 − IoU + (angle-weighted distance + shape)/2 (Gevorgyan 2022)",
    },
    LossInfo {
        name: "alpha_iou",
        params: &[("alpha", "3"), ("base", "iou")],
        variants: &[Variant::Torchvision, Variant::Paper],
        about: "1 − IoU^α + penalty^α; base iou|giou|diou|ciou (He et al. 2021)",
    },
    LossInfo {
        name: "l1",
        params: &[("encoding", "raw")],
        variants: &[],
        about: "Σ|p − t| over the 4 coordinates",
    },
    LossInfo {
        name: "mse",
        params: &[("encoding", "raw")],
        variants: &[],
        about: "Σ(p − t)² over the 4 coordinates",
    },
    LossInfo {
        name: "smooth_l1",
        params: &[("beta", "1.0"), ("encoding", "raw")],
        variants: &[],
        about: "Σ smooth-L1_β(p − t) (Fast R-CNN)",
    },
    LossInfo {
        name: "huber",
        params: &[("delta", "1.0"), ("encoding", "raw")],
        variants: &[],
        about: "Σ Huber_δ(p − t)",
    },
    LossInfo {
        name: "balanced_l1",
        params: &[
            ("alpha", "0.5"),
            ("gamma", "1.5"),
            ("beta", "1.0"),
            ("encoding", "raw"),
        ],
        variants: &[],
        about: "Σ balanced-L1 (Libra R-CNN)",
    },
];

/// What a spec resolves to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BoxLossKind {
    /// A member of the IoU family.
    Iou(IouLoss),
    /// An element-wise loss on a box encoding.
    Element(ElementLoss, Encoding),
}

/// A parsed, validated box-loss spec.
#[derive(Debug, Clone, PartialEq)]
pub struct BoxLossSpec {
    /// The loss.
    pub kind: BoxLossKind,
    /// Library conventions (IoU family only).
    pub variant: Variant,
    /// Canonical spec text, with every parameter spelled out.
    pub canonical: String,
}

/// Struct-of-arrays boxes, xyxy.
#[derive(Debug, Clone, Copy)]
pub struct BoxesRef<'a, T> {
    /// Left edges.
    pub x1: &'a [T],
    /// Top edges.
    pub y1: &'a [T],
    /// Right edges.
    pub x2: &'a [T],
    /// Bottom edges.
    pub y2: &'a [T],
}

impl<T: Copy> BoxesRef<'_, T> {
    /// Number of boxes (the length of `x1`).
    pub fn len(&self) -> usize {
        self.x1.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.x1.is_empty()
    }

    /// Box `i` as `[x1, y1, x2, y2]`.
    pub fn get(&self, i: usize) -> [T; 4] {
        [self.x1[i], self.y1[i], self.x2[i], self.y2[i]]
    }
}

/// Pairs per parallel work item; fixed, so the split never depends on the
/// thread count.
pub const CHUNK: usize = 4096;

impl BoxLossSpec {
    /// Parses a spec such as `ciou(variant=mmdet)`; `variant` (e.g. from
    /// `--variant`) applies when the spec names none.
    pub fn parse(spec: &str, variant: Option<Variant>) -> Result<Self, String> {
        Self::parse_with(spec, variant, None)
    }

    /// [`parse`](Self::parse) with an encoding override as well (the CLI's
    /// `--variant` and `--encoding`); a spec's own parameters win.
    pub fn parse_with(
        spec: &str,
        variant: Option<Variant>,
        encoding: Option<Encoding>,
    ) -> Result<Self, String> {
        let (name, mut params) = parse_call(spec)?;
        let Some(info) = REGISTRY.iter().find(|i| i.name == name) else {
            let names: Vec<&str> = REGISTRY.iter().map(|i| i.name).collect();
            return Err(format!(
                "unknown loss `{name}`; valid losses: {}",
                names.join(", ")
            ));
        };
        let takes_encoding = info.params.iter().any(|(k, _)| *k == "encoding");
        if let Some(e) = encoding {
            if !takes_encoding {
                return Err(format!(
                    "`{name}` takes no encoding: encodings apply to the element-wise losses \
                     (l1, mse, smooth_l1, huber, balanced_l1)"
                ));
            }
            if !params.iter().any(|(k, _)| k == "encoding") {
                params.push(("encoding".into(), e.name().into()));
            }
        }
        if variant.is_some() && info.variants.is_empty() {
            return Err(format!(
                "`{name}` has no variants: they apply to the IoU family"
            ));
        }
        let mut var = variant.unwrap_or(Variant::Torchvision);
        let supported = |var: Variant| -> Result<(), String> {
            if info.variants.is_empty() || info.variants.contains(&var) {
                return Ok(());
            }
            let names: Vec<&str> = info.variants.iter().map(|v| v.name()).collect();
            Err(format!(
                "`{name}` has the variants {} only: library implementations of it differ in more \
                 than eps (mmdet's SIoU and EIoU are other losses), so only the paper's form is provided",
                names.join(", ")
            ))
        };
        let mut rest = Vec::new();
        if variant.is_some() && params.iter().filter(|(k, _)| k == "variant").count() > 0 {
            let given = params
                .iter()
                .find(|(k, _)| k == "variant")
                .map(|(_, v)| v.as_str());
            if given != variant.map(Variant::name) {
                return Err(format!(
                    "`{spec}` names variant `{}` but --variant says `{}`: give it once",
                    given.unwrap_or(""),
                    variant.map(Variant::name).unwrap_or("")
                ));
            }
        }
        if params.iter().filter(|(k, _)| k == "variant").count() > 1 {
            return Err(format!("`{spec}`: parameter `variant` is given twice"));
        }
        for (k, v) in params {
            if k == "variant" && !info.variants.is_empty() {
                var = Variant::parse(&v).ok_or_else(|| {
                    let names: Vec<&str> = Variant::ALL.iter().map(|v| v.name()).collect();
                    format!(
                        "`{spec}`: unknown variant `{v}`; valid variants: {}",
                        names.join(", ")
                    )
                })?;
            } else {
                rest.push((k, v));
            }
        }
        let extra: &[&str] = if info.variants.is_empty() {
            &[]
        } else {
            &["variant"]
        };
        let values = Params::resolve(spec, info, rest, extra)?;
        let num = |k: &str| values.num(k);
        let positive = |k: &str| values.positive(k);
        let element = |e: ElementLoss| -> Result<BoxLossKind, String> {
            let text = values.text("encoding");
            let enc = Encoding::parse(text).ok_or_else(|| {
                format!(
                    "`{spec}`: unknown encoding `{text}`; valid encodings: raw, normalized, deltas"
                )
            })?;
            Ok(BoxLossKind::Element(e, enc))
        };
        supported(var)?;
        let kind = match info.name {
            "iou" => BoxLossKind::Iou(IouLoss::Linear),
            "iou_log" => BoxLossKind::Iou(IouLoss::Log),
            "iou_square" => BoxLossKind::Iou(IouLoss::Square),
            "giou" => BoxLossKind::Iou(IouLoss::Giou),
            "diou" => BoxLossKind::Iou(IouLoss::Diou),
            "ciou" => BoxLossKind::Iou(IouLoss::Ciou),
            "eiou" => BoxLossKind::Iou(IouLoss::Eiou),
            "siou" => BoxLossKind::Iou(IouLoss::Siou),
            "focal_eiou" => BoxLossKind::Iou(IouLoss::FocalEiou {
                gamma: num("gamma")?,
            }),
            "alpha_iou" => {
                let base = match values.text("base") {
                    "iou" => AlphaBase::Iou,
                    "giou" => AlphaBase::Giou,
                    "diou" => AlphaBase::Diou,
                    "ciou" => AlphaBase::Ciou,
                    other => {
                        return Err(format!(
                            "`{spec}`: base must be iou, giou, diou or ciou, got `{}`",
                            other
                        ));
                    }
                };
                BoxLossKind::Iou(IouLoss::Alpha {
                    alpha: positive("alpha")?,
                    base,
                })
            }
            "l1" => element(ElementLoss::L1)?,
            "mse" => element(ElementLoss::Mse)?,
            "smooth_l1" => {
                let beta = num("beta")?;
                if beta < 0.0 {
                    return Err(format!("`{spec}`: `beta` must be ≥ 0"));
                }
                // β = 0 is exactly L1 (PyTorch's definition).
                element(if beta == 0.0 {
                    ElementLoss::L1
                } else {
                    ElementLoss::SmoothL1 { beta }
                })?
            }
            "huber" => element(ElementLoss::Huber {
                delta: positive("delta")?,
            })?,
            "balanced_l1" => element(ElementLoss::BalancedL1 {
                alpha: positive("alpha")?,
                gamma: positive("gamma")?,
                beta: positive("beta")?,
            })?,
            other => unreachable!("registry entry `{other}` has no constructor"),
        };
        let canonical = if info.variants.is_empty() {
            values.canonical(info.name, &[])
        } else {
            values.canonical(info.name, &[format!("variant={}", var.name())])
        };
        Ok(BoxLossSpec {
            kind,
            variant: var,
            canonical,
        })
    }

    /// The spec's name as registered (`giou`, `smooth_l1`, …).
    pub fn name(&self) -> &str {
        self.canonical.split('(').next().unwrap_or(&self.canonical)
    }
}

/// A box-regression loss: value and exact gradient with respect to the
/// predicted box, for one pair or a batch, in `f32` or `f64`.
pub trait BoxLoss: Sync {
    /// Value and gradient ∂loss/∂(x1, y1, x2, y2) of the prediction, one
    /// pair. The `normalized` encoding needs the image size: use
    /// [`pair_sized`](Self::pair_sized) (here the image is taken as 1 × 1).
    fn pair<T: Float>(&self, pred: [T; 4], target: [T; 4]) -> (T, [T; 4]) {
        self.pair_sized(pred, target, [T::one(), T::one()])
    }

    /// [`pair`](Self::pair) on an image of `(W, H)` pixels.
    fn pair_sized<T: Float>(&self, pred: [T; 4], target: [T; 4], image: [T; 2]) -> (T, [T; 4]);

    /// Values and gradients for aligned pairs: `loss[i]` and `grad[k][i]`
    /// (k = x1, y1, x2, y2) for `pred[i]` against `target[i]`.
    ///
    /// The loss and variant are resolved once, outside the loop, so each loop
    /// is compiled for one formula. With the `normalized` encoding the
    /// coordinates are taken as already normalised (divide them by the image
    /// size first, and the gradient by the same factor after).
    ///
    /// # Panics
    /// When the slices' lengths differ (a caller bug, not an input error).
    fn batch<T: Float + Send + Sync>(
        &self,
        pred: BoxesRef<'_, T>,
        target: BoxesRef<'_, T>,
        loss: &mut [T],
        grad: [&mut [T]; 4],
    );

    /// [`pair`](Self::pair) with the gradient in the centre parameterisation
    /// (cx, cy, w, h) instead of xyxy.
    fn pair_cxcywh<T: Float>(&self, pred: [T; 4], target: [T; 4]) -> (T, [T; 4]) {
        let (v, g) = self.pair(pred, target);
        (v, grad_xyxy_to_cxcywh(g))
    }
}

impl BoxLoss for BoxLossSpec {
    #[inline(always)]
    fn pair_sized<T: Float>(&self, pred: [T; 4], target: [T; 4], image: [T; 2]) -> (T, [T; 4]) {
        match self.kind {
            BoxLossKind::Iou(IouLoss::Giou) if self.variant == Variant::Torchvision => {
                fast::giou_torchvision(pred, target)
            }
            BoxLossKind::Iou(IouLoss::Diou) if self.variant == Variant::Torchvision => {
                fast::diou_ciou_torchvision::<T, false>(pred, target)
            }
            BoxLossKind::Iou(IouLoss::Ciou) if self.variant == Variant::Torchvision => {
                fast::diou_ciou_torchvision::<T, true>(pred, target)
            }
            BoxLossKind::Iou(l) => {
                let d = l.eval(self.variant, pred, target);
                (d.v, d.d)
            }
            BoxLossKind::Element(e, enc) => e.eval_encoded(enc, pred, target, image),
        }
    }

    fn batch<T: Float + Send + Sync>(
        &self,
        pred: BoxesRef<'_, T>,
        target: BoxesRef<'_, T>,
        loss: &mut [T],
        grad: [&mut [T]; 4],
    ) {
        // One loop per (loss, variant), so the formula's branches fold away.
        macro_rules! iou_variants {
            ($l:expr) => {{
                macro_rules! with {
                    ($v:expr) => {
                        run_batch(|p, t| split($l.eval($v, p, t)), pred, target, loss, grad)
                    };
                }
                match self.variant {
                    Variant::Torchvision => with!(Variant::Torchvision),
                    Variant::Mmdet => with!(Variant::Mmdet),
                    Variant::Ultralytics => with!(Variant::Ultralytics),
                    Variant::Paper => with!(Variant::Paper),
                }
            }};
        }
        match self.kind {
            BoxLossKind::Iou(IouLoss::Linear) => iou_variants!(IouLoss::Linear),
            BoxLossKind::Iou(IouLoss::Log) => iou_variants!(IouLoss::Log),
            BoxLossKind::Iou(IouLoss::Square) => iou_variants!(IouLoss::Square),
            BoxLossKind::Iou(IouLoss::Giou) if self.variant == Variant::Torchvision => {
                run_batch(fast::giou_torchvision, pred, target, loss, grad)
            }
            BoxLossKind::Iou(IouLoss::Diou) if self.variant == Variant::Torchvision => run_batch(
                fast::diou_ciou_torchvision::<T, false>,
                pred,
                target,
                loss,
                grad,
            ),
            BoxLossKind::Iou(IouLoss::Ciou) if self.variant == Variant::Torchvision => run_batch(
                fast::diou_ciou_torchvision::<T, true>,
                pred,
                target,
                loss,
                grad,
            ),
            BoxLossKind::Iou(IouLoss::Giou) => iou_variants!(IouLoss::Giou),
            BoxLossKind::Iou(IouLoss::Diou) => iou_variants!(IouLoss::Diou),
            BoxLossKind::Iou(IouLoss::Ciou) => iou_variants!(IouLoss::Ciou),
            BoxLossKind::Iou(IouLoss::Eiou) => iou_variants!(IouLoss::Eiou),
            BoxLossKind::Iou(IouLoss::Siou) => iou_variants!(IouLoss::Siou),
            BoxLossKind::Iou(l @ IouLoss::FocalEiou { .. }) => iou_variants!(l),
            BoxLossKind::Iou(l @ IouLoss::Alpha { .. }) => iou_variants!(l),
            // One arm per element-wise loss, so the per-coordinate `match`
            // folds away inside each loop.
            BoxLossKind::Element(e, Encoding::Raw) => match e {
                ElementLoss::L1 => {
                    run_batch(|p, t| ElementLoss::L1.eval(p, t), pred, target, loss, grad)
                }
                ElementLoss::Mse => {
                    run_batch(|p, t| ElementLoss::Mse.eval(p, t), pred, target, loss, grad)
                }
                ElementLoss::SmoothL1 { beta } => run_batch(
                    move |p, t| ElementLoss::SmoothL1 { beta }.eval(p, t),
                    pred,
                    target,
                    loss,
                    grad,
                ),
                ElementLoss::Huber { delta } => run_batch(
                    move |p, t| ElementLoss::Huber { delta }.eval(p, t),
                    pred,
                    target,
                    loss,
                    grad,
                ),
                ElementLoss::BalancedL1 { .. } => {
                    run_batch(move |p, t| e.eval(p, t), pred, target, loss, grad)
                }
            },
            BoxLossKind::Element(e, Encoding::Deltas) => run_batch(
                |p, t| e.eval_encoded(Encoding::Deltas, p, t, [T::one(), T::one()]),
                pred,
                target,
                loss,
                grad,
            ),
            BoxLossKind::Element(e, Encoding::Normalized) => {
                // Per-pair image sizes are not known here: the caller
                // normalises the coordinates (see `pair_sized`).
                run_batch(|p, t| e.eval(p, t), pred, target, loss, grad)
            }
        }
    }
}

#[inline(always)]
fn split<T>(d: dual::Dual4<T>) -> (T, [T; 4]) {
    (d.v, d.d)
}

/// The batch loop for one formula `f`, over fixed chunks of [`CHUNK`] pairs.
fn run_batch<T, F>(
    f: F,
    pred: BoxesRef<'_, T>,
    target: BoxesRef<'_, T>,
    loss: &mut [T],
    grad: [&mut [T]; 4],
) where
    T: Float + Send + Sync,
    F: Fn([T; 4], [T; 4]) -> (T, [T; 4]) + Sync,
{
    let n = pred.len();
    assert!(
        target.len() == n && loss.len() == n && grad.iter().all(|g| g.len() == n),
        "batch lengths differ"
    );
    let [g0, g1, g2, g3] = grad;
    loss.par_chunks_mut(CHUNK)
        .zip(g0.par_chunks_mut(CHUNK))
        .zip(g1.par_chunks_mut(CHUNK))
        .zip(g2.par_chunks_mut(CHUNK))
        .zip(g3.par_chunks_mut(CHUNK))
        .enumerate()
        .for_each(|(c, ((((l, a), b), cc), d))| {
            let start = c * CHUNK;
            let end = start + l.len();
            let (px1, py1, px2, py2) = (
                &pred.x1[start..end],
                &pred.y1[start..end],
                &pred.x2[start..end],
                &pred.y2[start..end],
            );
            let (tx1, ty1, tx2, ty2) = (
                &target.x1[start..end],
                &target.y1[start..end],
                &target.x2[start..end],
                &target.y2[start..end],
            );
            for j in 0..l.len() {
                let (v, g) = f(
                    [px1[j], py1[j], px2[j], py2[j]],
                    [tx1[j], ty1[j], tx2[j], ty2[j]],
                );
                l[j] = v;
                a[j] = g[0];
                b[j] = g[1];
                cc[j] = g[2];
                d[j] = g[3];
            }
        });
}

/// Maps a gradient in xyxy to the centre parameterisation (cx, cy, w, h),
/// where x1 = cx − w/2 and x2 = cx + w/2.
pub fn grad_xyxy_to_cxcywh<T: Float>(g: [T; 4]) -> [T; 4] {
    let half = T::from(0.5).unwrap_or_else(T::nan);
    [
        g[0] + g[2],
        g[1] + g[3],
        (g[2] - g[0]) * half,
        (g[3] - g[1]) * half,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_with_defaults_and_reject_unknowns() {
        let s = BoxLossSpec::parse("smooth_l1", None).unwrap();
        assert_eq!(s.canonical, "smooth_l1(beta=1.0, encoding=raw)");
        let s = BoxLossSpec::parse("ciou(variant=mmdet)", None).unwrap();
        assert_eq!(s.variant, Variant::Mmdet);
        let e = BoxLossSpec::parse("gioux", None).unwrap_err();
        assert!(e.contains("valid losses: iou, iou_log"), "{e}");
        let e = BoxLossSpec::parse("huber(beta=2)", None).unwrap_err();
        assert!(e.contains("valid parameters: delta"), "{e}");
        let e = BoxLossSpec::parse("giou(variant=detectron)", None).unwrap_err();
        assert!(
            e.contains("valid variants: torchvision, mmdet, ultralytics, paper"),
            "{e}"
        );
        assert_eq!(
            BoxLossSpec::parse("alpha_iou(alpha=2, base=diou)", None)
                .unwrap()
                .kind,
            BoxLossKind::Iou(IouLoss::Alpha {
                alpha: 2.0,
                base: AlphaBase::Diou
            })
        );
    }

    #[test]
    fn batch_equals_pairs_for_any_chunking() {
        let n = CHUNK * 2 + 17;
        let mk = |s: f64| -> Vec<f64> { (0..n).map(|i| ((i as f64) * s).sin() * 10.0).collect() };
        let (x1, y1) = (mk(0.37), mk(0.11));
        let x2: Vec<f64> = x1
            .iter()
            .zip(mk(0.23))
            .map(|(a, b)| a + 1.0 + b.abs())
            .collect();
        let y2: Vec<f64> = y1
            .iter()
            .zip(mk(0.71))
            .map(|(a, b)| a + 1.0 + b.abs())
            .collect();
        let t = [mk(0.5), mk(0.9), mk(0.5), mk(0.9)];
        let tx2: Vec<f64> = t[0].iter().map(|a| a + 3.0).collect();
        let ty2: Vec<f64> = t[1].iter().map(|a| a + 2.0).collect();
        let pred = BoxesRef {
            x1: &x1,
            y1: &y1,
            x2: &x2,
            y2: &y2,
        };
        let target = BoxesRef {
            x1: &t[0],
            y1: &t[1],
            x2: &tx2,
            y2: &ty2,
        };
        let spec = BoxLossSpec::parse("ciou", None).unwrap();
        let mut loss = vec![0.0; n];
        let mut g = [vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]];
        let [a, b, c, d] = &mut g;
        spec.batch(pred, target, &mut loss, [a, b, c, d]);
        for i in [0, CHUNK - 1, CHUNK, n - 1] {
            let (v, gr) = spec.pair(pred.get(i), target.get(i));
            assert_eq!(loss[i], v);
            assert_eq!([g[0][i], g[1][i], g[2][i], g[3][i]], gr);
        }
    }
}
