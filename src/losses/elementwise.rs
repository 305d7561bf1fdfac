//! Element-wise regression losses, summed over the four box coordinates.
//!
//! With `n = |p − t|` per coordinate:
//!
//! | loss | per coordinate | source |
//! |---|---|---|
//! | `l1` | n | PyTorch `l1_loss` |
//! | `mse` | n² | PyTorch `mse_loss` |
//! | `smooth_l1(beta)` | 0.5·n²/β if n < β, else n − 0.5·β (β = 0: L1) | PyTorch `smooth_l1_loss`, Fast R-CNN |
//! | `huber(delta)` | 0.5·n² if n < δ, else δ·(n − 0.5·δ) | PyTorch `huber_loss` |
//! | `balanced_l1(alpha, gamma, beta)` | (α/b)(b·n + 1)·ln(b·n/β + 1) − α·n if n < β, else γ·n + γ/b − α·β, with b = e^{γ/α} − 1 | Libra R-CNN (Pang et al., arXiv 1904.02701), mmdet `balanced_l1_loss` |
//!
//! The derivative of |p − t| at p = t is taken as 0, as PyTorch's `sign` does.

use num_traits::Float;

use super::{Fold, c};

/// The element-wise losses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ElementLoss {
    /// L1 / MAE.
    L1,
    /// L2 / MSE.
    Mse,
    /// Smooth L1 with threshold β.
    SmoothL1 {
        /// β.
        beta: f64,
    },
    /// Huber with threshold δ.
    Huber {
        /// δ.
        delta: f64,
    },
    /// Balanced L1.
    BalancedL1 {
        /// α.
        alpha: f64,
        /// γ.
        gamma: f64,
        /// β.
        beta: f64,
    },
}

impl ElementLoss {
    /// Hands `f` this loss with its kind a compile-time constant (see
    /// [`Fold`]; the parameters stay values).
    #[inline(always)]
    pub(crate) fn fold<F: Fold<ElementLoss>>(self, f: F) -> F::Out {
        match self {
            ElementLoss::L1 => f.with(|| ElementLoss::L1),
            ElementLoss::Mse => f.with(|| ElementLoss::Mse),
            ElementLoss::SmoothL1 { beta } => f.with(move || ElementLoss::SmoothL1 { beta }),
            ElementLoss::Huber { delta } => f.with(move || ElementLoss::Huber { delta }),
            ElementLoss::BalancedL1 { alpha, gamma, beta } => {
                f.with(move || ElementLoss::BalancedL1 { alpha, gamma, beta })
            }
        }
    }

    /// Value and derivative for one coordinate.
    #[inline(always)]
    pub fn coord<T: Float>(&self, p: T, t: T) -> (T, T) {
        let c = c::<T>;
        let d = p - t;
        let n = d.abs();
        let s = if d > T::zero() {
            T::one()
        } else if d < T::zero() {
            -T::one()
        } else {
            T::zero()
        };
        let half = c(0.5);
        match *self {
            ElementLoss::L1 => (n, s),
            ElementLoss::Mse => (d * d, d + d),
            ElementLoss::SmoothL1 { beta } => {
                let b = c(beta);
                if n < b {
                    (half * n * n / b, d / b)
                } else {
                    (n - half * b, s)
                }
            }
            ElementLoss::Huber { delta } => {
                let dl = c(delta);
                if n < dl {
                    (half * n * n, d)
                } else {
                    (dl * (n - half * dl), dl * s)
                }
            }
            ElementLoss::BalancedL1 { alpha, gamma, beta } => {
                let (a, g, be) = (c(alpha), c(gamma), c(beta));
                let b = (g / a).exp() - T::one();
                if n < be {
                    let v = a / b * (b * n + T::one()) * (b * n / be + T::one()).ln() - a * n;
                    // d/dn = α·ln(b·n/β + 1) + (α/β)(b·n + 1)/(b·n/β + 1) − α
                    let dn = a * (b * n / be + T::one()).ln()
                        + a / be * (b * n + T::one()) / (b * n / be + T::one())
                        - a;
                    (v, dn * s)
                } else {
                    (g * n + g / b - a * be, g * s)
                }
            }
        }
    }

    /// Value and gradient for a box, summed over the four coordinates.
    #[inline(always)]
    pub fn eval<T: Float>(&self, pred: [T; 4], target: [T; 4]) -> (T, [T; 4]) {
        let mut total = T::zero();
        let mut grad = [T::zero(); 4];
        for k in 0..4 {
            let (v, g) = self.coord(pred[k], target[k]);
            total = total + v;
            grad[k] = g;
        }
        (total, grad)
    }
}

/// The coordinates an element-wise loss compares.
///
/// | encoding | prediction's code | target's code |
/// |---|---|---|
/// | `raw` | x1, y1, x2, y2 in pixels | the same |
/// | `normalized` | x1/W, y1/H, x2/W, y2/H for an image of W × H | the same |
/// | `deltas` | Faster R-CNN deltas relative to the target box: (c_x − c_x^g)/(w_g·0.1), (c_y − c_y^g)/(h_g·0.1), ln(w/w_g)/0.2, ln(h/h_g)/0.2 | 0 |
///
/// `deltas` uses the target as the reference box, so the loss measures the
/// regression step from the prediction onto its target in R-CNN units
/// (Girshick, Fast R-CNN; stds 0.1, 0.1, 0.2, 0.2 as in torchvision and
/// mmdet). Widths and heights below `ε·(1 + max |coordinate|)` (ε the
/// float type's machine epsilon) are raised to it, so degenerate boxes stay
/// finite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// Pixel xyxy.
    #[default]
    Raw,
    /// xyxy divided by the image size.
    Normalized,
    /// Faster R-CNN deltas relative to the target.
    Deltas,
}

/// The Faster R-CNN delta stds (x, y, w, h).
pub const DELTA_STDS: [f64; 4] = [0.1, 0.1, 0.2, 0.2];

impl Encoding {
    /// Every encoding.
    pub const ALL: [Encoding; 3] = [Encoding::Raw, Encoding::Normalized, Encoding::Deltas];

    /// The name used in specs and on the CLI.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Raw => "raw",
            Encoding::Normalized => "normalized",
            Encoding::Deltas => "deltas",
        }
    }

    /// Parses an encoding name.
    pub fn parse(s: &str) -> Option<Encoding> {
        Encoding::ALL.into_iter().find(|e| e.name() == s)
    }
}

impl ElementLoss {
    /// Value and gradient (with respect to the prediction's xyxy pixels) of
    /// the loss summed over the four coordinates of an encoding; `image` is
    /// `(W, H)`, used by `normalized` only.
    #[inline(always)]
    pub fn eval_encoded<T: Float>(
        &self,
        enc: Encoding,
        pred: [T; 4],
        target: [T; 4],
        image: [T; 2],
    ) -> (T, [T; 4]) {
        use super::dual::Dual4;
        let (codes, tcodes): ([Dual4<T>; 4], [T; 4]) = match enc {
            Encoding::Raw => return self.eval(pred, target),
            Encoding::Normalized => {
                let p = Dual4::vars(pred);
                let inv = [image[0], image[1], image[0], image[1]].map(|s| T::one() / s);
                (
                    std::array::from_fn(|k| p[k] * inv[k]),
                    std::array::from_fn(|k| target[k] * inv[k]),
                )
            }
            Encoding::Deltas => {
                let scale = pred
                    .iter()
                    .chain(&target)
                    .fold(T::zero(), |m, v| m.max(v.abs()));
                let floor = T::epsilon() * (T::one() + scale);
                let [x1, y1, x2, y2] = Dual4::vars(pred);
                let half = c(0.5);
                let (w, h) = ((x2 - x1).clamp_min(floor), (y2 - y1).clamp_min(floor));
                let (cx, cy) = ((x1 + x2) * half, (y1 + y2) * half);
                let wg = (target[2] - target[0]).max(floor);
                let hg = (target[3] - target[1]).max(floor);
                let (cxg, cyg) = (
                    (target[0] + target[2]) * half,
                    (target[1] + target[3]) * half,
                );
                let s = DELTA_STDS.map(c);
                (
                    [
                        (cx - cxg) * (T::one() / (wg * s[0])),
                        (cy - cyg) * (T::one() / (hg * s[1])),
                        (w / Dual4::cst(wg)).ln() * (T::one() / s[2]),
                        (h / Dual4::cst(hg)).ln() * (T::one() / s[3]),
                    ],
                    [T::zero(); 4],
                )
            }
        };
        let mut total = T::zero();
        let mut grad = [T::zero(); 4];
        for k in 0..4 {
            let (v, dv) = self.coord(codes[k].v, tcodes[k]);
            total = total + v;
            for (g, dc) in grad.iter_mut().zip(codes[k].d) {
                *g = *g + dv * dc;
            }
        }
        (total, grad)
    }
}
