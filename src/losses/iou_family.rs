//! The IoU family of box-regression losses, each with a value and its exact
//! gradient with respect to the predicted box (through [`Dual4`]).
//!
//! Notation (xyxy boxes, prediction `B`, target `G`): `I` intersection, `U`
//! union, `C` the smallest enclosing box with width `c_w`, height `c_h`, area
//! `A_C` and squared diagonal `c² = c_w² + c_h²`; `ρ²` the squared distance of
//! the centres; `v = (4/π²)(atan(w_g/h_g) − atan(w/h))²`.
//!
//! | loss | formula | source |
//! |---|---|---|
//! | `iou` | 1 − IoU | UnitBox (Yu et al. 2016), linear form |
//! | `iou_log` | −ln IoU | UnitBox |
//! | `iou_square` | 1 − IoU² | mmdet `IoULoss(mode="square")` |
//! | `giou` | 1 − IoU + (A_C − U)/A_C | Rezatofighi et al., arXiv 1902.09630 |
//! | `diou` | 1 − IoU + ρ²/c² | Zheng et al., arXiv 1911.08287 |
//! | `ciou` | 1 − IoU + ρ²/c² + α·v, α = v/(1 − IoU + v) held constant | Zheng et al., arXiv 1911.08287 |
//! | `eiou` | 1 − IoU + ρ²/c² + (w − w_g)²/c_w² + (h − h_g)²/c_h² | Zhang et al., arXiv 2101.08158 |
//! | `focal_eiou(gamma)` | IoU^γ · L_EIoU (γ = 0.5) | Zhang et al., arXiv 2101.08158 |
//! | `siou` | 1 − IoU + (Δ + Ω)/2 (below) | Gevorgyan, arXiv 2205.12740 |
//! | `alpha_iou(alpha, base)` | 1 − IoU^α, plus the base's penalty terms raised to α | He et al., arXiv 2110.13675 |
//!
//! SIoU: angle cost Λ = sin 2θ with θ the angle of the centre offset to the x
//! axis (Λ = 2|Δx Δy|/(Δx² + Δy²), the paper's `1 − 2 sin²(arcsin(x) − π/4)`);
//! distance cost Δ = Σ_{x,y} (1 − e^{−(2 − Λ) ρ_t}) with ρ_x = (Δx/c_w)²,
//! ρ_y = (Δy/c_h)²; shape cost Ω = Σ_{w,h} (1 − e^{−ω_t})⁴ with
//! ω_w = |w − w_g| / max(w, w_g). This is the paper's sign (the distance cost
//! grows as the centres move apart), which mmdet's default `neg_gamma=False`
//! does not follow.
//!
//! # Variants
//!
//! | variant | IoU | GIoU | DIoU / CIoU | CIoU α |
//! |---|---|---|---|---|
//! | `torchvision` (default) | I/(U + 1e-7), I = 0 unless both overlaps > 0 | (A_C − U)/(A_C + 1e-7) | ρ²/(c² + 1e-7) | v/(1 − IoU + v + 1e-7), no gate, no clamp |
//! | `mmdet` | I/max(U, 1e-6); IoU losses clamp IoU ≥ 1e-6 | A_C and U floored at 1e-6 | U + 1e-6, c² + 1e-6, `h + 1e-6` in v | 0 unless IoU > 0.5; similarity clamped to [−1, 1] |
//! | `ultralytics` | `h + 1e-7` in every area, U + 1e-7 | A_C + 1e-7 | c² + 1e-7 | v/(v − IoU + 1 + 1e-7) |
//! | `paper` | I/U | (A_C − U)/A_C | ρ²/c² | v/(1 − IoU + v); ∂v/∂w, ∂v/∂h without the 1/(w² + h²) factor (the authors' darknet step) |
//!
//! EIoU, Focal-EIoU, SIoU and α-IoU take the `torchvision` eps placement
//! (additive 1e-7 in every denominator) or `paper` (none).
//!
//! # Degenerate input
//!
//! * Inverted corners (x2 < x1) are read as the box they span: corners are
//!   sorted first, and the gradient goes to the coordinate that supplied each
//!   edge. (torchvision lets a negative area flow through instead.)
//! * A 0/0 — identical zero-area boxes, `α` for identical boxes — is 0, with
//!   zero gradient; `atan(w/h)` is taken as `atan2`-style ±π/2 at `h = 0`.
//!   mmdet's fp32 CIoU gives NaN for identical boxes of area ≳ 10 (α = 0/0);
//!   detloss gives 0.
//! * The log form clamps IoU below at the variant's eps (the smallest positive normal number
//!   for `paper`), so its value is finite and its gradient 0 without overlap.

use std::f64::consts::PI;

use num_traits::Float;

use super::dual::Dual4;
use super::iou_recent::{self, PenaltyBase, WiseVersion};
use super::{Fold, c};

/// Which library's conventions a loss follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    /// torchvision 0.29 (additive eps 1e-7).
    Torchvision,
    /// mmdetection 3.3 (eps floors, CIoU α gate and clamp).
    Mmdet,
    /// ultralytics 8.4 `bbox_iou(xywh=False)`.
    Ultralytics,
    /// The published formula, no eps.
    Paper,
    /// The code the authors of a newer loss published (for the losses of
    /// [`super::iou_recent`], which no library ships): each loss's rustdoc
    /// says what that means for it (for the ultralytics-style snippets, U + eps
    /// and c² + eps, with w and h read from (cx, cy, w, h) input, so no h + eps).
    Authors,
}

impl Variant {
    /// The library variants of the IoU family up to SIoU, default first.
    pub const ALL: [Variant; 4] = [
        Variant::Torchvision,
        Variant::Mmdet,
        Variant::Ultralytics,
        Variant::Paper,
    ];

    /// Every variant name a spec may give.
    pub const NAMED: [Variant; 5] = [
        Variant::Torchvision,
        Variant::Mmdet,
        Variant::Ultralytics,
        Variant::Paper,
        Variant::Authors,
    ];

    /// The name used in specs and reports.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Torchvision => "torchvision",
            Variant::Mmdet => "mmdet",
            Variant::Ultralytics => "ultralytics",
            Variant::Paper => "paper",
            Variant::Authors => "authors",
        }
    }

    /// Parses a variant name.
    pub fn parse(s: &str) -> Option<Variant> {
        Variant::NAMED.into_iter().find(|v| v.name() == s)
    }

    /// Hands `f` this variant as a compile-time constant (see [`Fold`]).
    #[inline(always)]
    pub(crate) fn fold<F: Fold<Variant>>(self, f: F) -> F::Out {
        match self {
            Variant::Torchvision => f.with(|| Variant::Torchvision),
            Variant::Mmdet => f.with(|| Variant::Mmdet),
            Variant::Ultralytics => f.with(|| Variant::Ultralytics),
            Variant::Paper => f.with(|| Variant::Paper),
            Variant::Authors => f.with(|| Variant::Authors),
        }
    }

    pub(super) fn eps(self) -> f64 {
        match self {
            Variant::Torchvision | Variant::Ultralytics | Variant::Authors => 1e-7,
            Variant::Mmdet => 1e-6,
            Variant::Paper => 0.0,
        }
    }
}

/// The members of the family.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum IouLoss {
    /// 1 − IoU.
    Linear,
    /// −ln IoU.
    Log,
    /// 1 − IoU².
    Square,
    /// GIoU.
    Giou,
    /// DIoU.
    Diou,
    /// CIoU.
    Ciou,
    /// EIoU.
    Eiou,
    /// Focal-EIoU with exponent γ.
    FocalEiou {
        /// γ.
        gamma: f64,
    },
    /// SIoU.
    Siou,
    /// α-IoU over a base loss.
    Alpha {
        /// α.
        alpha: f64,
        /// The base: Linear, Giou, Diou or Ciou.
        base: AlphaBase,
    },
    /// Wise-IoU ([`super::iou_recent`]).
    Wiou {
        /// v1, v2 or v3.
        version: WiseVersion,
        /// α of v3's focusing coefficient.
        alpha: f64,
        /// δ of v3's focusing coefficient.
        delta: f64,
        /// The running mean's momentum (read by the experiments).
        momentum: f64,
        /// The mean of `L_IoU` β divides by; `None`: a running mean, 1 in a
        /// kernel on its own (where the authors' running mean starts).
        mean: Option<f64>,
    },
    /// MPDIoU ([`super::iou_recent`]).
    Mpdiou,
    /// Inner-IoU ([`super::iou_recent`]).
    Inner {
        /// The auxiliary boxes' scale.
        ratio: f64,
        /// The base loss.
        base: PenaltyBase,
    },
    /// Shape-IoU ([`super::iou_recent`]).
    Shape {
        /// The exponent of the target-shape weights.
        scale: f64,
    },
    /// Focaler-IoU ([`super::iou_recent`]).
    Focaler {
        /// Lower end of the interval.
        d: f64,
        /// Upper end of the interval.
        u: f64,
        /// The base loss.
        base: PenaltyBase,
    },
    /// The normalised Wasserstein distance loss ([`super::iou_recent`]).
    Nwd {
        /// The constant C, in pixels.
        c: f64,
    },
}

/// The base of an α-IoU loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlphaBase {
    /// 1 − IoU^α.
    Iou,
    /// 1 − IoU^α + ((A_C − U)/A_C)^α.
    Giou,
    /// 1 − IoU^α + (ρ²/c²)^α.
    Diou,
    /// 1 − IoU^α + (ρ²/c²)^α + (α_v·v)^α.
    Ciou,
}

/// The quantities every member is built from (pred `B` against target `G`).
pub(super) struct Geometry<T> {
    pub(super) iou: Dual4<T>,
    pub(super) union: Dual4<T>,
    /// Enclosing width and height.
    pub(super) cw: Dual4<T>,
    pub(super) ch: Dual4<T>,
    /// Centre offsets target − prediction.
    pub(super) dx: Dual4<T>,
    pub(super) dy: Dual4<T>,
    pub(super) w: Dual4<T>,
    pub(super) h: Dual4<T>,
    pub(super) wg: T,
    pub(super) hg: T,
    /// The prediction's corners, sorted (x1 ≤ x2, y1 ≤ y2).
    pub(super) b: [Dual4<T>; 4],
    /// The target's corners, sorted.
    pub(super) bg: [T; 4],
}

#[inline(always)]
pub(super) fn sorted<T: Float>(b: [Dual4<T>; 4]) -> [Dual4<T>; 4] {
    // Swap only a strictly inverted pair: a zero-width box keeps its own
    // corners (and gradients), as the libraries do.
    let (x1, x2) = if b[0].v > b[2].v {
        (b[2], b[0])
    } else {
        (b[0], b[2])
    };
    let (y1, y2) = if b[1].v > b[3].v {
        (b[3], b[1])
    } else {
        (b[1], b[3])
    };
    [x1, y1, x2, y2]
}

#[inline(always)]
pub(super) fn geometry<T: Float>(
    pred: [T; 4],
    target: [T; 4],
    var: Variant,
    floor_union: bool,
) -> Geometry<T> {
    let c = c::<T>;
    let eps = c(var.eps());
    let [x1, y1, x2, y2] = sorted(Dual4::vars(pred));
    let [gx1, gy1, gx2, gy2] = sorted(target.map(Dual4::cst));
    let w = x2 - x1;
    let h = y2 - y1;
    let (wg, hg) = (gx2.v - gx1.v, gy2.v - gy1.v);
    let iw = x2.min(gx2) - x1.max(gx1);
    let ih = y2.min(gy2) - y1.max(gy1);
    let inter = match var {
        Variant::Torchvision => {
            if iw.v > T::zero() && ih.v > T::zero() {
                iw * ih
            } else {
                Dual4::cst(T::zero())
            }
        }
        _ => iw.clamp_min(T::zero()) * ih.clamp_min(T::zero()),
    };
    let (area, area_g) = match var {
        Variant::Ultralytics => (w * (h + eps), Dual4::cst(wg * (hg + eps))),
        _ => (w * h, Dual4::cst(wg * hg)),
    };
    let union = area + area_g - inter;
    let iou = match var {
        Variant::Torchvision | Variant::Ultralytics | Variant::Authors => inter / (union + eps),
        Variant::Mmdet if floor_union => inter / union.clamp_min(eps),
        Variant::Mmdet => inter / (union + eps),
        Variant::Paper => inter.div_or_zero(union),
    };
    let cw = x2.max(gx2) - x1.min(gx1);
    let ch = y2.max(gy2) - y1.min(gy1);
    let two = c(2.0);
    let dx = Dual4::cst((gx1.v + gx2.v) / two) - (x1 + x2) * c(0.5);
    let dy = Dual4::cst((gy1.v + gy2.v) / two) - (y1 + y2) * c(0.5);
    let union = match var {
        Variant::Ultralytics | Variant::Authors => union + eps,
        _ => union,
    };
    Geometry {
        iou,
        union,
        cw,
        ch,
        dx,
        dy,
        w,
        h,
        wg,
        hg,
        b: [x1, y1, x2, y2],
        bg: [gx1.v, gy1.v, gx2.v, gy2.v],
    }
}

/// `a / (b + eps)`, or a guarded `a / b` when eps is 0.
#[inline(always)]
pub(super) fn ratio<T: Float>(a: Dual4<T>, b: Dual4<T>, eps: T) -> Dual4<T> {
    if eps == T::zero() {
        a.div_or_zero(b)
    } else {
        a / (b + eps)
    }
}

/// ρ²/c² with the variant's eps.
#[inline(always)]
pub(super) fn distance_term<T: Float>(g: &Geometry<T>, eps: T) -> Dual4<T> {
    let rho2 = g.dx.sq() + g.dy.sq();
    let c2 = g.cw.sq() + g.ch.sq();
    ratio(rho2, c2, eps)
}

/// The aspect term v, with the `paper` variant's modified derivative.
#[inline(always)]
pub(super) fn aspect_term<T: Float>(g: &Geometry<T>, var: Variant, eps: T) -> Dual4<T> {
    let c = c::<T>;
    let h_eps = match var {
        Variant::Mmdet | Variant::Ultralytics => eps,
        _ => T::zero(),
    };
    let theta_g = Dual4::atan_ratio(Dual4::cst(g.wg), Dual4::cst(g.hg + h_eps));
    let h = g.h + h_eps;
    let theta = if var == Variant::Paper {
        // The authors' step: ∂θ/∂w = h, ∂θ/∂h = −w (1/(w² + h²) removed).
        let exact = Dual4::atan_ratio(g.w, h);
        Dual4 {
            v: exact.v,
            d: std::array::from_fn(|k| g.w.d[k] * h.v - h.d[k] * g.w.v),
        }
    } else {
        Dual4::atan_ratio(g.w, h)
    };
    (theta_g - theta).sq() * c(4.0 / (PI * PI))
}

impl IouLoss {
    /// Hands `f` this loss with its kind a compile-time constant (see
    /// [`Fold`]; the parameters of `FocalEiou` and `Alpha` stay values).
    #[inline(always)]
    pub(crate) fn fold<F: Fold<IouLoss>>(self, f: F) -> F::Out {
        match self {
            IouLoss::Linear => f.with(|| IouLoss::Linear),
            IouLoss::Log => f.with(|| IouLoss::Log),
            IouLoss::Square => f.with(|| IouLoss::Square),
            IouLoss::Giou => f.with(|| IouLoss::Giou),
            IouLoss::Diou => f.with(|| IouLoss::Diou),
            IouLoss::Ciou => f.with(|| IouLoss::Ciou),
            IouLoss::Eiou => f.with(|| IouLoss::Eiou),
            IouLoss::FocalEiou { gamma } => f.with(move || IouLoss::FocalEiou { gamma }),
            IouLoss::Siou => f.with(|| IouLoss::Siou),
            IouLoss::Alpha { alpha, base } => f.with(move || IouLoss::Alpha { alpha, base }),
            IouLoss::Wiou {
                version,
                alpha,
                delta,
                momentum,
                mean,
            } => f.with(move || IouLoss::Wiou {
                version,
                alpha,
                delta,
                momentum,
                mean,
            }),
            IouLoss::Mpdiou => f.with(|| IouLoss::Mpdiou),
            IouLoss::Inner { ratio, base } => f.with(move || IouLoss::Inner { ratio, base }),
            IouLoss::Shape { scale } => f.with(move || IouLoss::Shape { scale }),
            IouLoss::Focaler { d, u, base } => f.with(move || IouLoss::Focaler { d, u, base }),
            IouLoss::Nwd { c } => f.with(move || IouLoss::Nwd { c }),
        }
    }

    /// Loss value and gradient for one pair, `pred` and `target` in xyxy, on
    /// an image of `image = (W, H)` pixels (1 × 1 when unknown; only MPDIoU
    /// reads it).
    #[inline(always)]
    pub fn eval<T: Float>(
        &self,
        var: Variant,
        pred: [T; 4],
        target: [T; 4],
        image: [T; 2],
    ) -> Dual4<T> {
        match *self {
            IouLoss::Wiou {
                version,
                alpha,
                delta,
                mean,
                ..
            } => {
                return iou_recent::wiou(pred, target, version, alpha, delta, mean.unwrap_or(1.0));
            }
            IouLoss::Mpdiou => return iou_recent::mpdiou(pred, target, var, image),
            IouLoss::Inner { ratio, base } => {
                return iou_recent::inner(pred, target, var, ratio, base);
            }
            IouLoss::Shape { scale } => return iou_recent::shape(pred, target, var, scale),
            IouLoss::Focaler { d, u, base } => {
                return iou_recent::focaler(pred, target, var, d, u, base);
            }
            IouLoss::Nwd { c } => return iou_recent::nwd(pred, target, var, c),
            _ => {}
        }
        let one = T::one();
        let eps = c(var.eps());
        let floor = matches!(
            self,
            IouLoss::Linear | IouLoss::Log | IouLoss::Square | IouLoss::Giou
        );
        let g = geometry(pred, target, var, floor);
        let iou_clamped = || {
            let lo = if var == Variant::Paper {
                T::min_positive_value()
            } else {
                eps
            };
            if var == Variant::Mmdet || matches!(self, IouLoss::Log) {
                g.iou.clamp_min(lo)
            } else {
                g.iou
            }
        };
        match *self {
            IouLoss::Linear => -iou_clamped() + one,
            IouLoss::Square => -iou_clamped().sq() + one,
            IouLoss::Log => -iou_clamped().ln(),
            IouLoss::Giou => -g.iou + one + giou_penalty(&g, var, eps),
            IouLoss::Diou => -g.iou + one + distance_term(&g, eps),
            IouLoss::Ciou => ciou(&g, var, eps),
            IouLoss::Eiou => eiou(&g, eps),
            IouLoss::FocalEiou { gamma } => {
                let w = g.iou.clamp_min(T::zero()).powf(c(gamma));
                w * eiou(&g, eps)
            }
            IouLoss::Siou => siou(&g, eps),
            IouLoss::Alpha { alpha, base } => {
                let a = c(alpha);
                let mut l = -g.iou.clamp_min(T::zero()).powf(a) + one;
                match base {
                    AlphaBase::Iou => {}
                    AlphaBase::Giou => {
                        l = l + giou_penalty(&g, var, eps).clamp_min(T::zero()).powf(a)
                    }
                    AlphaBase::Diou => l = l + distance_term(&g, eps).powf(a),
                    AlphaBase::Ciou => {
                        let v = aspect_term(&g, var, eps);
                        let alpha_v = ratio(v, -g.iou + one + v, eps).detach();
                        l = l + distance_term(&g, eps).powf(a) + (alpha_v * v).powf(a);
                    }
                }
                l
            }
            IouLoss::Wiou { .. }
            | IouLoss::Mpdiou
            | IouLoss::Inner { .. }
            | IouLoss::Shape { .. }
            | IouLoss::Focaler { .. }
            | IouLoss::Nwd { .. } => unreachable!("returned by the first match"),
        }
    }
}

/// Intersection over union of two xyxy boxes, no eps (0 when the union is
/// empty), with the corner rule of this module: the IoU pycocotools computes.
///
/// Plain arithmetic, no gradient: the value the `paper` variant's
/// `geometry` computes, operation for operation (tested equal bit for bit),
/// at a fraction of its cost, for callers that need IoU alone in a hot loop
/// (matching, the simulation's (2 − IoU) step factor).
pub fn iou<T: Float>(a: [T; 4], b: [T; 4]) -> T {
    let sort = |b: [T; 4]| {
        let (x1, x2) = if b[0] > b[2] {
            (b[2], b[0])
        } else {
            (b[0], b[2])
        };
        let (y1, y2) = if b[1] > b[3] {
            (b[3], b[1])
        } else {
            (b[1], b[3])
        };
        [x1, y1, x2, y2]
    };
    let ([x1, y1, x2, y2], [gx1, gy1, gx2, gy2]) = (sort(a), sort(b));
    let zero = T::zero();
    let clamp = |v: T| if v > zero { v } else { zero.max(v) };
    let iw = x2.min(gx2) - x1.max(gx1);
    let ih = y2.min(gy2) - y1.max(gy1);
    let inter = clamp(iw) * clamp(ih);
    let union = (x2 - x1) * (y2 - y1) + (gx2 - gx1) * (gy2 - gy1) - inter;
    if union == zero { zero } else { inter / union }
}

/// DIoU's distance term ρ²/c² of two xyxy boxes in plain arithmetic: the
/// squared distance of the centres over the squared diagonal of the smallest
/// enclosing box (0 when that box is a point). DIoU-NMS (Zheng et al. 2020,
/// §5, Eq. 10) suppresses a box when IoU − (ρ²/c²)^β exceeds its threshold.
pub fn diou_penalty(a: [f64; 4], b: [f64; 4]) -> f64 {
    let (cx, cy) = (
        (a[0] + a[2]) / 2.0 - (b[0] + b[2]) / 2.0,
        (a[1] + a[3]) / 2.0 - (b[1] + b[3]) / 2.0,
    );
    let cw = a[0].max(a[2]).max(b[0].max(b[2])) - a[0].min(a[2]).min(b[0].min(b[2]));
    let ch = a[1].max(a[3]).max(b[1].max(b[3])) - a[1].min(a[3]).min(b[1].min(b[3]));
    let c2 = cw * cw + ch * ch;
    if c2 > 0.0 {
        (cx * cx + cy * cy) / c2
    } else {
        0.0
    }
}

/// The CIoU aspect term `v = (4/π²)(atan(w_g/h_g) − atan(w/h))²` of a pair,
/// with its exact gradient (no eps): what CIoU adds to DIoU, per unit of α.
pub fn aspect_v<T: Float>(pred: [T; 4], target: [T; 4]) -> Dual4<T> {
    let g = geometry(pred, target, Variant::Paper, false);
    aspect_term(&g, Variant::Torchvision, T::zero())
}

#[inline(always)]
pub(super) fn giou_penalty<T: Float>(g: &Geometry<T>, var: Variant, eps: T) -> Dual4<T> {
    let ac = g.cw * g.ch;
    match var {
        Variant::Mmdet => {
            let ac = ac.clamp_min(eps);
            (ac - g.union.clamp_min(eps)) / ac
        }
        Variant::Ultralytics | Variant::Authors => {
            let ac = ac + eps;
            (ac - g.union) / ac
        }
        _ => ratio(ac - g.union, ac, eps),
    }
}

/// CIoU's trade-off α = v/(1 − IoU + v) with the variant's eps (mmdet: 0
/// unless IoU > 0.5), held constant (no gradient), as every library does.
#[inline(always)]
pub(super) fn ciou_alpha<T: Float>(v: Dual4<T>, iou: Dual4<T>, var: Variant, eps: T) -> Dual4<T> {
    let one = T::one();
    match var {
        Variant::Torchvision => v / (-iou + one + v + eps),
        Variant::Ultralytics | Variant::Authors => v / (v - iou + (one + eps)),
        Variant::Mmdet => {
            if iou.v > c(0.5) {
                v.div_or_zero(-iou + one + v)
            } else {
                Dual4::cst(T::zero())
            }
        }
        Variant::Paper => v.div_or_zero(-iou + one + v),
    }
    .detach()
}

#[inline(always)]
fn ciou<T: Float>(g: &Geometry<T>, var: Variant, eps: T) -> Dual4<T> {
    let one = T::one();
    let v = aspect_term(g, var, eps);
    let dist = distance_term(g, eps);
    let alpha = ciou_alpha(v, g.iou, var, eps);
    let similarity = g.iou - (dist + alpha * v);
    match var {
        Variant::Mmdet => -similarity.clamp_min(-one).clamp_max(one) + one,
        _ => -similarity + one,
    }
}

/// EIoU's penalty terms ρ²/c², (w − w_g)²/c_w² and (h − h_g)²/c_h².
#[inline(always)]
fn eiou_terms<T: Float>(g: &Geometry<T>, eps: T) -> [Dual4<T>; 3] {
    let dw = (g.w - g.wg).sq();
    let dh = (g.h - g.hg).sq();
    [
        distance_term(g, eps),
        ratio(dw, g.cw.sq(), eps),
        ratio(dh, g.ch.sq(), eps),
    ]
}

/// EIoU's penalty: the sum of its three terms.
#[inline(always)]
pub(super) fn eiou_penalty<T: Float>(g: &Geometry<T>, eps: T) -> Dual4<T> {
    let [d, w, h] = eiou_terms(g, eps);
    d + w + h
}

#[inline(always)]
fn eiou<T: Float>(g: &Geometry<T>, eps: T) -> Dual4<T> {
    let [d, w, h] = eiou_terms(g, eps);
    -g.iou + T::one() + d + w + h
}

/// SIoU's penalty (Δ + Ω)/2 (module docs).
#[inline(always)]
pub(super) fn siou_penalty<T: Float>(g: &Geometry<T>, eps: T) -> Dual4<T> {
    let c = c::<T>;
    let one = T::one();
    let sigma2 = g.dx.sq() + g.dy.sq();
    let lambda = ratio((g.dx * g.dy).abs() * c(2.0), sigma2, eps);
    let gamma = -lambda + c(2.0);
    let rho_x = ratio(g.dx.sq(), g.cw.sq(), eps);
    let rho_y = ratio(g.dy.sq(), g.ch.sq(), eps);
    let delta = -(-(gamma * rho_x)).exp() + one + (-(-(gamma * rho_y)).exp() + one);
    let omega = |a: Dual4<T>, b: T| {
        let m = a.max(Dual4::cst(b));
        let w = ratio((a - b).abs(), m, eps);
        (-(-w).exp() + one).powf(c(4.0))
    };
    let shape = omega(g.w, g.wg) + omega(g.h, g.hg);
    (delta + shape) * c(0.5)
}

#[inline(always)]
fn siou<T: Float>(g: &Geometry<T>, eps: T) -> Dual4<T> {
    -g.iou + T::one() + siou_penalty(g, eps)
}

/// GIoU of a detection against a ground truth as the GIoU authors' COCO
/// evaluation computes it: the overlap behind "AP under the GIoU metric"
/// (Rezatofighi et al., arXiv 1902.09630; reused unchanged by the DIoU
/// authors, arXiv 1911.08287).
///
/// Source: `bbGiou` in the authors' cocoapi fork (`scripts/cocoapi/common/maskApi.c`
/// of GitHub Zzh-tju/DIoU-darknet), which `COCOeval.evaluate(metric='giou')`
/// uses in place of `bbIou`. With `I` the intersection, `C` the area of the
/// smallest enclosing box and `U = A_dt + A_gt − I`,
///
/// `giou = I/U − (C − U)/C`,
///
/// except that for a **crowd** ground truth `U` is the detection's own area
/// (pycocotools' crowd rule for IoU, kept by the fork), so the value is the
/// intersection over the detection's area minus `(C − A_dt)/C`.
///
/// Boxes are COCO `[x, y, w, h]`, not this module's xyxy: the function
/// follows `bbGiou`'s arithmetic step for step (right edge `x + w`, area
/// `w · h`, negative overlaps clamped to 0), so it gives the fork's numbers
/// to the last bit, and it takes the layout of
/// `hotcoco::primitives::sim::bbox_iou_pair`, the IoU it stands in for.
///
/// Where the formula is undefined (`U ≤ 0` or `C ≤ 0`, i.e. zero-area boxes;
/// the C code gives NaN or ±inf) the value is `-inf`: below every COCO
/// threshold, as the C code's NaN is, without a NaN to carry around.
pub fn giou_metric(dt_xywh: [f64; 4], gt_xywh: [f64; 4], gt_is_crowd: bool) -> f64 {
    let (d, g) = (dt_xywh, gt_xywh);
    let da = d[2] * d[3];
    let ga = g[2] * g[3];
    let w = ((d[2] + d[0]).min(g[2] + g[0]) - d[0].max(g[0])).max(0.0);
    let h = ((d[3] + d[1]).min(g[3] + g[1]) - d[1].max(g[1])).max(0.0);
    let i = w * h;
    let u = if gt_is_crowd { da } else { da + ga - i };
    let cw = (d[2] + d[0]).max(g[2] + g[0]) - d[0].min(g[0]);
    let ch = (d[3] + d[1]).max(g[3] + g[1]) - d[1].min(g[1]);
    let c = cw * ch;
    if u <= 0.0 || c <= 0.0 {
        return f64::NEG_INFINITY;
    }
    i / u - (c - u) / c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_iou_equals_the_geometry_bit_for_bit() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            // Coordinates on a coarse grid, so ties, touching, identical,
            // zero-size and inverted boxes all occur.
            ((seed >> 40) % 13) as f64 * 0.5 - 1.0
        };
        for _ in 0..20_000 {
            let a = [next(), next(), next(), next()];
            let b = [next(), next(), next(), next()];
            let want = geometry(a, b, Variant::Paper, false).iou.v;
            assert_eq!(iou(a, b).to_bits(), want.to_bits(), "{a:?} {b:?}");
        }
    }

    fn value(l: IouLoss, v: Variant, p: [f64; 4], g: [f64; 4]) -> f64 {
        l.eval(v, p, g, [1.0, 1.0]).v
    }

    /// Hand-computed forward values (six decimals): the formulas of GIoU
    /// (Rezatofighi et al., arXiv 1902.09630) and DIoU/CIoU (Zheng et al.,
    /// arXiv 1911.08287) worked through in double precision under each
    /// variant's conventions (module table above), independently of this
    /// code. Row 2's mmdet CIoU equals its DIoU because IoU = 1/3 ≤ 0.5 gates
    /// the aspect term off.
    #[test]
    fn reference_table() {
        use Variant::*;
        let rows: [([f64; 4], [f64; 4], [f64; 5]); 5] = [
            (
                [0., 0., 2., 2.],
                [1., 1., 3., 3.],
                [1.079365, 0.968254, 0.968254, 0.968254, 0.968254],
            ),
            (
                [0., 0., 4., 2.],
                [1., 0., 3., 4.],
                [0.916667, 0.697917, 0.731668, 0.697917, 0.731668],
            ),
            (
                [0., 0., 10., 8.],
                [0., 0., 10., 10.],
                [0.2, 0.205, 0.205120, 0.205120, 0.205120],
            ),
            (
                [0., 0., 1., 1.],
                [2., 2., 3., 3.],
                [1.777778, 1.444444, 1.444444, 1.444444, 1.444444],
            ),
            (
                [0., 0., 4., 4.],
                [1., 1., 3., 3.],
                [0.75, 0.75, 0.75, 0.75, 0.75],
            ),
        ];
        for (p, g, want) in rows {
            let got = [
                value(IouLoss::Giou, Torchvision, p, g),
                value(IouLoss::Diou, Torchvision, p, g),
                value(IouLoss::Ciou, Torchvision, p, g),
                value(IouLoss::Ciou, Mmdet, p, g),
                value(IouLoss::Ciou, Ultralytics, p, g),
            ];
            for (a, b) in got.iter().zip(want) {
                // The table has six decimals.
                assert!((a - b).abs() < 1e-6, "{p:?} {g:?}: {got:?} vs {want:?}");
            }
        }
    }
}
