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
    /// Value and derivative for one coordinate.
    pub fn coord<T: Float>(&self, p: T, t: T) -> (T, T) {
        let c = |x: f64| T::from(x).unwrap_or_else(T::nan);
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
