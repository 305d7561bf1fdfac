//! Forward-mode dual numbers over the four predicted coordinates: the one
//! implementation of the chain rule behind every box-loss gradient.
//!
//! A [`Dual4`] carries a value and its exact partial derivatives with respect
//! to `(x1, y1, x2, y2)` of the predicted box. Each loss is written once, as
//! its forward formula; the gradient is exact to rounding (no finite
//! differences). Where PyTorch implementations take a subgradient or hold a
//! quantity constant, the same choice is available here:
//!
//! * `max`/`min` ties split the derivative equally between the two arguments
//!   (PyTorch's `maximum`/`minimum` backward);
//! * [`Dual4::clamp_min`] passes the derivative only where `x > lo`
//!   (PyTorch 2.14's `clamp` backward, measured by the golden tests: at the
//!   bound itself the gradient is 0, so touching boxes get none from the
//!   clamped intersection);
//! * [`Dual4::detach`] drops the derivative (`torch.no_grad()` / `.detach()`).

use std::ops::{Add, Div, Mul, Neg, Sub};

use num_traits::Float;

use super::c;

/// A value with its gradient with respect to the four predicted coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dual4<T> {
    /// The value.
    pub v: T,
    /// ∂value/∂(x1, y1, x2, y2).
    pub d: [T; 4],
}

impl<T: Float> Dual4<T> {
    /// A constant (zero gradient).
    #[inline(always)]
    pub fn cst(v: T) -> Self {
        Dual4 {
            v,
            d: [T::zero(); 4],
        }
    }

    /// The `k`-th input variable.
    #[inline(always)]
    pub fn var(v: T, k: usize) -> Self {
        let mut d = [T::zero(); 4];
        d[k] = T::one();
        Dual4 { v, d }
    }

    /// The four predicted coordinates as variables.
    #[inline(always)]
    pub fn vars(b: [T; 4]) -> [Self; 4] {
        [
            Self::var(b[0], 0),
            Self::var(b[1], 1),
            Self::var(b[2], 2),
            Self::var(b[3], 3),
        ]
    }

    /// A constant from an `f64` literal.
    #[inline(always)]
    pub fn lit(x: f64) -> Self {
        Self::cst(c(x))
    }

    #[inline(always)]
    fn chain(self, v: T, dv: T) -> Self {
        Dual4 {
            v,
            d: [
                self.d[0] * dv,
                self.d[1] * dv,
                self.d[2] * dv,
                self.d[3] * dv,
            ],
        }
    }

    /// The same value with no gradient.
    #[inline(always)]
    pub fn detach(self) -> Self {
        Self::cst(self.v)
    }

    /// `x²`.
    #[inline(always)]
    pub fn sq(self) -> Self {
        self * self
    }

    /// `√x`; the derivative at 0 is taken as 0.
    #[inline(always)]
    pub fn sqrt(self) -> Self {
        let s = self.v.sqrt();
        let ds = if s > T::zero() {
            T::one() / (s + s)
        } else {
            T::zero()
        };
        self.chain(s, ds)
    }

    /// `ln x`.
    #[inline(always)]
    pub fn ln(self) -> Self {
        self.chain(self.v.ln(), T::one() / self.v)
    }

    /// `eˣ`.
    #[inline(always)]
    pub fn exp(self) -> Self {
        let e = self.v.exp();
        self.chain(e, e)
    }

    /// `xᵖ` for a constant `p`; the derivative at `x = 0` is 0 for `p > 1`.
    #[inline(always)]
    pub fn powf(self, p: T) -> Self {
        let v = self.v.powf(p);
        let dv = if self.v == T::zero() {
            if p == T::one() { T::one() } else { T::zero() }
        } else {
            p * self.v.powf(p - T::one())
        };
        self.chain(v, dv)
    }

    /// `|x|`, with derivative 0 at 0.
    #[inline(always)]
    pub fn abs(self) -> Self {
        let s = if self.v > T::zero() {
            T::one()
        } else if self.v < T::zero() {
            -T::one()
        } else {
            T::zero()
        };
        self.chain(self.v.abs(), s)
    }

    /// `sin x`.
    #[inline(always)]
    pub fn sin(self) -> Self {
        self.chain(self.v.sin(), self.v.cos())
    }

    /// `cos x`.
    #[inline(always)]
    pub fn cos(self) -> Self {
        self.chain(self.v.cos(), -self.v.sin())
    }

    /// `arcsin x` (derivative 0 at |x| = 1, where it is infinite).
    #[inline(always)]
    pub fn asin(self) -> Self {
        let r = T::one() - self.v * self.v;
        let dv = if r > T::zero() {
            T::one() / r.sqrt()
        } else {
            T::zero()
        };
        self.chain(self.v.asin(), dv)
    }

    /// The angle `atan(a / b)` written as `atan2(a, b)` for `b ≥ 0`, so that
    /// `b = 0` gives `±π/2` (and `a = b = 0` gives 0) instead of NaN; the
    /// derivative is `(b, −a) / (a² + b²)`, 0 at the origin.
    #[inline(always)]
    pub fn atan_ratio(a: Self, b: Self) -> Self {
        let v = if b.v == T::zero() && a.v == T::zero() {
            T::zero()
        } else {
            atan(a.v / b.v)
        };
        let r2 = a.v * a.v + b.v * b.v;
        let (da, db) = if r2 > T::zero() {
            (b.v / r2, -a.v / r2)
        } else {
            (T::zero(), T::zero())
        };
        Dual4 {
            v,
            d: std::array::from_fn(|k| a.d[k] * da + b.d[k] * db),
        }
    }

    /// `max(x, y)`; at a tie each side gets half the derivative.
    #[inline(always)]
    pub fn max(self, o: Self) -> Self {
        if self.v > o.v {
            self
        } else if self.v < o.v {
            o
        } else {
            let half = c(0.5);
            Dual4 {
                v: self.v,
                d: std::array::from_fn(|k| (self.d[k] + o.d[k]) * half),
            }
        }
    }

    /// `min(x, y)`; at a tie each side gets half the derivative.
    #[inline(always)]
    pub fn min(self, o: Self) -> Self {
        -((-self).max(-o))
    }

    /// `max(x, lo)` for a constant `lo`, derivative passed where `x > lo`.
    #[inline(always)]
    pub fn clamp_min(self, lo: T) -> Self {
        if self.v > lo {
            self
        } else {
            Self::cst(lo.max(self.v))
        }
    }

    /// `min(x, hi)` for a constant `hi`, derivative passed where `x < hi`.
    #[inline(always)]
    pub fn clamp_max(self, hi: T) -> Self {
        if self.v < hi {
            self
        } else {
            Self::cst(hi.min(self.v))
        }
    }

    /// `a / b`, or 0 (with zero gradient) when `b = 0`: the guard that keeps
    /// 0/0 cases (identical degenerate boxes) finite.
    #[inline(always)]
    pub fn div_or_zero(self, b: Self) -> Self {
        if b.v == T::zero() {
            Self::cst(T::zero())
        } else {
            self / b
        }
    }
}

/// `atan x`, branch-light so that batch loops vectorise: Cephes' `atan`
/// (Moshier): reduce |x| to [0, 0.66] with `atan x = π/2 − atan(1/x)` above
/// tan(3π/8) and `π/4 + atan((x − 1)/(x + 1))` above 0.66, then a degree-4/5
/// rational approximation. Within 2 ulp of the correctly rounded value in
/// f64 (tested against `f64::atan`); `±∞ → ±π/2`.
#[inline(always)]
pub fn atan<T: Float>(x: T) -> T {
    let c = c::<T>;
    let ax = x.abs();
    let big = ax > c(2.414_213_562_373_095);
    let mid = ax > c(0.66);
    let (base, extra, xr) = if big {
        (
            c(std::f64::consts::FRAC_PI_2),
            c(6.123_233_995_736_766e-17),
            -T::one() / ax,
        )
    } else if mid {
        (
            c(std::f64::consts::FRAC_PI_4),
            c(0.5 * 6.123_233_995_736_766e-17),
            (ax - T::one()) / (ax + T::one()),
        )
    } else {
        (T::zero(), T::zero(), ax)
    };
    let z = xr * xr;
    let p = (((c(-8.750_608_600_031_904e-1) * z + c(-1.615_753_718_733_365e1)) * z
        + c(-7.500_855_792_314_705e1))
        * z
        + c(-1.228_866_684_490_136e2))
        * z
        + c(-6.485_021_904_942_025e1);
    let q = ((((z + c(2.485_846_490_142_306e1)) * z + c(1.650_270_098_316_988_5e2)) * z
        + c(4.328_810_604_912_903e2))
        * z
        + c(4.853_903_996_359_137e2))
        * z
        + c(1.945_506_571_482_614e2);
    let r = base + (xr * (z * p / q) + xr + extra);
    if x < T::zero() { -r } else { r }
}

impl<T: Float> Add for Dual4<T> {
    type Output = Self;
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        Dual4 {
            v: self.v + o.v,
            d: std::array::from_fn(|k| self.d[k] + o.d[k]),
        }
    }
}

impl<T: Float> Sub for Dual4<T> {
    type Output = Self;
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        Dual4 {
            v: self.v - o.v,
            d: std::array::from_fn(|k| self.d[k] - o.d[k]),
        }
    }
}

impl<T: Float> Mul for Dual4<T> {
    type Output = Self;
    #[inline(always)]
    #[allow(clippy::suspicious_arithmetic_impl)] // the product rule adds
    fn mul(self, o: Self) -> Self {
        Dual4 {
            v: self.v * o.v,
            d: std::array::from_fn(|k| self.d[k] * o.v + o.d[k] * self.v),
        }
    }
}

impl<T: Float> Div for Dual4<T> {
    type Output = Self;
    #[inline(always)]
    fn div(self, o: Self) -> Self {
        let inv = T::one() / o.v;
        // The value by true division (49 · (1/49) is not 1), the gradient
        // through the reciprocal.
        let q = self.v / o.v;
        Dual4 {
            v: q,
            d: std::array::from_fn(|k| (self.d[k] - q * o.d[k]) * inv),
        }
    }
}

impl<T: Float> Neg for Dual4<T> {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        Dual4 {
            v: -self.v,
            d: self.d.map(|x| -x),
        }
    }
}

impl<T: Float> Add<T> for Dual4<T> {
    type Output = Self;
    #[inline(always)]
    fn add(self, o: T) -> Self {
        Dual4 {
            v: self.v + o,
            d: self.d,
        }
    }
}

impl<T: Float> Sub<T> for Dual4<T> {
    type Output = Self;
    #[inline(always)]
    fn sub(self, o: T) -> Self {
        Dual4 {
            v: self.v - o,
            d: self.d,
        }
    }
}

impl<T: Float> Mul<T> for Dual4<T> {
    type Output = Self;
    #[inline(always)]
    fn mul(self, o: T) -> Self {
        Dual4 {
            v: self.v * o,
            d: self.d.map(|x| x * o),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivatives_of_a_composite_by_hand() {
        // f = ln(x1·y1 + 1) / (x2 − y2)² at (1, 2, 4, 1):
        // ∂f/∂x1 = y1/(x1y1+1)/9 = 2/27, ∂f/∂y1 = 1/27,
        // ∂f/∂x2 = −2 ln 3 / 27, ∂f/∂y2 = 2 ln 3 / 27.
        let [x1, y1, x2, y2] = Dual4::vars([1.0f64, 2.0, 4.0, 1.0]);
        let f = (x1 * y1 + 1.0).ln() / (x2 - y2).sq();
        let l3 = 3f64.ln();
        let want = [2.0 / 27.0, 1.0 / 27.0, -2.0 * l3 / 27.0, 2.0 * l3 / 27.0];
        for (got, want) in f.d.iter().zip(want) {
            assert!((got - want).abs() < 1e-15, "{:?}", f.d);
        }
    }

    #[test]
    fn atan_matches_the_standard_library() {
        let mut worst = 0.0f64;
        for i in -200_000..=200_000 {
            let x = (i as f64) * 1e-4 * (1.0 + (i as f64).abs() * 1e-4);
            let (a, b) = (atan(x), x.atan());
            worst = worst.max(((a - b) / b.abs().max(f64::MIN_POSITIVE)).abs());
        }
        assert!(worst < 4.5e-16, "worst relative error {worst:e}");
        assert_eq!(atan(f64::INFINITY), std::f64::consts::FRAC_PI_2);
        assert_eq!(atan(0.0f64), 0.0);
        let f = atan(3.0f32);
        assert!((f - 3.0f32.atan()).abs() < 2e-7);
    }

    #[test]
    fn ties_split_like_pytorch() {
        let [a, b, _, _] = Dual4::vars([1.0f64, 1.0, 0.0, 0.0]);
        assert_eq!(a.max(b).d, [0.5, 0.5, 0.0, 0.0]);
        assert_eq!(a.min(b).d, [0.5, 0.5, 0.0, 0.0]);
        assert_eq!(a.clamp_min(1.0).d, [0.0; 4]);
        assert_eq!(a.clamp_min(0.5).d, [1.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn atan_ratio_is_finite_at_zero_height() {
        let [w, h, _, _] = Dual4::vars([2.0f64, 0.0, 0.0, 0.0]);
        let t = Dual4::atan_ratio(w, h);
        assert_eq!(t.v, std::f64::consts::FRAC_PI_2);
        assert_eq!(t.d, [0.0, -0.5, 0.0, 0.0]);
        let z = Dual4::atan_ratio(Dual4::<f64>::cst(0.0), Dual4::cst(0.0));
        assert_eq!((z.v, z.d), (0.0, [0.0; 4]));
    }
}
