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
//! with the gradient in xyxy (or in the centre form through
//! [`grad_xyxy_to_cxcywh`]).

pub mod authors;
pub mod cls;
pub mod dual;
pub mod elementwise;
pub mod fast;
pub mod iou_family;
pub mod iou_recent;
pub mod spec;

use std::marker::PhantomData;

use num_traits::Float;
use rayon::prelude::*;

use spec::{Params, parse_call};

pub use elementwise::{ElementLoss, Encoding};
pub use iou_family::{AlphaBase, IouLoss, Variant};
pub use iou_recent::{PenaltyBase, WiseVersion};

/// A registered loss: its spec name, parameters with defaults, summary, and
/// the constructor that turns checked parameter values into the loss `K`
/// ([`BoxLossKind`] here, [`cls::ClsKind`] in [`cls::CLS_REGISTRY`]).
/// Adding a loss is adding one row.
pub struct LossInfo<K = BoxLossKind> {
    /// Spec name.
    pub name: &'static str,
    /// `(parameter, default)`; `base` takes a name, the others numbers.
    pub params: &'static [(&'static str, &'static str)],
    /// The variants `variant=` may name (empty: the loss has none); the
    /// first is the default.
    pub variants: &'static [Variant],
    /// One line: formula and source.
    pub about: &'static str,
    /// Builds the loss from the parameters (defaults filled in, names
    /// checked); `Err` says which value is out of range.
    pub build: fn(&Params<'_>) -> Result<K, String>,
}

impl<K> Clone for LossInfo<K> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K> Copy for LossInfo<K> {}

impl<K> std::fmt::Debug for LossInfo<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LossInfo")
            .field("name", &self.name)
            .field("params", &self.params)
            .field("variants", &self.variants)
            .field("about", &self.about)
            .finish_non_exhaustive()
    }
}

/// The `f64` constant `x` in the float type `T` (NaN if `T` cannot hold it,
/// which `f32` and `f64` always can): the one conversion of literals in the
/// loss formulas. Where mixed `Dual4`/`T` arithmetic leaves `T` open to
/// inference, a formula binds `let c = c::<T>;` first.
#[inline(always)]
pub(crate) fn c<T: Float>(x: f64) -> T {
    T::from(x).unwrap_or_else(T::nan)
}

/// An element-wise loss with the spec's `encoding`.
fn element(p: &Params<'_>, e: ElementLoss) -> Result<BoxLossKind, String> {
    let text = p.text("encoding");
    let enc = Encoding::parse(text).ok_or_else(|| {
        format!(
            "`{}`: unknown encoding `{text}`; valid encodings: raw, normalized, deltas",
            p.spec()
        )
    })?;
    Ok(BoxLossKind::Element(e, enc))
}

/// The `base` of Inner-IoU and Focaler-IoU.
fn penalty_base(p: &Params<'_>) -> Result<PenaltyBase, String> {
    let text = p.text("base");
    PenaltyBase::parse(text).ok_or_else(|| {
        let names: Vec<&str> = PenaltyBase::ALL.iter().map(|b| b.name()).collect();
        format!(
            "`{}`: base must be one of {}, got `{text}`",
            p.spec(),
            names.join(", ")
        )
    })
}

/// Every box loss detloss knows.
pub const REGISTRY: &[LossInfo] = &[
    LossInfo {
        name: "iou",
        params: &[],
        variants: &Variant::ALL,
        about: "1 − IoU (UnitBox, linear form)",
        build: |_| Ok(BoxLossKind::Iou(IouLoss::Linear)),
    },
    LossInfo {
        name: "iou_log",
        params: &[],
        variants: &Variant::ALL,
        about: "−ln IoU (UnitBox)",
        build: |_| Ok(BoxLossKind::Iou(IouLoss::Log)),
    },
    LossInfo {
        name: "iou_square",
        params: &[],
        variants: &Variant::ALL,
        about: "1 − IoU² (mmdet IoULoss square mode)",
        build: |_| Ok(BoxLossKind::Iou(IouLoss::Square)),
    },
    LossInfo {
        name: "giou",
        params: &[],
        variants: &Variant::ALL,
        about: "1 − IoU + (A_C − U)/A_C (Rezatofighi et al. 2019)",
        build: |_| Ok(BoxLossKind::Iou(IouLoss::Giou)),
    },
    LossInfo {
        name: "diou",
        params: &[],
        variants: &Variant::ALL,
        about: "1 − IoU + ρ²/c² (Zheng et al. 2020)",
        build: |_| Ok(BoxLossKind::Iou(IouLoss::Diou)),
    },
    LossInfo {
        name: "ciou",
        params: &[],
        variants: &Variant::ALL,
        about: "DIoU + α·v, α constant (Zheng et al. 2020)",
        build: |_| Ok(BoxLossKind::Iou(IouLoss::Ciou)),
    },
    LossInfo {
        name: "eiou",
        params: &[],
        variants: &[Variant::Torchvision, Variant::Paper],
        about: "DIoU + (w − w_g)²/c_w² + (h − h_g)²/c_h² (Zhang et al. 2021)",
        build: |_| Ok(BoxLossKind::Iou(IouLoss::Eiou)),
    },
    LossInfo {
        name: "focal_eiou",
        params: &[("gamma", "0.5")],
        variants: &[Variant::Torchvision, Variant::Paper],
        about: "IoU^γ · EIoU (Zhang et al. 2021)",
        build: |p| {
            Ok(BoxLossKind::Iou(IouLoss::FocalEiou {
                gamma: p.num("gamma")?,
            }))
        },
    },
    LossInfo {
        name: "siou",
        params: &[],
        variants: &[Variant::Torchvision, Variant::Paper],
        about: "1 − IoU + (angle-weighted distance + shape)/2 (Gevorgyan 2022)",
        build: |_| Ok(BoxLossKind::Iou(IouLoss::Siou)),
    },
    LossInfo {
        name: "alpha_iou",
        params: &[("alpha", "3"), ("base", "iou")],
        variants: &[Variant::Torchvision, Variant::Paper],
        about: "1 − IoU^α + penalty^α; base iou|giou|diou|ciou (He et al. 2021)",
        build: |p| {
            let base = match p.text("base") {
                "iou" => AlphaBase::Iou,
                "giou" => AlphaBase::Giou,
                "diou" => AlphaBase::Diou,
                "ciou" => AlphaBase::Ciou,
                other => {
                    return Err(format!(
                        "`{}`: base must be iou, giou, diou or ciou, got `{other}`",
                        p.spec()
                    ));
                }
            };
            Ok(BoxLossKind::Iou(IouLoss::Alpha {
                alpha: p.positive("alpha")?,
                base,
            }))
        },
    },
    LossInfo {
        name: "wiou",
        params: &[
            ("version", "3"),
            ("alpha", "1.9"),
            ("delta", "3"),
            ("momentum", "0.01"),
            ("mean", "running"),
        ],
        variants: &[Variant::Authors],
        about: "Wise-IoU: exp(ρ²/c²)·(1 − IoU), v3 × β/(δα^(β−δ)) (Tong et al. 2023)",
        build: |p| {
            let version = match p.text("version") {
                "1" => WiseVersion::V1,
                "2" => WiseVersion::V2,
                "3" => WiseVersion::V3,
                other => {
                    return Err(format!(
                        "`{}`: version must be 1, 2 or 3, got `{other}`",
                        p.spec()
                    ));
                }
            };
            let momentum = p.num("momentum")?;
            if !(momentum > 0.0 && momentum <= 1.0) {
                return Err(format!(
                    "`{}`: `momentum` must be in (0, 1], got {momentum}",
                    p.spec()
                ));
            }
            let mean = match p.text("mean") {
                "running" => None,
                _ => Some(p.positive("mean")?),
            };
            Ok(BoxLossKind::Iou(IouLoss::Wiou {
                version,
                alpha: p.positive("alpha")?,
                delta: p.positive("delta")?,
                momentum,
                mean,
            }))
        },
    },
    LossInfo {
        name: "mpdiou",
        params: &[],
        variants: &[Variant::Ultralytics, Variant::Paper],
        about: "1 − IoU + (d₁² + d₂²)/(W² + H²), corners and image size (Ma & Xu 2023)",
        build: |_| Ok(BoxLossKind::Iou(IouLoss::Mpdiou)),
    },
    LossInfo {
        name: "inner_iou",
        params: &[("ratio", "0.75"), ("base", "iou")],
        variants: &[Variant::Authors, Variant::Paper],
        about: "L_base + IoU − IoU of boxes scaled by ratio (Zhang et al. 2023)",
        build: |p| {
            Ok(BoxLossKind::Iou(IouLoss::Inner {
                ratio: p.positive("ratio")?,
                base: penalty_base(p)?,
            }))
        },
    },
    LossInfo {
        name: "shape_iou",
        params: &[("scale", "0")],
        variants: &[Variant::Authors, Variant::Paper],
        about: "1 − IoU + shape-weighted distance + shape cost (Zhang & Zhang 2023)",
        build: |p| {
            Ok(BoxLossKind::Iou(IouLoss::Shape {
                scale: p.non_negative("scale")?,
            }))
        },
    },
    LossInfo {
        name: "focaler_iou",
        params: &[("d", "0"), ("u", "0.95"), ("base", "iou")],
        variants: &[Variant::Authors, Variant::Paper],
        about: "L_base + IoU − clamp((IoU − d)/(u − d), 0, 1) (Zhang & Zhang 2024)",
        build: |p| {
            let (d, u) = (p.unit("d")?, p.unit("u")?);
            if d >= u {
                return Err(format!(
                    "`{}`: the interval needs d < u, got d = {d}, u = {u}",
                    p.spec()
                ));
            }
            Ok(BoxLossKind::Iou(IouLoss::Focaler {
                d,
                u,
                base: penalty_base(p)?,
            }))
        },
    },
    LossInfo {
        name: "nwd",
        params: &[("c", "12.8")],
        variants: &[Variant::Authors, Variant::Paper],
        about: "1 − exp(−W₂/C), Gaussian Wasserstein distance, C in pixels (Wang et al. 2021)",
        build: |p| {
            Ok(BoxLossKind::Iou(IouLoss::Nwd {
                c: p.positive("c")?,
            }))
        },
    },
    LossInfo {
        name: "l1",
        params: &[("encoding", "raw")],
        variants: &[],
        about: "Σ|p − t| over the 4 coordinates",
        build: |p| element(p, ElementLoss::L1),
    },
    LossInfo {
        name: "mse",
        params: &[("encoding", "raw")],
        variants: &[],
        about: "Σ(p − t)² over the 4 coordinates",
        build: |p| element(p, ElementLoss::Mse),
    },
    LossInfo {
        name: "smooth_l1",
        params: &[("beta", "1.0"), ("encoding", "raw")],
        variants: &[],
        about: "Σ smooth-L1_β(p − t) (Fast R-CNN)",
        build: |p| {
            let beta = p.num("beta")?;
            if beta < 0.0 {
                return Err(format!("`{}`: `beta` must be ≥ 0", p.spec()));
            }
            // β = 0 is exactly L1 (PyTorch's definition).
            element(
                p,
                if beta == 0.0 {
                    ElementLoss::L1
                } else {
                    ElementLoss::SmoothL1 { beta }
                },
            )
        },
    },
    LossInfo {
        name: "huber",
        params: &[("delta", "1.0"), ("encoding", "raw")],
        variants: &[],
        about: "Σ Huber_δ(p − t)",
        build: |p| {
            element(
                p,
                ElementLoss::Huber {
                    delta: p.positive("delta")?,
                },
            )
        },
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
        build: |p| {
            element(
                p,
                ElementLoss::BalancedL1 {
                    alpha: p.positive("alpha")?,
                    gamma: p.positive("gamma")?,
                    beta: p.positive("beta")?,
                },
            )
        },
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
        let takes_encoding = |i: &LossInfo| i.params.iter().any(|(k, _)| *k == "encoding");
        if let Some(e) = encoding {
            if !takes_encoding(info) {
                let names: Vec<&str> = REGISTRY
                    .iter()
                    .filter(|i| takes_encoding(i))
                    .map(|i| i.name)
                    .collect();
                return Err(format!(
                    "`{name}` takes no encoding: encodings apply to the element-wise losses \
                     ({})",
                    names.join(", ")
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
        let mut var = variant.unwrap_or(
            info.variants
                .first()
                .copied()
                .unwrap_or(Variant::Torchvision),
        );
        let supported = |var: Variant| -> Result<(), String> {
            if info.variants.is_empty() || info.variants.contains(&var) {
                return Ok(());
            }
            let names: Vec<&str> = info.variants.iter().map(|v| v.name()).collect();
            let why = if info.variants.contains(&Variant::Torchvision) {
                "library implementations of it differ in more than eps (mmdet's SIoU and EIoU \
                 are other losses), so only the paper's form is provided"
            } else {
                "no detection library ships it, so its variants are the code its authors (or, \
                 without official code, the implementation everyone copies) published and the \
                 paper's formula"
            };
            Err(format!(
                "`{name}` has the variants {} only: {why}",
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
                    let names: Vec<&str> = info.variants.iter().map(|v| v.name()).collect();
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
        supported(var)?;
        let kind = (info.build)(&values)?;
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

    /// Whether the loss reads the image size: the `normalized` encoding and
    /// MPDIoU.
    pub fn uses_image_size(&self) -> bool {
        matches!(
            self.kind,
            BoxLossKind::Element(_, Encoding::Normalized) | BoxLossKind::Iou(IouLoss::Mpdiou)
        )
    }

    /// The momentum of the running mean the loss divides by, when it has
    /// one to keep: Wise-IoU v2 and v3 with `mean=running`.
    pub fn running_mean(&self) -> Option<f64> {
        match self.kind {
            BoxLossKind::Iou(IouLoss::Wiou {
                version: WiseVersion::V2 | WiseVersion::V3,
                momentum,
                mean: None,
                ..
            }) => Some(momentum),
            _ => None,
        }
    }

    /// The spec with Wise-IoU's mean of `L_IoU` set to `mean` (other losses
    /// unchanged); the canonical text still says `mean=running`.
    pub fn with_mean(&self, mean: f64) -> BoxLossSpec {
        let mut spec = self.clone();
        if let BoxLossKind::Iou(IouLoss::Wiou { mean: m, .. }) = &mut spec.kind {
            *m = Some(mean);
        }
        spec
    }

    /// For a loss with a running mean ([`running_mean`](Self::running_mean)),
    /// the spec with that mean set to the mean of `L_IoU` over `pairs`
    /// (pred, target): the value a running mean settles at on a fixed set,
    /// used where there are no training steps (the loss table, `detloss
    /// loss`). Other specs are returned as they are.
    pub fn with_set_mean(&self, pairs: impl Iterator<Item = ([f64; 4], [f64; 4])>) -> BoxLossSpec {
        if self.running_mean().is_none() {
            return self.clone();
        }
        let (mut sum, mut n) = (0.0, 0usize);
        for (p, t) in pairs {
            sum += iou_recent::wise_iou_base(p, t);
            n += 1;
        }
        let mean = sum / n as f64;
        self.with_mean(if mean > 0.0 { mean } else { 1.0 })
    }
}

/// A box-loss spec with every parameter at its default left out (the
/// variant too): `inner_iou(ratio=0.75, base=ciou, variant=authors)` →
/// `inner_iou(base=ciou)`, `ciou(variant=torchvision)` → `ciou`. For legends,
/// where the canonical text is too long; text that is not a box-loss spec
/// comes back as it is.
pub fn short_spec(spec: &str) -> String {
    let Ok((name, params)) = parse_call(spec) else {
        return spec.to_string();
    };
    let Some(info) = REGISTRY.iter().find(|i| i.name == name) else {
        return spec.to_string();
    };
    let same = |a: &str, b: &str| {
        a == b || matches!((a.parse::<f64>(), b.parse::<f64>()), (Ok(x), Ok(y)) if x == y)
    };
    let kept: Vec<String> = params
        .into_iter()
        .filter(|(k, v)| {
            let default = if k == "variant" {
                info.variants.first().map(|d| d.name())
            } else {
                info.params.iter().find(|(p, _)| p == k).map(|(_, d)| *d)
            };
            !default.is_some_and(|d| same(d, v))
        })
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if kept.is_empty() {
        name
    } else {
        format!("{name}({})", kept.join(", "))
    }
}

/// A box-regression loss: value and exact gradient with respect to the
/// predicted box, for one pair or a batch, in `f32` or `f64`.
pub trait BoxLoss: Sync {
    /// Value and gradient ∂loss/∂(x1, y1, x2, y2) of the prediction, one
    /// pair. Losses that use the image size (the `normalized` encoding) take
    /// it as 1 × 1 here: use [`pair_sized`](Self::pair_sized).
    fn pair<T: Float>(&self, pred: [T; 4], target: [T; 4]) -> (T, [T; 4]) {
        self.pair_sized(pred, target, [T::one(), T::one()])
    }

    /// [`pair`](Self::pair) on an image of `(W, H)` pixels.
    fn pair_sized<T: Float>(&self, pred: [T; 4], target: [T; 4], image: [T; 2]) -> (T, [T; 4]);

    /// Values and gradients for aligned pairs: `loss[i]` and `grad[k][i]`
    /// (k = x1, y1, x2, y2) for `pred[i]` against `target[i]` on an image of
    /// `image[i]` pixels, exactly as [`pair_sized`](Self::pair_sized) gives
    /// them.
    ///
    /// The formula is resolved once, outside the loop, so each loop is
    /// compiled for one formula. Without image sizes (`None`) the `normalized`
    /// encoding takes the coordinates as already normalised (divide them by
    /// the image size first, and the gradient by the same factor after).
    ///
    /// # Panics
    /// When the slices' lengths differ (a caller bug, not an input error).
    fn batch<T: Float + Send + Sync>(
        &self,
        pred: BoxesRef<'_, T>,
        target: BoxesRef<'_, T>,
        image: Option<ImageSizesRef<'_, T>>,
        loss: &mut [T],
        grad: [&mut [T]; 4],
    );
}

/// Struct-of-arrays image sizes, one `(W, H)` per pair, in pixels.
#[derive(Debug, Clone, Copy)]
pub struct ImageSizesRef<'a, T> {
    /// Widths.
    pub w: &'a [T],
    /// Heights.
    pub h: &'a [T],
}

/// Something to do with the one per-pair formula a spec resolves to
/// (`kernel(pred, target, image) -> (value, gradient)`): evaluate one pair,
/// run a batch loop compiled for that formula, or any other loop over pairs
/// (the simulation's descent) — see [`BoxLossSpec::with_kernel`].
pub trait WithKernel<T: Float> {
    /// Compile the kernel for the loss and variant as constants (a batch
    /// loop, where that lets the formula's branches fold away and the loop
    /// vectorise), or take them as values (one pair: no code per loss).
    const SPECIALISE: bool;
    /// What [`run`](Self::run) returns.
    type Out;
    /// Does the work with the spec's per-pair formula `kernel(pred, target,
    /// image size) -> (value, ∂value/∂pred)`, pred and target xyxy.
    fn run<K>(self, kernel: K) -> Self::Out
    where
        K: Fn([T; 4], [T; 4], [T; 2]) -> (T, [T; 4]) + Sync;
}

/// A consumer of a value made a compile-time constant: `fold` on an enum
/// ([`Variant`], [`IouLoss`], [`ElementLoss`]) matches once and calls
/// [`with`](Fold::with) with a closure returning the value, of a distinct
/// type for each enum variant, so code generic over that closure is compiled
/// once per variant with the value's `match`es folded away.
pub(crate) trait Fold<E> {
    type Out;
    fn with<C: Fn() -> E + Copy + Send + Sync>(self, c: C) -> Self::Out;
}

impl BoxLossSpec {
    /// Resolves the spec to its per-pair formula and hands that to `w`: the
    /// one dispatch behind [`BoxLoss::pair_sized`] and [`BoxLoss::batch`],
    /// and behind any loop of a caller's that wants the formula resolved
    /// once, outside the loop.
    ///
    /// The hand-derived kernels of [`fast`] serve the torchvision GIoU, DIoU
    /// and CIoU; every other loss is its `eval`. `sized: false` (no image
    /// sizes) reads `normalized` coordinates as given.
    #[inline(always)]
    pub fn with_kernel<T: Float, W: WithKernel<T>>(&self, sized: bool, w: W) -> W::Out {
        use BoxLossKind::{Element, Iou};
        match (self.kind, self.variant) {
            (Iou(IouLoss::Giou), Variant::Torchvision) => w.run(
                #[inline(always)]
                |p, t, _| fast::giou_torchvision(p, t),
            ),
            (Iou(IouLoss::Diou), Variant::Torchvision) => w.run(
                #[inline(always)]
                |p, t, _| fast::diou_ciou_torchvision::<T, false>(p, t),
            ),
            (Iou(IouLoss::Ciou), Variant::Torchvision) => w.run(
                #[inline(always)]
                |p, t, _| fast::diou_ciou_torchvision::<T, true>(p, t),
            ),
            (Iou(l), var) => fold(
                l,
                IouKernel(var, w, PhantomData),
                W::SPECIALISE,
                IouLoss::fold,
            ),
            (Element(e, enc), _) => {
                let enc = match enc {
                    Encoding::Normalized if !sized => Encoding::Raw,
                    other => other,
                };
                fold(
                    e,
                    ElementKernel(enc, w, PhantomData),
                    W::SPECIALISE,
                    ElementLoss::fold,
                )
            }
        }
    }
}

/// `folder(x, f)` (`x.fold(f)`) when specialising, else `f` with `x` as a
/// value.
#[inline(always)]
fn fold<E, F>(x: E, f: F, specialise: bool, folder: impl FnOnce(E, F) -> F::Out) -> F::Out
where
    E: Copy + Send + Sync,
    F: Fold<E>,
{
    if specialise {
        folder(x, f)
    } else {
        f.with(move || x)
    }
}

/// An IoU-family loss: then its variant.
struct IouKernel<T, W>(Variant, W, PhantomData<fn() -> T>);

impl<T: Float, W: WithKernel<T>> Fold<IouLoss> for IouKernel<T, W> {
    type Out = W::Out;
    #[inline(always)]
    fn with<L: Fn() -> IouLoss + Copy + Send + Sync>(self, l: L) -> W::Out {
        let IouKernel(var, w, _) = self;
        fold(
            var,
            IouVariantKernel(l, w, PhantomData),
            W::SPECIALISE,
            Variant::fold,
        )
    }
}

/// An IoU-family loss and its variant: the kernel.
struct IouVariantKernel<T, L, W>(L, W, PhantomData<fn() -> T>);

impl<T, L, W> Fold<Variant> for IouVariantKernel<T, L, W>
where
    T: Float,
    L: Fn() -> IouLoss + Copy + Send + Sync,
    W: WithKernel<T>,
{
    type Out = W::Out;
    #[inline(always)]
    fn with<V: Fn() -> Variant + Copy + Send + Sync>(self, var: V) -> W::Out {
        let IouVariantKernel(l, w, _) = self;
        w.run(
            #[inline(always)]
            move |p, t, s| {
                let d = l().eval(var(), p, t, s);
                (d.v, d.d)
            },
        )
    }
}

/// An element-wise loss on an encoding (`Raw` also for `normalized`
/// coordinates without image sizes): the kernel.
struct ElementKernel<T, W>(Encoding, W, PhantomData<fn() -> T>);

impl<T: Float, W: WithKernel<T>> Fold<ElementLoss> for ElementKernel<T, W> {
    type Out = W::Out;
    #[inline(always)]
    fn with<E: Fn() -> ElementLoss + Copy + Send + Sync>(self, e: E) -> W::Out {
        let ElementKernel(enc, w, _) = self;
        match enc {
            Encoding::Raw => w.run(
                #[inline(always)]
                move |p, t, _| e().eval(p, t),
            ),
            Encoding::Normalized => w.run(
                #[inline(always)]
                move |p, t, s| e().eval_encoded(Encoding::Normalized, p, t, s),
            ),
            Encoding::Deltas => w.run(
                #[inline(always)]
                move |p, t, s| e().eval_encoded(Encoding::Deltas, p, t, s),
            ),
        }
    }
}

/// [`WithKernel`] for one pair.
struct OnePair<T> {
    pred: [T; 4],
    target: [T; 4],
    image: [T; 2],
}

impl<T: Float> WithKernel<T> for OnePair<T> {
    const SPECIALISE: bool = false;
    type Out = (T, [T; 4]);
    #[inline(always)]
    fn run<K>(self, kernel: K) -> (T, [T; 4])
    where
        K: Fn([T; 4], [T; 4], [T; 2]) -> (T, [T; 4]) + Sync,
    {
        kernel(self.pred, self.target, self.image)
    }
}

/// [`WithKernel`] for a batch: the loop over fixed chunks of [`CHUNK`] pairs.
struct Batch<'a, 'b, T> {
    pred: BoxesRef<'a, T>,
    target: BoxesRef<'a, T>,
    image: Option<ImageSizesRef<'a, T>>,
    loss: &'b mut [T],
    grad: [&'b mut [T]; 4],
}

impl<T: Float + Send + Sync> WithKernel<T> for Batch<'_, '_, T> {
    const SPECIALISE: bool = true;
    type Out = ();
    fn run<K>(self, kernel: K)
    where
        K: Fn([T; 4], [T; 4], [T; 2]) -> (T, [T; 4]) + Sync,
    {
        let Batch {
            pred,
            target,
            image,
            loss,
            grad,
        } = self;
        let n = pred.len();
        assert!(
            target.len() == n
                && loss.len() == n
                && grad.iter().all(|g| g.len() == n)
                && image.is_none_or(|s| s.w.len() == n && s.h.len() == n),
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
                chunk(&kernel, pred, target, image, start, [l, a, b, cc, d]);
            });
    }
}

/// One chunk of a batch from `start`: `out` = loss, ∂x1, ∂y1, ∂x2, ∂y2.
#[inline(always)]
fn chunk<T, K>(
    kernel: &K,
    pred: BoxesRef<'_, T>,
    target: BoxesRef<'_, T>,
    image: Option<ImageSizesRef<'_, T>>,
    start: usize,
    out: [&mut [T]; 5],
) where
    T: Float,
    K: Fn([T; 4], [T; 4], [T; 2]) -> (T, [T; 4]),
{
    let [l, a, b, c, d] = out;
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
    let sizes = image.map(|s| (&s.w[start..end], &s.h[start..end]));
    for j in 0..l.len() {
        // Dead code for the kernels that ignore the image size.
        let size = match sizes {
            Some((w, h)) => [w[j], h[j]],
            None => [T::one(); 2],
        };
        let (v, g) = kernel(
            [px1[j], py1[j], px2[j], py2[j]],
            [tx1[j], ty1[j], tx2[j], ty2[j]],
            size,
        );
        l[j] = v;
        a[j] = g[0];
        b[j] = g[1];
        c[j] = g[2];
        d[j] = g[3];
    }
}

impl BoxLoss for BoxLossSpec {
    #[inline(always)]
    fn pair_sized<T: Float>(&self, pred: [T; 4], target: [T; 4], image: [T; 2]) -> (T, [T; 4]) {
        self.with_kernel(
            true,
            OnePair {
                pred,
                target,
                image,
            },
        )
    }

    fn batch<T: Float + Send + Sync>(
        &self,
        pred: BoxesRef<'_, T>,
        target: BoxesRef<'_, T>,
        image: Option<ImageSizesRef<'_, T>>,
        loss: &mut [T],
        grad: [&mut [T]; 4],
    ) {
        self.with_kernel(
            image.is_some(),
            Batch {
                pred,
                target,
                image,
                loss,
                grad,
            },
        )
    }
}

/// Maps a gradient in xyxy to the centre parameterisation (cx, cy, w, h),
/// where x1 = cx − w/2 and x2 = cx + w/2.
pub fn grad_xyxy_to_cxcywh<T: Float>(g: [T; 4]) -> [T; 4] {
    let half = c::<T>(0.5);
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
    fn short_specs_drop_the_defaults() {
        let short = |s: &str| short_spec(&BoxLossSpec::parse(s, None).unwrap().canonical);
        assert_eq!(short("ciou"), "ciou");
        assert_eq!(short("ciou(variant=mmdet)"), "ciou(variant=mmdet)");
        assert_eq!(short("inner_iou(base=ciou)"), "inner_iou(base=ciou)");
        assert_eq!(
            short("smooth_l1(beta=1, encoding=deltas)"),
            "smooth_l1(encoding=deltas)"
        );
        assert_eq!(short("wiou(version=3, mean=0.5)"), "wiou(mean=0.5)");
        assert_eq!(short_spec("ciou (authors)"), "ciou (authors)");
    }

    #[test]
    fn specs_parse_with_defaults_and_reject_unknowns() {
        let s = BoxLossSpec::parse("smooth_l1", None).unwrap();
        assert_eq!(s.canonical, "smooth_l1(beta=1.0, encoding=raw)");
        let s = BoxLossSpec::parse("ciou(variant=mmdet)", None).unwrap();
        assert_eq!(s.variant, Variant::Mmdet);
        let e = BoxLossSpec::parse("gioux", None).unwrap_err();
        assert!(e.contains("valid losses: iou, iou_log"), "{e}");
        let e = BoxLossSpec::parse_with("giou", None, Some(Encoding::Deltas)).unwrap_err();
        assert!(
            e.contains("element-wise losses (l1, mse, smooth_l1, huber, balanced_l1)"),
            "{e}"
        );
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

    /// Every registered loss (each variant, each encoding) gives in a batch
    /// exactly what it gives pair by pair: with image sizes as
    /// `pair_sized`, without as `pair` (`normalized` then reads the
    /// coordinates as given, i.e. as raw).
    #[test]
    fn batch_with_and_without_image_sizes_equals_pairs() {
        let n = CHUNK + 9;
        let r = |i: usize, s: f64| ((i as f64) * s).sin();
        let col = |f: &dyn Fn(usize) -> f64| -> Vec<f64> { (0..n).map(f).collect() };
        let p = [
            col(&|i| 100.0 * r(i, 0.37)),
            col(&|i| 80.0 * r(i, 0.11)),
            col(&|i| 100.0 * r(i, 0.37) + 5.0 + 40.0 * r(i, 0.23).abs()),
            col(&|i| 80.0 * r(i, 0.11) + 5.0 + 30.0 * r(i, 0.71).abs()),
        ];
        let t = [
            col(&|i| 100.0 * r(i, 0.5)),
            col(&|i| 80.0 * r(i, 0.9)),
            col(&|i| 100.0 * r(i, 0.5) + 30.0),
            col(&|i| 80.0 * r(i, 0.9) + 20.0),
        ];
        let (w, h) = (
            col(&|i| 320.0 + 300.0 * r(i, 0.13).abs()),
            col(&|i| 240.0 + 200.0 * r(i, 0.29).abs()),
        );
        let pred = BoxesRef {
            x1: &p[0],
            y1: &p[1],
            x2: &p[2],
            y2: &p[3],
        };
        let target = BoxesRef {
            x1: &t[0],
            y1: &t[1],
            x2: &t[2],
            y2: &t[3],
        };
        let sizes = ImageSizesRef { w: &w, h: &h };
        let mut specs: Vec<String> = Vec::new();
        for info in REGISTRY {
            for var in info.variants {
                specs.push(format!("{}(variant={})", info.name, var.name()));
            }
            if info.params.iter().any(|(k, _)| *k == "encoding") {
                for enc in Encoding::ALL {
                    specs.push(format!("{}(encoding={})", info.name, enc.name()));
                }
            }
        }
        specs.push("focal_eiou(gamma=1.5, variant=paper)".into());
        specs.push("alpha_iou(alpha=2, base=ciou)".into());
        specs.push("smooth_l1(beta=0.5, encoding=normalized)".into());
        for s in &specs {
            let spec = BoxLossSpec::parse(s, None).unwrap();
            let raw = BoxLossSpec {
                kind: match spec.kind {
                    BoxLossKind::Element(e, Encoding::Normalized) => {
                        BoxLossKind::Element(e, Encoding::Raw)
                    }
                    k => k,
                },
                ..spec.clone()
            };
            for image in [None, Some(sizes)] {
                let mut loss = vec![0.0; n];
                let mut g = [vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]];
                let [a, b, c, d] = &mut g;
                spec.batch(pred, target, image, &mut loss, [a, b, c, d]);
                for i in 0..n {
                    let (v, gr) = match image {
                        Some(_) => spec.pair_sized(pred.get(i), target.get(i), [w[i], h[i]]),
                        None => raw.pair(pred.get(i), target.get(i)),
                    };
                    let got = [loss[i], g[0][i], g[1][i], g[2][i], g[3][i]];
                    let want = [v, gr[0], gr[1], gr[2], gr[3]];
                    // Bitwise, NaN included.
                    assert!(
                        got.iter()
                            .zip(want)
                            .all(|(x, y)| x.to_bits() == y.to_bits()),
                        "{s}, pair {i}, sizes {}: {got:?} vs {want:?}",
                        image.is_some()
                    );
                }
            }
        }
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
        spec.batch(pred, target, None, &mut loss, [a, b, c, d]);
        for i in [0, CHUNK - 1, CHUNK, n - 1] {
            let (v, gr) = spec.pair(pred.get(i), target.get(i));
            assert_eq!(loss[i], v);
            assert_eq!([g[0][i], g[1][i], g[2][i], g[3][i]], gr);
        }
    }
}
