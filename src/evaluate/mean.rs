//! Means in numpy's summation order.
//!
//! pycocotools forms every summary number with `np.mean(s[s > -1])`, and
//! `np.mean` sums pairwise, not left to right. hotcoco reproduces that order
//! (its `metrics::sum::pairwise_sum`), but keeps the function crate-private, so
//! the per-category and per-size means of [`super`] use this port of the same
//! numpy routine: fed the values in the order numpy flattens the slice (C
//! order), it gives hotcoco's and pycocotools' means to the last bit.

/// Below this length numpy adds serially.
const PW_UNROLL: usize = 8;
/// Up to this length numpy adds with eight interleaved accumulators; above it,
/// it splits the slice in two and recurses.
const PW_BLOCKSIZE: usize = 128;

/// Sum in the order of numpy's `pairwise_sum` (`loops_utils.h.src`) for a
/// contiguous `f64` array.
fn pairwise_sum(values: &[f64]) -> f64 {
    let n = values.len();
    if n < PW_UNROLL {
        values.iter().fold(0.0, |s, &v| s + v)
    } else if n <= PW_BLOCKSIZE {
        let mut r = [0.0f64; PW_UNROLL];
        r.copy_from_slice(&values[..PW_UNROLL]);
        let blocks_end = n - n % PW_UNROLL;
        for block in values[PW_UNROLL..blocks_end].chunks_exact(PW_UNROLL) {
            for (acc, &v) in r.iter_mut().zip(block) {
                *acc += v;
            }
        }
        let head = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        values[blocks_end..].iter().fold(head, |s, &v| s + v)
    } else {
        let half = n / 2;
        let split = half - half % PW_UNROLL;
        pairwise_sum(&values[..split]) + pairwise_sum(&values[split..])
    }
}

/// `np.mean(s[s > -1])` over `values` (given in numpy's flattening order):
/// the mean of the entries that are not hotcoco's `-1` "not computed"
/// sentinel, or `None` when there is none (where pycocotools prints `-1`).
pub(super) fn mean_of_valid(values: impl Iterator<Item = f64>) -> Option<f64> {
    let valid: Vec<f64> = values.filter(|&v| v > -1.0).collect();
    if valid.is_empty() {
        None
    } else {
        Some(pairwise_sum(&valid) / valid.len() as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_sums_are_serial_and_long_ones_pairwise() {
        let v = [1.0, 2.0, 3.0];
        assert_eq!(pairwise_sum(&v), 6.0);
        // 1 followed by many values too small to register one at a time:
        // serial addition loses them, pairwise keeps some.
        let mut v = vec![1e-16; 200];
        v[0] = 1.0;
        let serial = v.iter().fold(0.0, |s, &x| s + x);
        assert_eq!(serial, 1.0);
        assert!(pairwise_sum(&v) > 1.0);
    }

    #[test]
    fn sentinels_are_left_out() {
        assert_eq!(mean_of_valid([-1.0, 0.5, 1.0].into_iter()), Some(0.75));
        assert_eq!(mean_of_valid([-1.0, -1.0].into_iter()), None);
        assert_eq!(mean_of_valid(std::iter::empty()), None);
    }
}
