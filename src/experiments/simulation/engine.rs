//! The regression loop of the simulation: every case's box moves by
//!
//! B ← B − η_t · (2 − IoU(B, G)) · ∂L/∂B,   B = (x, y, w, h),
//!
//! for t = 1 … T (Zheng et al. 2020, Algorithm 1: the (2 − IoU) factor speeds
//! up non-overlapping cases, where IoU = 0), and records the error
//! |x − x_g| + |y − y_g| + |w − w_g| + |h − h_g| of every case.
//!
//! Cases are processed in fixed chunks of [`CHUNK`], each chunk through all
//! T steps while its boxes stay in cache; per-step error sums are added per
//! chunk, then over chunks in chunk order, so the numbers do not depend on
//! the thread count.

use rayon::prelude::*;

use super::protocol::{Cases, Xywh};

/// Cases per parallel work item; fixed, so results never depend on the
/// thread count.
pub const CHUNK: usize = 2048;

/// The learning rate over the steps: `rates[k]` for steps up to and
/// including `until[k]` (the last rate runs to the end).
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// Number of steps T.
    pub steps: usize,
    /// The rates, in order.
    pub rates: Vec<f64>,
    /// The last step of each rate but the last (ascending).
    pub until: Vec<usize>,
}

impl Schedule {
    /// η at step `t` (1-based).
    pub fn rate(&self, t: usize) -> f64 {
        let k = self.until.iter().take_while(|&&u| t > u).count();
        self.rates[k.min(self.rates.len() - 1)]
    }
}

/// What one chunk of cases produced.
struct ChunkResult {
    sums: Vec<f64>,
    finals: Vec<f64>,
    boxes: Vec<Xywh>,
    diverged: usize,
}

/// What one loss did to every case.
#[derive(Debug, Clone)]
pub struct Trajectory {
    /// Σ over cases of the error, before step 1 (index 0) and after each
    /// step.
    pub error_sum: Vec<f64>,
    /// Each case's error after the last step.
    pub final_error: Vec<f64>,
    /// Each case's box after the last step (when asked for).
    pub final_boxes: Option<Vec<Xywh>>,
    /// Cases whose box became non-finite (their error counts as +∞ in no
    /// sum: they are left out and counted here).
    pub diverged: usize,
}

fn error(b: Xywh, g: Xywh) -> f64 {
    (b[0] - g[0]).abs() + (b[1] - g[1]).abs() + (b[2] - g[2]).abs() + (b[3] - g[3]).abs()
}

/// Runs the schedule on every case; `step(B, G)` gives IoU(B, G) and
/// ∂L/∂(x, y, w, h) at B. Generic, so each loss's loop is compiled for it.
pub fn regress<F>(cases: &Cases, schedule: &Schedule, step: F, keep_boxes: bool) -> Trajectory
where
    F: Fn(Xywh, Xywh) -> (f64, [f64; 4]) + Sync,
{
    let n = cases.len();
    let t_max = schedule.steps;
    let rates: Vec<f64> = (1..=t_max).map(|t| schedule.rate(t)).collect();
    let chunks: Vec<ChunkResult> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let range = c * CHUNK..((c + 1) * CHUNK).min(n);
            let (mut boxes, targets): (Vec<Xywh>, Vec<Xywh>) =
                range.clone().map(|i| cases.case(i)).unzip();
            let mut sums = vec![0.0; t_max + 1];
            sums[0] = boxes.iter().zip(&targets).map(|(b, g)| error(*b, *g)).sum();
            for (t, eta) in rates.iter().enumerate() {
                let mut s = 0.0;
                for (b, g) in boxes.iter_mut().zip(&targets) {
                    let (iou, grad) = step(*b, *g);
                    let k = eta * (2.0 - iou);
                    for j in 0..4 {
                        b[j] -= k * grad[j];
                    }
                    let e = error(*b, *g);
                    if e.is_finite() {
                        s += e;
                    }
                }
                sums[t + 1] = s;
            }
            let finals: Vec<f64> = boxes
                .iter()
                .zip(&targets)
                .map(|(b, g)| error(*b, *g))
                .collect();
            let diverged = finals.iter().filter(|e| !e.is_finite()).count();
            ChunkResult {
                sums,
                finals,
                boxes: if keep_boxes { boxes } else { Vec::new() },
                diverged,
            }
        })
        .collect();
    let mut error_sum = vec![0.0; t_max + 1];
    let mut final_error = Vec::with_capacity(n);
    let mut final_boxes = keep_boxes.then(|| Vec::with_capacity(n));
    let mut diverged = 0;
    for c in chunks {
        for (acc, s) in error_sum.iter_mut().zip(&c.sums) {
            *acc += s;
        }
        final_error.extend(c.finals);
        if let Some(fb) = &mut final_boxes {
            fb.extend(c.boxes);
        }
        diverged += c.diverged;
    }
    Trajectory {
        error_sum,
        final_error,
        final_boxes,
        diverged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_drops_after_its_steps() {
        let s = Schedule {
            steps: 200,
            rates: vec![0.1, 0.01, 0.001],
            until: vec![160, 180],
        };
        assert_eq!(
            [
                s.rate(1),
                s.rate(160),
                s.rate(161),
                s.rate(180),
                s.rate(181),
                s.rate(200)
            ],
            [0.1, 0.1, 0.01, 0.01, 0.001, 0.001]
        );
    }

    #[test]
    fn a_quadratic_pull_converges_and_sums_are_thread_independent() {
        let cases = Cases::new(
            super::super::protocol::disk_points(30, 3.0, [10.0, 10.0], 1),
            [10.0, 10.0],
            &[0.5, 2.0],
            &[0.5, 1.0, 2.0],
        );
        let schedule = Schedule {
            steps: 50,
            rates: vec![0.25],
            until: vec![],
        };
        // L = ½‖B − G‖², IoU taken as 1: B moves 25 % of the way each step.
        let step = |b: Xywh, g: Xywh| (1.0, std::array::from_fn(|j| b[j] - g[j]));
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let a = one.install(|| regress(&cases, &schedule, step, false));
        let b = regress(&cases, &schedule, step, false);
        assert_eq!(a.error_sum, b.error_sum);
        let ratio = a.error_sum[1] / a.error_sum[0];
        assert!((ratio - 0.75).abs() < 1e-12, "{ratio}");
        assert!(a.error_sum[50] < 1e-5 * a.error_sum[0]);
        assert_eq!(a.diverged, 0);
    }
}
