//! The box losses of 2021–2024 that no detection library ships: Wise-IoU,
//! MPDIoU, Inner-IoU, Shape-IoU, Focaler-IoU and the normalised Wasserstein
//! distance, each with its exact gradient (through [`Dual4`]).
//!
//! Notation as in [`super::iou_family`] (prediction `B`, target `G`, xyxy):
//! `I`, `U`, the enclosing box `C` (`c_w`, `c_h`, `c² = c_w² + c_h²`), `ρ²`
//! the squared distance of the centres.
//!
//! | loss | formula | source |
//! |---|---|---|
//! | `wiou(version, alpha, delta)` | v1: `R·L_IoU`, `R = exp(ρ²/sg(c²))`; v2: `√β·v1`; v3: `β/(δ·α^(β−δ))·v1`, `β = sg(L_IoU)/mean` | Tong et al., arXiv 2301.10051; code Instinct323/wiou `iou.py` |
//! | `mpdiou` | `1 − IoU + d₁²/(W² + H²) + d₂²/(W² + H²)`, `d₁`, `d₂` the top-left and bottom-right corner distances, `W × H` the image | Ma & Xu, arXiv 2307.07662 |
//! | `inner_iou(ratio, base)` | `L_base + IoU − IoU_inner`, IoU_inner of both boxes scaled by `ratio` about their centres | Zhang et al., arXiv 2311.02877; code malagoutou/Inner-IoU |
//! | `shape_iou(scale)` | `1 − IoU + (hh·Δx² + ww·Δy²)/c² + ½ Σ_t (1 − e^{−ω_t})⁴` (below) | Zhang & Zhang, arXiv 2312.17663; code malagoutou/Shape-IoU |
//! | `focaler_iou(d, u, base)` | `L_base + IoU − IoU_f`, `IoU_f = clamp((IoU − d)/(u − d), 0, 1)` | Zhang & Zhang, arXiv 2401.10525; code malagoutou/Focaler-IoU |
//! | `nwd(c)` | `1 − exp(−√W₂²/C)`, `W₂² = ‖(c_x, c_y, w/2, h/2) − (…)_g‖²` | Wang et al., arXiv 2110.13389; code jwwangchn/NWD |
//!
//! `sg` is stop-gradient: a quantity held constant in the gradient, as the
//! authors' code `.detach()`es it.
//!
//! # Variants: the authors' code (default) and the paper
//!
//! | loss | `authors` (default) | `paper` |
//! |---|---|---|
//! | `wiou` | `Instinct323/wiou` `iou.py` (`IouLoss`): no eps anywhere; only `c²` is detached in `R`, and the whole factor `r` in v2/v3 | (the same formula: only `authors`) |
//! | `mpdiou` | (no official code) `ultralytics`: the ultralytics-fork `bbox_mpdiou(xywh=False)` every implementation copies: `h + 1e-7` in the areas, `U + 1e-7` | no eps |
//! | `inner_iou` | `innerciou.py`/`innersiou.py`: `U + 1e-7`, `U_inner + 1e-7`, `c² + 1e-7`, CIoU's `α = v/(v − IoU + 1 + 1e-7)` from the original IoU; w and h from (cx, cy, w, h), so no `h + eps`; SIoU as in `innersiou.py` (below); every penalty on the original boxes | no eps |
//! | `shape_iou` | `shapeiou.py`: `U + 1e-7`, `c² + 1e-7`, no eps in `max(w, w_g)` | no eps |
//! | `focaler_iou` | the authors' one line pasted after `iou = inter / union` in ultralytics' `bbox_iou(xywh=False)`: the `ultralytics` conventions, and the remapped IoU also in CIoU's α; SIoU as in `innersiou.py` | no eps; α from the original IoU |
//! | `nwd` | `wasserstein_loss` with the `WassersteinLoss` module's eps = 1e-6 inside `Δc²` (identical boxes cost 1 − exp(−10⁻³/C) ≈ 7.8e-5 at C = 12.8) | no eps |
//!
//! Where the `paper` variant's formula meets 0/0 (identical points, a
//! zero-size box against itself) the value is 0 with zero gradient, as in the
//! rest of the zoo; the authors' code gives NaN there.
//!
//! # Notes per loss
//!
//! * **Wise-IoU.** `L_IoU = 1 − I/U` is the IoU loss; the running mean of
//!   `L_IoU` over training batches (`mean`) starts at 1 and moves as
//!   `mean ← (1 − m)·mean + m·batch mean` *before* β is taken, in the same
//!   forward (`m = momentum`, 0.01 in the authors' current `iou.py`; the paper
//!   and its code at the time use `m = 1 − 0.05^{1/(t·n)}`, about 1e-4 for
//!   their COCO runs). A kernel takes the mean as an input (`mean=…`); with
//!   `mean=running` a single pair or batch uses 1 (where the authors' buffer
//!   starts), the loss table and `detloss loss` the mean over their pairs, and
//!   the simulation and regression a running mean updated once per step
//!   (see `experiments::descent`). α = 1.9, δ = 3 are the paper's and the
//!   authors' YOLOv7 values (third-party copies use 1.7/2.7). `R ≤ e`: the
//!   centres lie inside the enclosing box.
//! * **MPDIoU** is not scale-invariant on its own: scaling the boxes and not
//!   the image changes the penalty. The image size is the batch API's
//!   per-pair `(W, H)`; [`super::BoxLoss::pair`] takes 1 × 1.
//! * **Inner-IoU.** The paper suggests a `ratio` below 1 for high-IoU
//!   samples and above 1 for low ones; the authors' code defaults to 1
//!   (which is the base loss itself); 0.75 here, a common choice in their
//!   follow-ups.
//! * **Shape-IoU.** With `G` of size `w_g × h_g`, `ww = 2w_g^s/(w_g^s + h_g^s)`
//!   and `hh = 2h_g^s/(w_g^s + h_g^s)` (`s = scale`); the x offset and
//!   `ω_w = hh·|w − w_g|/max(w, w_g)` are weighted by `hh`, the y offset and
//!   `ω_h = ww·|h − h_g|/max(h, h_g)` by `ww`. `scale = 0` (the code's
//!   default) gives `ww = hh = 1`. Not symmetric in `B` and `G`.
//! * **SIoU in the authors' snippets** (`innersiou.py`, and the YOLO forks'
//!   `bbox_iou(SIoU=True)`): `s = (Δx + eps, Δy + eps)`, `σ = |s|`, `sin α`
//!   the smaller of `|s_x|/σ`, `|s_y|/σ` (switch at √2/2), angle cost
//!   `Λ = cos(2 arcsin(sin α) − π/2)`, distance cost
//!   `2 − e^{(Λ−2)(s_x/c_w)²} − e^{(Λ−2)(s_y/c_h)²}`, the shape cost as
//!   detloss's SIoU, all halved.
//! * **NWD** is not scale-invariant: `C` is in pixels and is a property of the
//!   dataset (12.8 px is the average absolute object size of AI-TOD, the
//!   authors' tiny-object set). On objects much larger than `C` the loss
//!   saturates near 1 and its gradient vanishes; set `c` to a typical object
//!   size of your data.

use std::f64::consts::{FRAC_1_SQRT_2, FRAC_PI_2};

use num_traits::Float;

use super::c;
use super::dual::Dual4;
use super::iou_family::{
    Geometry, Variant, aspect_term, ciou_alpha, distance_term, eiou_penalty, geometry,
    giou_penalty, ratio, siou_penalty,
};

/// The base loss of Inner-IoU and Focaler-IoU: `L_base = 1 − IoU + P`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PenaltyBase {
    /// No penalty: 1 − IoU.
    Iou,
    /// GIoU's (A_C − U)/A_C.
    Giou,
    /// DIoU's ρ²/c².
    Diou,
    /// CIoU's ρ²/c² + α·v.
    Ciou,
    /// SIoU's (Δ + Ω)/2.
    Siou,
    /// EIoU's ρ²/c² + Δw²/c_w² + Δh²/c_h².
    Eiou,
}

impl PenaltyBase {
    /// Every base, in spec order.
    pub const ALL: [PenaltyBase; 6] = [
        PenaltyBase::Iou,
        PenaltyBase::Giou,
        PenaltyBase::Diou,
        PenaltyBase::Ciou,
        PenaltyBase::Siou,
        PenaltyBase::Eiou,
    ];

    /// The name in specs.
    pub fn name(self) -> &'static str {
        match self {
            PenaltyBase::Iou => "iou",
            PenaltyBase::Giou => "giou",
            PenaltyBase::Diou => "diou",
            PenaltyBase::Ciou => "ciou",
            PenaltyBase::Siou => "siou",
            PenaltyBase::Eiou => "eiou",
        }
    }

    /// Parses a base name.
    pub fn parse(s: &str) -> Option<PenaltyBase> {
        PenaltyBase::ALL.into_iter().find(|b| b.name() == s)
    }
}

/// Wise-IoU's version: which focusing factor multiplies v1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WiseVersion {
    /// `R·L_IoU`.
    V1,
    /// Monotonic focusing: `√β · v1`.
    V2,
    /// Non-monotonic focusing: `β/(δ·α^(β−δ)) · v1`.
    V3,
}

/// The newer losses the experiments run by default (loss table, regression):
/// each at its authors' defaults, Inner- and Focaler-IoU over CIoU.
pub const DEFAULT_SPECS: [&str; 6] = [
    "wiou",
    "mpdiou",
    "inner_iou(base=ciou)",
    "shape_iou",
    "focaler_iou(base=ciou)",
    "nwd",
];

/// What a report's reader must know about a loss of this module beyond its
/// formula, for those that take more than the two boxes (by spec name).
pub fn caveat(name: &str) -> Option<&'static str> {
    match name {
        "wiou" => Some(
            "`wiou` v2 and v3 divide by a running mean of 1 − IoU over the training batches \
             (`mean=running`; `mean=0.4` fixes it).",
        ),
        "mpdiou" => Some(
            "`mpdiou` divides the corner distances by the image's W² + H² (each pair's own \
             image), so it is scale-invariant only when boxes and image scale together.",
        ),
        "nwd" => Some(
            "`nwd` is not scale-invariant: its constant C is in pixels and belongs to the \
             dataset (12.8 px is the average object size of AI-TOD, the tiny-object set it was \
             made for); on objects much larger than C it saturates near 1 and its gradient \
             vanishes, so set `c` to a typical object size of your data.",
        ),
        _ => None,
    }
}

/// `1 − I/U` with no eps (0/0 read as IoU 0): the IoU loss Wise-IoU scales
/// and averages into its running mean.
pub fn wise_iou_base(pred: [f64; 4], target: [f64; 4]) -> f64 {
    1.0 - super::iou_family::iou(pred, target)
}

/// The base's penalty `P` on `g` under `var`'s eps, with CIoU's α taken
/// from `iou_alpha`.
#[inline(always)]
fn penalty<T: Float>(
    base: PenaltyBase,
    g: &Geometry<T>,
    var: Variant,
    eps: T,
    iou_alpha: Dual4<T>,
) -> Dual4<T> {
    match base {
        PenaltyBase::Iou => Dual4::cst(T::zero()),
        PenaltyBase::Giou => giou_penalty(g, var, eps),
        PenaltyBase::Diou => distance_term(g, eps),
        PenaltyBase::Ciou => {
            // The exact ∂v for the paper's formula (the IoU family's `paper`
            // CIoU keeps the darknet step instead).
            let aspect_var = if var == Variant::Paper {
                Variant::Torchvision
            } else {
                var
            };
            let v = aspect_term(g, aspect_var, eps);
            distance_term(g, eps) + ciou_alpha(v, iou_alpha, var, eps) * v
        }
        PenaltyBase::Siou if var == Variant::Paper => siou_penalty(g, eps),
        PenaltyBase::Siou => siou_snippet_penalty(g, var, eps),
        PenaltyBase::Eiou => eiou_penalty(g, eps),
    }
}

/// The SIoU penalty of the authors' snippets (module docs); `h + eps` on the
/// `ultralytics` geometry, as the host `bbox_iou` computes h.
#[inline(always)]
fn siou_snippet_penalty<T: Float>(g: &Geometry<T>, var: Variant, eps: T) -> Dual4<T> {
    let c = c::<T>;
    let one = T::one();
    let s_cw = g.dx + eps;
    let s_ch = g.dy + eps;
    let sigma = (s_cw.sq() + s_ch.sq()).sqrt();
    let sin1 = s_cw.abs().div_or_zero(sigma);
    let sin2 = s_ch.abs().div_or_zero(sigma);
    let sin_alpha = if sin1.v > c(FRAC_1_SQRT_2) {
        sin2
    } else {
        sin1
    };
    let angle = (sin_alpha.asin() * c(2.0) - c(FRAC_PI_2)).cos();
    let gamma = angle - c(2.0);
    let rho_x = s_cw.div_or_zero(g.cw).sq();
    let rho_y = s_ch.div_or_zero(g.ch).sq();
    let distance = -(gamma * rho_x).exp() + c(2.0) - (gamma * rho_y).exp();
    let h_eps = if var == Variant::Ultralytics {
        eps
    } else {
        T::zero()
    };
    let shape = shape_cost(g.w, g.wg, one) + shape_cost(g.h + h_eps, g.hg + h_eps, one);
    (distance + shape) * c(0.5)
}

/// One side's shape cost `(1 − e^{−ω})⁴`, `ω = k·|a − b|/max(a, b)` (0 when
/// both sides are 0): SIoU's as the authors' snippets write it (k = 1) and
/// Shape-IoU's (k its shape weight).
#[inline(always)]
fn shape_cost<T: Float>(a: Dual4<T>, b: T, k: T) -> Dual4<T> {
    let b = Dual4::cst(b);
    let w = ((a - b).abs() * k).div_or_zero(a.max(b));
    (-(-w).exp() + T::one()).powf(c(4.0))
}

/// Wise-IoU v1/v2/v3 with the running mean `mean` of `L_IoU`.
#[inline(always)]
pub(super) fn wiou<T: Float>(
    pred: [T; 4],
    target: [T; 4],
    version: WiseVersion,
    alpha: f64,
    delta: f64,
    mean: f64,
) -> Dual4<T> {
    let one = T::one();
    let g = geometry(pred, target, Variant::Paper, false);
    let l_iou = -g.iou + one;
    let c2 = (g.cw.sq() + g.ch.sq()).detach();
    let rho2 = g.dx.sq() + g.dy.sq();
    let v1 = rho2.div_or_zero(c2).exp() * l_iou;
    // β = 0 when L_IoU = 0, whatever the mean: no 0/0.
    let beta = if l_iou.v == T::zero() {
        T::zero()
    } else {
        l_iou.v / c(mean)
    };
    match version {
        WiseVersion::V1 => v1,
        WiseVersion::V2 => v1 * beta.sqrt(),
        WiseVersion::V3 => {
            let (a, d) = (c::<T>(alpha), c::<T>(delta));
            v1 * (beta / (d * a.powf(beta - d)))
        }
    }
}

/// MPDIoU on an image of `image = (W, H)` pixels.
#[inline(always)]
pub(super) fn mpdiou<T: Float>(
    pred: [T; 4],
    target: [T; 4],
    var: Variant,
    image: [T; 2],
) -> Dual4<T> {
    let g = geometry(pred, target, var, false);
    let [x1, y1, x2, y2] = g.b;
    let [gx1, gy1, gx2, gy2] = g.bg;
    let d1 = (-x1 + gx1).sq() + (-y1 + gy1).sq();
    let d2 = (-x2 + gx2).sq() + (-y2 + gy2).sq();
    let norm = Dual4::cst(image[0] * image[0] + image[1] * image[1]);
    -g.iou + T::one() + d1.div_or_zero(norm) + d2.div_or_zero(norm)
}

/// Inner-IoU over `base`: both boxes scaled by `r` about their centres.
#[inline(always)]
pub(super) fn inner<T: Float>(
    pred: [T; 4],
    target: [T; 4],
    var: Variant,
    r: f64,
    base: PenaltyBase,
) -> Dual4<T> {
    let c = c::<T>;
    let eps = c(var.eps());
    let g = geometry(pred, target, var, false);
    let r = c(r);
    let half = c(0.5);
    let [x1, y1, x2, y2] = g.b;
    let [gx1, gy1, gx2, gy2] = g.bg;
    let scaled = |lo: Dual4<T>, hi: Dual4<T>| {
        let (mid, half_len) = ((lo + hi) * half, (hi - lo) * half);
        (mid - half_len * r, mid + half_len * r)
    };
    let (ix1, ix2) = scaled(x1, x2);
    let (iy1, iy2) = scaled(y1, y2);
    let (gix1, gix2) = scaled(Dual4::cst(gx1), Dual4::cst(gx2));
    let (giy1, giy2) = scaled(Dual4::cst(gy1), Dual4::cst(gy2));
    let iw = (ix2.min(gix2) - ix1.max(gix1)).clamp_min(T::zero());
    let ih = (iy2.min(giy2) - iy1.max(giy1)).clamp_min(T::zero());
    let inter = iw * ih;
    let union = (g.w * r) * (g.h * r) + Dual4::cst((g.wg * r) * (g.hg * r)) - inter;
    let inner_iou = ratio(inter, union, eps);
    -inner_iou + T::one() + penalty(base, &g, var, eps, g.iou)
}

/// Shape-IoU with the target-shape weights of `scale`.
#[inline(always)]
pub(super) fn shape<T: Float>(pred: [T; 4], target: [T; 4], var: Variant, scale: f64) -> Dual4<T> {
    let c = c::<T>;
    let one = T::one();
    let eps = c(var.eps());
    let g = geometry(pred, target, var, false);
    let s = c(scale);
    let (ws, hs) = (g.wg.powf(s), g.hg.powf(s));
    let (ww, hh) = if ws + hs > T::zero() {
        (c(2.0) * ws / (ws + hs), c(2.0) * hs / (ws + hs))
    } else {
        (one, one)
    };
    let c2 = g.cw.sq() + g.ch.sq();
    let distance = ratio(g.dx.sq() * hh + g.dy.sq() * ww, c2, eps);
    let cost = shape_cost(g.w, g.wg, hh) + shape_cost(g.h, g.hg, ww);
    -g.iou + one + distance + cost * c(0.5)
}

/// Focaler-IoU over `base` with the interval `[d, u]`.
#[inline(always)]
pub(super) fn focaler<T: Float>(
    pred: [T; 4],
    target: [T; 4],
    var: Variant,
    d: f64,
    u: f64,
    base: PenaltyBase,
) -> Dual4<T> {
    let c = c::<T>;
    // The authors' line lives in ultralytics' bbox_iou.
    let host = if var == Variant::Authors {
        Variant::Ultralytics
    } else {
        Variant::Paper
    };
    let eps = c(host.eps());
    let g = geometry(pred, target, host, false);
    let f = ((g.iou - c(d)) / Dual4::cst(c(u - d)))
        .clamp_min(T::zero())
        .clamp_max(T::one());
    let iou_alpha = if var == Variant::Authors { f } else { g.iou };
    -f + T::one() + penalty(base, &g, host, eps, iou_alpha)
}

/// The NWD loss with constant `c_px` (pixels).
#[inline(always)]
pub(super) fn nwd<T: Float>(pred: [T; 4], target: [T; 4], var: Variant, c_px: f64) -> Dual4<T> {
    let c = c::<T>;
    let eps = if var == Variant::Authors {
        c(1e-6)
    } else {
        T::zero()
    };
    let [x1, y1, x2, y2] = super::iou_family::sorted(Dual4::vars(pred));
    let [gx1, gy1, gx2, gy2] = super::iou_family::sorted(target.map(Dual4::cst));
    let half = c(0.5);
    let dcx = (x1 + x2) * half - (gx1 + gx2) * half;
    let dcy = (y1 + y2) * half - (gy1 + gy2) * half;
    let centre = dcx.sq() + dcy.sq() + eps;
    let (w1, h1) = (x2 - x1 + eps, y2 - y1 + eps);
    let (w2, h2) = (gx2 - gx1 + eps, gy2 - gy1 + eps);
    let size = ((w1 - w2).sq() + (h1 - h2).sq()) * c(0.25);
    let w2_sq = centre + size;
    -(-(w2_sq.sqrt() / Dual4::cst(c(c_px)))).exp() + T::one()
}
