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

/// Ranks 1..n with ties given their average rank (NaN values rank last, in
/// order), as `scipy.stats.rankdata(method="average")`.
pub fn ranks(values: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..values.len()).collect();
    idx.sort_by(|&a, &b| values[a].total_cmp(&values[b]).then(a.cmp(&b)));
    let mut r = vec![0.0; values.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && values[idx[j + 1]] == values[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            r[k] = avg;
        }
        i = j + 1;
    }
    r
}

/// Pearson correlation; NaN when either sample is constant or shorter than 2.
pub fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    if n < 2 {
        return f64::NAN;
    }
    let (ma, mb) = (mean(&a[..n]), mean(&b[..n]));
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let (da, db) = (a[i] - ma, b[i] - mb);
        sab += da * db;
        saa += da * da;
        sbb += db * db;
    }
    if saa == 0.0 || sbb == 0.0 {
        f64::NAN
    } else {
        sab / (saa * sbb).sqrt()
    }
}

/// Spearman's rank correlation: Pearson on average ranks.
pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
    pearson(&ranks(a), &ranks(b))
}

#[cfg(test)]
mod correlation_tests {
    use super::*;

    #[test]
    fn ranks_and_correlations_by_hand() {
        // scipy.stats.rankdata([3, 1, 4, 1, 5]) = [3, 1.5, 4, 1.5, 5]
        assert_eq!(
            ranks(&[3.0, 1.0, 4.0, 1.0, 5.0]),
            vec![3.0, 1.5, 4.0, 1.5, 5.0]
        );
        // A monotone but non-linear relation: Spearman 1, Pearson < 1.
        let a = [1.0, 2.0, 3.0, 4.0];
        let b = [1.0, 4.0, 9.0, 100.0];
        assert!((spearman(&a, &b) - 1.0).abs() < 1e-15);
        assert!(pearson(&a, &b) < 0.95);
        assert!((spearman(&a, &[4.0, 3.0, 2.0, 1.0]) + 1.0).abs() < 1e-15);
        assert!(pearson(&a, &[1.0, 1.0, 1.0, 1.0]).is_nan());
    }
}
