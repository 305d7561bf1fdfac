//! Descriptive statistics shared by every experiment and report.

use serde::Serialize;

/// One quantile of a sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Quantile {
    /// The probability, in [0, 1].
    pub q: f64,
    /// The value; NaN when the sample is empty.
    pub value: f64,
}

/// Quantiles by linear interpolation between order statistics — numpy's
/// default (`method="linear"`, Hyndman & Fan type 7): for `n` sorted values
/// the `q`-quantile sits at position `h = (n − 1)·q`, between
/// `x[⌊h⌋]` and `x[⌊h⌋ + 1]`. NaN values are ignored; an empty sample gives NaN.
pub fn quantiles(values: &[f64], qs: &[f64]) -> Vec<Quantile> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    v.sort_by(f64::total_cmp);
    qs.iter()
        .map(|&q| Quantile {
            q,
            value: quantile_sorted(&v, q),
        })
        .collect()
}

/// The `q`-quantile of already sorted, NaN-free values.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let h = (n - 1) as f64 * q;
            let lo = h.floor() as usize;
            let hi = (lo + 1).min(n - 1);
            sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
        }
    }
}

/// Arithmetic mean (NaN for an empty sample).
pub fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        f64::NAN
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_numpy_linear_quantiles() {
        // numpy.quantile([1, 2, 3, 4, 10], [0, .1, .25, .5, .9, 1]) =
        // [1.0, 1.4, 2.0, 3.0, 7.6, 10.0]
        let got: Vec<f64> = quantiles(
            &[10.0, 2.0, 4.0, 1.0, 3.0],
            &[0.0, 0.1, 0.25, 0.5, 0.9, 1.0],
        )
        .iter()
        .map(|q| q.value)
        .collect();
        let want = [1.0, 1.4, 2.0, 3.0, 7.6, 10.0];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "{got:?}");
        }
        assert!(quantiles(&[], &[0.5])[0].value.is_nan());
    }
}
