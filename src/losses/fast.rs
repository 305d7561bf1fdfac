//! Hand-derived kernels for the hottest (loss, variant) pairs.
//!
//! The dual-number forms in [`super::iou_family`] are the reference: every
//! kernel here computes the same value with the same operations and its
//! gradient by hand-written reverse mode, and `tests` below assert agreement
//! with the reference on random and degenerate pairs. They exist for
//! throughput only (fewer operations and branch-free code that the compiler
//! vectorises); the batch loop picks them when the spec matches.

use num_traits::Float;

use super::c;

/// The derivative of `max(a, b)` with respect to `a`: 1, ½ at a tie, 0.
#[inline(always)]
fn dmax<T: Float>(a: T, b: T) -> T {
    let half = c(0.5);
    if a > b {
        T::one()
    } else if a == b {
        half
    } else {
        T::zero()
    }
}

/// The geometry both kernels start from: sorted corners (as
/// [`super::iou_family`] sorts them), the torchvision intersection (only
/// where both overlaps are positive), union and enclosing box.
struct Pair<T> {
    swap_x: bool,
    swap_y: bool,
    p: [T; 4],
    g: [T; 4],
    w: T,
    h: T,
    iw: T,
    ih: T,
    overlap: bool,
    inter: T,
    union: T,
    cw: T,
    ch: T,
}

#[inline(always)]
fn setup<T: Float>(pred: [T; 4], target: [T; 4]) -> Pair<T> {
    let zero = T::zero();
    let swap_x = pred[0] > pred[2];
    let swap_y = pred[1] > pred[3];
    let (x1, x2) = if swap_x {
        (pred[2], pred[0])
    } else {
        (pred[0], pred[2])
    };
    let (y1, y2) = if swap_y {
        (pred[3], pred[1])
    } else {
        (pred[1], pred[3])
    };
    let g = [
        target[0].min(target[2]),
        target[1].min(target[3]),
        target[0].max(target[2]),
        target[1].max(target[3]),
    ];
    let (w, h) = (x2 - x1, y2 - y1);
    let iw = x2.min(g[2]) - x1.max(g[0]);
    let ih = y2.min(g[3]) - y1.max(g[1]);
    let overlap = iw > zero && ih > zero;
    let inter = if overlap { iw * ih } else { zero };
    let union = w * h + (g[2] - g[0]) * (g[3] - g[1]) - inter;
    let cw = x2.max(g[2]) - x1.min(g[0]);
    let ch = y2.max(g[3]) - y1.min(g[1]);
    Pair {
        swap_x,
        swap_y,
        p: [x1, y1, x2, y2],
        g,
        w,
        h,
        iw,
        ih,
        overlap,
        inter,
        union,
        cw,
        ch,
    }
}

/// Adjoints of the pieces of [`Pair`] (and of the centre offsets), mapped
/// back to ∂loss/∂(x1, y1, x2, y2) of the prediction as given.
struct Adjoints<T> {
    /// ∂/∂union.
    union: T,
    /// ∂/∂inter.
    inter: T,
    /// ∂/∂w and ∂/∂h beyond the union's area term.
    w: T,
    h: T,
    /// ∂/∂cw, ∂/∂ch.
    cw: T,
    ch: T,
    /// ∂/∂(x1 + x2), ∂/∂(y1 + y2).
    sx: T,
    sy: T,
}

#[inline(always)]
fn gradient<T: Float>(q: &Pair<T>, a: Adjoints<T>) -> [T; 4] {
    let zero = T::zero();
    let [x1, y1, x2, y2] = q.p;
    let [gx1, gy1, gx2, gy2] = q.g;
    let d_w = a.w + a.union * q.h;
    let d_h = a.h + a.union * q.w;
    let (d_iw, d_ih) = if q.overlap {
        (a.inter * q.ih, a.inter * q.iw)
    } else {
        (zero, zero)
    };
    let gx1_ = -d_w - d_iw * dmax(x1, gx1) - a.cw * dmax(gx1, x1) + a.sx;
    let gx2_ = d_w + d_iw * dmax(gx2, x2) + a.cw * dmax(x2, gx2) + a.sx;
    let gy1_ = -d_h - d_ih * dmax(y1, gy1) - a.ch * dmax(gy1, y1) + a.sy;
    let gy2_ = d_h + d_ih * dmax(gy2, y2) + a.ch * dmax(y2, gy2) + a.sy;
    let (g0, g2) = if q.swap_x { (gx2_, gx1_) } else { (gx1_, gx2_) };
    let (g1, g3) = if q.swap_y { (gy2_, gy1_) } else { (gy1_, gy2_) };
    [g0, g1, g2, g3]
}

/// GIoU loss, torchvision 0.29 conventions (`generalized_box_iou_loss`,
/// eps 1e-7, intersection only where both overlaps are positive), with the
/// corner sorting of [`super::iou_family`].
#[inline(always)]
pub fn giou_torchvision<T: Float>(pred: [T; 4], target: [T; 4]) -> (T, [T; 4]) {
    let eps = c(1e-7);
    let (one, zero) = (T::one(), T::zero());
    let q = setup(pred, target);
    let iou = q.inter / (q.union + eps);
    let ac = q.cw * q.ch;
    let loss = -iou + one + (ac - q.union) / (ac + eps);
    // Reverse mode.
    let inv_u = one / (q.union + eps);
    let inv_c = one / (ac + eps);
    let d_ac = (q.union + eps) * inv_c * inv_c;
    let d_union = -inv_c + q.inter * inv_u * inv_u;
    let adj = Adjoints {
        union: d_union,
        inter: -inv_u - d_union,
        w: zero,
        h: zero,
        cw: d_ac * q.ch,
        ch: d_ac * q.cw,
        sx: zero,
        sy: zero,
    };
    (loss, gradient(&q, adj))
}

/// DIoU (`CIOU = false`) or CIoU (`CIOU = true`) loss, torchvision 0.29
/// conventions (`distance_box_iou_loss`, `complete_box_iou_loss`: eps 1e-7
/// in the union, the squared diagonal and α's denominator; α held
/// constant), with the corner sorting and `atan` of [`super::iou_family`].
#[inline(always)]
pub fn diou_ciou_torchvision<T: Float, const CIOU: bool>(
    pred: [T; 4],
    target: [T; 4],
) -> (T, [T; 4]) {
    let c = c::<T>;
    let eps = c(1e-7);
    let (one, zero, half) = (T::one(), T::zero(), c(0.5));
    let q = setup(pred, target);
    let inv_u = one / (q.union + eps);
    let iou = q.inter * inv_u;
    let c2 = q.cw * q.cw + q.ch * q.ch + eps;
    let [x1, y1, x2, y2] = q.p;
    let [gx1, gy1, gx2, gy2] = q.g;
    let sx = x1 + x2 - gx1 - gx2;
    let sy = y1 + y2 - gy1 - gy2;
    let rho2 = (sx * sx + sy * sy) * c(0.25);
    let inv_c2 = one / c2;
    let mut loss = -iou + one + rho2 * inv_c2;
    let (mut d_w, mut d_h) = (zero, zero);
    if CIOU {
        let angle = |a: T, b: T| {
            if a == zero && b == zero {
                zero
            } else {
                super::dual::atan(a / b)
            }
        };
        // θ_g − θ with one atan where it can: for sides ≥ 0,
        // atan(a) − atan(b) = atan((a − b)/(1 + ab)), i.e. with a = w_g/h_g
        // and b = w/h, atan((w_g·h − w·h_g)/(h_g·h + w_g·w)) whenever that
        // denominator is positive (both angles in [0, π/2]); else the two.
        let (gw, gh) = (gx2 - gx1, gy2 - gy1);
        let den = gh * q.h + gw * q.w;
        let dtheta = if den > zero {
            super::dual::atan((gw * q.h - q.w * gh) / den)
        } else {
            angle(gw, gh) - angle(q.w, q.h)
        };
        let k = c(4.0 / (std::f64::consts::PI * std::f64::consts::PI));
        let v = k * dtheta * dtheta;
        let alpha = v / (-iou + one + v + eps);
        loss = loss + alpha * v;
        // ∂(α v)/∂θ with α constant, θ = atan(w/h): −2kα(θ_g − θ);
        // ∂θ/∂w = h/(w² + h²), ∂θ/∂h = −w/(w² + h²) (0 at the origin).
        let r2 = q.w * q.w + q.h * q.h;
        let inv_r2 = if r2 > zero { one / r2 } else { zero };
        let d_theta = -(k + k) * alpha * dtheta;
        d_w = d_theta * q.h * inv_r2;
        d_h = -d_theta * q.w * inv_r2;
    }
    // Reverse mode.
    let d_union = q.inter * inv_u * inv_u;
    let d_c2 = -rho2 * inv_c2 * inv_c2;
    let adj = Adjoints {
        union: d_union,
        inter: -inv_u - d_union,
        w: d_w,
        h: d_h,
        cw: d_c2 * (q.cw + q.cw),
        ch: d_c2 * (q.ch + q.ch),
        sx: inv_c2 * sx * half,
        sy: inv_c2 * sy * half,
    };
    (loss, gradient(&q, adj))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::{IouLoss, Variant};

    fn boxes() -> Vec<([f64; 4], [f64; 4])> {
        let mut s = 1u64;
        let mut r = move || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut v: Vec<([f64; 4], [f64; 4])> = (0..20_000)
            .map(|_| {
                let g = [r() * 50.0, r() * 50.0, 0.0, 0.0];
                let g = [g[0], g[1], g[0] + 1.0 + r() * 30.0, g[1] + 1.0 + r() * 30.0];
                let p = [r() * 60.0, r() * 60.0, 0.0, 0.0];
                (
                    [p[0], p[1], p[0] + r() * 40.0, p[1] + r() * 40.0]
                        .map(|x| (x * 4.0).round() / 4.0),
                    g.map(|x| (x * 4.0).round() / 4.0),
                )
            })
            .collect();
        v.push(([0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0]));
        v.push(([3.0, 3.0, 1.0, 1.0], [0.0, 0.0, 2.0, 2.0]));
        v.push(([1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]));
        v.push(([0.0, 0.0, 1.0, 1.0], [1.0, 0.0, 2.0, 1.0]));
        v
    }

    type Kernel = fn([f64; 4], [f64; 4]) -> (f64, [f64; 4]);

    fn agree(kernel: Kernel, loss: IouLoss) {
        // Coordinates on a quarter-pixel grid, so ties (shared edges,
        // identical corners) are frequent.
        for (p, g) in boxes() {
            let (v, d) = kernel(p, g);
            let r = loss.eval(Variant::Torchvision, p, g, [1.0, 1.0]);
            assert!(
                (v - r.v).abs() <= 1e-12 * r.v.abs().max(1.0),
                "{p:?} {g:?}: {v} vs {}",
                r.v
            );
            for k in 0..4 {
                assert!(
                    (d[k] - r.d[k]).abs() <= 1e-12 * r.d[k].abs().max(1.0),
                    "{p:?} {g:?}: {d:?} vs {:?}",
                    r.d
                );
            }
        }
    }

    #[test]
    fn kernels_equal_the_reference() {
        agree(giou_torchvision, IouLoss::Giou);
        agree(diou_ciou_torchvision::<f64, false>, IouLoss::Diou);
        agree(diou_ciou_torchvision::<f64, true>, IouLoss::Ciou);
    }
}
