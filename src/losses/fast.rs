//! Hand-derived kernels for the hottest (loss, variant) pairs.
//!
//! The dual-number forms in [`super::iou_family`] are the reference: every
//! kernel here computes the same value with the same operations and its
//! gradient by hand-written reverse mode, and `tests` below assert agreement
//! with the reference on random and degenerate pairs. They exist for
//! throughput only (fewer operations and branch-free code that the compiler
//! vectorises); the batch loop picks them when the spec matches.

use num_traits::Float;

/// The derivative of `max(a, b)` with respect to `a`: 1, ½ at a tie, 0.
#[inline(always)]
fn dmax<T: Float>(a: T, b: T) -> T {
    let half = T::from(0.5).unwrap_or_else(T::nan);
    if a > b {
        T::one()
    } else if a == b {
        half
    } else {
        T::zero()
    }
}

/// GIoU loss, torchvision 0.29 conventions (`generalized_box_iou_loss`,
/// eps 1e-7, intersection only where both overlaps are positive), with the
/// corner sorting of [`super::iou_family`].
#[inline(always)]
pub fn giou_torchvision<T: Float>(pred: [T; 4], target: [T; 4]) -> (T, [T; 4]) {
    let eps = T::from(1e-7).unwrap_or_else(T::nan);
    let one = T::one();
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
    let (gx1, gx2) = (target[0].min(target[2]), target[0].max(target[2]));
    let (gy1, gy2) = (target[1].min(target[3]), target[1].max(target[3]));
    let (w, h) = (x2 - x1, y2 - y1);
    let area = w * h;
    let area_g = (gx2 - gx1) * (gy2 - gy1);
    let iw = x2.min(gx2) - x1.max(gx1);
    let ih = y2.min(gy2) - y1.max(gy1);
    let overlap = iw > zero && ih > zero;
    let inter = if overlap { iw * ih } else { zero };
    let union = area + area_g - inter;
    let iou = inter / (union + eps);
    let cw = x2.max(gx2) - x1.min(gx1);
    let ch = y2.max(gy2) - y1.min(gy1);
    let ac = cw * ch;
    let loss = -iou + one + (ac - union) / (ac + eps);

    // Reverse mode.
    let inv_u = one / (union + eps);
    let inv_c = one / (ac + eps);
    let d_ac = (union + eps) * inv_c * inv_c;
    let d_union = -inv_c + inter * inv_u * inv_u;
    let d_inter = -inv_u - d_union;
    let (d_iw, d_ih) = if overlap {
        (d_inter * ih, d_inter * iw)
    } else {
        (zero, zero)
    };
    let (d_cw, d_ch) = (d_ac * ch, d_ac * cw);
    let gx1_ = -d_union * h - d_iw * dmax(x1, gx1) - d_cw * dmax(gx1, x1);
    let gx2_ = d_union * h + d_iw * dmax(gx2, x2) + d_cw * dmax(x2, gx2);
    let gy1_ = -d_union * w - d_ih * dmax(y1, gy1) - d_ch * dmax(gy1, y1);
    let gy2_ = d_union * w + d_ih * dmax(gy2, y2) + d_ch * dmax(y2, gy2);
    let (g0, g2) = if swap_x { (gx2_, gx1_) } else { (gx1_, gx2_) };
    let (g1, g3) = if swap_y { (gy2_, gy1_) } else { (gy1_, gy2_) };
    (loss, [g0, g1, g2, g3])
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
    let c = |x: f64| T::from(x).unwrap_or_else(T::nan);
    let eps = c(1e-7);
    let one = T::one();
    let zero = T::zero();
    let half = c(0.5);
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
    let (gx1, gx2) = (target[0].min(target[2]), target[0].max(target[2]));
    let (gy1, gy2) = (target[1].min(target[3]), target[1].max(target[3]));
    let (w, h) = (x2 - x1, y2 - y1);
    let (wg, hg) = (gx2 - gx1, gy2 - gy1);
    let iw = x2.min(gx2) - x1.max(gx1);
    let ih = y2.min(gy2) - y1.max(gy1);
    let overlap = iw > zero && ih > zero;
    let inter = if overlap { iw * ih } else { zero };
    let union = w * h + wg * hg - inter;
    let inv_u = one / (union + eps);
    let iou = inter * inv_u;
    let cw = x2.max(gx2) - x1.min(gx1);
    let ch = y2.max(gy2) - y1.min(gy1);
    let c2 = cw * cw + ch * ch + eps;
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
        let dtheta = angle(wg, hg) - angle(w, h);
        let k = c(4.0 / (std::f64::consts::PI * std::f64::consts::PI));
        let v = k * dtheta * dtheta;
        let alpha = v / (-iou + one + v + eps);
        loss = loss + alpha * v;
        // ∂(α v)/∂θ with α constant, θ = atan(w/h): −2kα(θ_g − θ);
        // ∂θ/∂w = h/(w² + h²), ∂θ/∂h = −w/(w² + h²) (0 at the origin).
        let r2 = w * w + h * h;
        let inv_r2 = if r2 > zero { one / r2 } else { zero };
        let d_theta = -(k + k) * alpha * dtheta;
        d_w = d_theta * h * inv_r2;
        d_h = -d_theta * w * inv_r2;
    }

    // Reverse mode.
    let d_union = inter * inv_u * inv_u;
    let d_inter = -inv_u - d_union;
    d_w = d_w + d_union * h;
    d_h = d_h + d_union * w;
    let (d_iw, d_ih) = if overlap {
        (d_inter * ih, d_inter * iw)
    } else {
        (zero, zero)
    };
    let d_c2 = -rho2 * inv_c2 * inv_c2;
    let (d_cw, d_ch) = (d_c2 * (cw + cw), d_c2 * (ch + ch));
    let (d_sx, d_sy) = (inv_c2 * sx * half, inv_c2 * sy * half);
    let gx1_ = -d_w - d_iw * dmax(x1, gx1) - d_cw * dmax(gx1, x1) + d_sx;
    let gx2_ = d_w + d_iw * dmax(gx2, x2) + d_cw * dmax(x2, gx2) + d_sx;
    let gy1_ = -d_h - d_ih * dmax(y1, gy1) - d_ch * dmax(gy1, y1) + d_sy;
    let gy2_ = d_h + d_ih * dmax(gy2, y2) + d_ch * dmax(y2, gy2) + d_sy;
    let (g0, g2) = if swap_x { (gx2_, gx1_) } else { (gx1_, gx2_) };
    let (g1, g3) = if swap_y { (gy2_, gy1_) } else { (gy1_, gy2_) };
    (loss, [g0, g1, g2, g3])
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
            let r = loss.eval(Variant::Torchvision, p, g);
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
