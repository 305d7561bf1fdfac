//! Gradient descent of boxes onto their targets, the update of the DIoU
//! paper's simulation (Zheng et al. 2020, Algorithm 1), shared by the
//! simulation and the real-box regression:
//!
//! B ← B − η_t · (2 − IoU(B, G)) · s² · ∂L/∂B,   B = (x, y, w, h),
//!
//! with (x, y) the centre. The (2 − IoU) factor speeds up boxes that do not
//! overlap their target (IoU = 0). `s` is the box's unit of length: 1 in the
//! simulation (unit-area targets); √(w_g·h_g) for a real box, which runs
//! the same optimisation in the frame where its target has unit area, so a
//! scale-invariant loss moves a 20-px and a 500-px box alike. The error of a
//! box is |x − x_g| + |y − y_g| + |w − w_g| + |h − h_g| in that unit.
//!
//! Boxes are processed in fixed chunks of [`CHUNK`], each chunk through all
//! the steps while it stays in cache; per-step error sums are added per
//! chunk, then over chunks in chunk order, so the numbers do not depend on
//! the thread count.

use rayon::prelude::*;

use crate::losses::iou_recent::wise_iou_base;
use crate::losses::{BoxLossSpec, WithKernel, grad_xyxy_to_cxcywh, iou_family};

/// A box as (x, y, w, h), (x, y) its centre.
pub type Xywh = [f64; 4];

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

/// The DIoU paper's schedule: 200 steps, η = 0.1 up to step 160, 0.01 up
/// to 180, then 0.001 (Zheng et al. 2020, Algorithm 1).
pub fn paper_steps() -> usize {
    200
}

/// η of [`paper_steps`].
pub fn paper_lr() -> Vec<f64> {
    vec![0.1, 0.01, 0.001]
}

/// The last step of each rate of [`paper_lr`] but the last.
pub fn paper_lr_until() -> Vec<usize> {
    vec![160, 180]
}

impl Schedule {
    /// The schedule of a config section (`steps`, `lr`, `lr_until`), with its
    /// problems reported through `bad(key, problem, fix)`.
    pub fn checked(
        steps: usize,
        lr: &[f64],
        lr_until: &[usize],
        bad: &mut impl FnMut(&str, String, &str),
    ) -> Schedule {
        if steps == 0 || steps > 1_000_000 {
            bad(
                "steps",
                format!("{steps} steps"),
                "use 1 to 1,000,000 steps, e.g. 200",
            );
        }
        if lr.len() != lr_until.len() + 1
            || lr.iter().any(|v| !(v.is_finite() && *v > 0.0))
            || lr_until.windows(2).any(|w| w[0] >= w[1])
        {
            bad(
                "lr",
                "`lr` needs one positive rate more than `lr_until` has (ascending) steps".into(),
                "e.g. lr = [0.1, 0.01, 0.001] with lr_until = [160, 180]",
            );
        }
        Schedule {
            steps,
            rates: if lr.is_empty() {
                vec![0.0]
            } else {
                lr.to_vec()
            },
            until: lr_until.to_vec(),
        }
    }

    /// η of every step, in order.
    pub fn rates(&self) -> Vec<f64> {
        (1..=self.steps).map(|t| self.rate(t)).collect()
    }

    /// η at step `t` (1-based).
    pub fn rate(&self, t: usize) -> f64 {
        let k = self.until.iter().take_while(|&&u| t > u).count();
        self.rates[k.min(self.rates.len() - 1)]
    }
}

/// The error of `b` against `g` in units of `s`.
#[inline(always)]
pub fn error(b: Xywh, g: Xywh, s: f64) -> f64 {
    ((b[0] - g[0]).abs() + (b[1] - g[1]).abs() + (b[2] - g[2]).abs() + (b[3] - g[3]).abs()) / s
}

/// Runs one step per rate in `rates` on every box, in place; `step(i, B, G)`
/// gives IoU(B, G) and ∂L/∂(x, y, w, h) at B for box i, and `unit[i]` is box i's unit
/// of length (`None`: 1 for every box). Returns the error sum over the
/// boxes after each step (non-finite errors left out; see [`count_diverged`]).
/// Generic, so each loss's loop is compiled for it.
///
/// # Panics
/// When `boxes`, `targets` and `unit` differ in length (a caller bug).
pub fn descend<F>(
    boxes: &mut [Xywh],
    targets: &[Xywh],
    unit: Option<&[f64]>,
    rates: &[f64],
    step: F,
) -> Vec<f64>
where
    F: Fn(usize, Xywh, Xywh) -> (f64, [f64; 4]) + Sync,
{
    assert_eq!(
        boxes.len(),
        targets.len(),
        "boxes and targets differ in length"
    );
    if let Some(u) = unit {
        assert_eq!(u.len(), boxes.len(), "units and boxes differ in length");
    }
    let per_chunk: Vec<Vec<f64>> = boxes
        .par_chunks_mut(CHUNK)
        .enumerate()
        .map(|(c, chunk)| {
            let start = c * CHUNK;
            let tg = &targets[start..start + chunk.len()];
            let us = unit.map(|u| &u[start..start + chunk.len()]);
            // Without units the loop is compiled with s = 1, so the scaling
            // folds away (× 1 and ÷ 1 are exact: the same numbers).
            match us {
                None => chunk_steps(chunk, tg, start, rates, &step, |_| 1.0),
                Some(u) => chunk_steps(chunk, tg, start, rates, &step, |i| u[i]),
            }
        })
        .collect();
    let mut sums = vec![0.0; rates.len()];
    for chunk in per_chunk {
        for (acc, s) in sums.iter_mut().zip(chunk) {
            *acc += s;
        }
    }
    sums
}

/// (x, y, w, h) → (x1, y1, x2, y2).
pub fn xyxy(b: Xywh) -> [f64; 4] {
    [
        b[0] - b[2] / 2.0,
        b[1] - b[3] / 2.0,
        b[0] + b[2] / 2.0,
        b[1] + b[3] / 2.0,
    ]
}

/// (x1, y1, x2, y2) → (x, y, w, h).
pub fn from_xyxy(b: [f64; 4]) -> Xywh {
    [
        (b[0] + b[2]) / 2.0,
        (b[1] + b[3]) / 2.0,
        b[2] - b[0],
        b[3] - b[1],
    ]
}

/// [`descend`] with the exact gradient of a loss of the zoo: `∂L/∂B` is the
/// spec's gradient in xyxy mapped to (x, y, w, h) by the chain rule, and
/// `images[i]` is box i's image size (normalised encodings, MPDIoU; `None`:
/// 1 × 1). The spec's formula is resolved once, so each loss's loop is
/// compiled for it.
///
/// A loss with a running mean (Wise-IoU v2/v3 with `mean=running`) is run
/// as training runs it, with every box of the call as one batch: before each
/// step, `mean ← (1 − m)·mean + m·(mean of 1 − IoU over the boxes)` (boxes no
/// longer finite left out), then the step with that mean (Tong et al. 2023;
/// the order of the authors' `IouLoss.forward`). `running` carries the mean
/// from one call to the next (`None`: start at 1, the authors' initial
/// value); other losses ignore it.
pub fn descend_loss(
    spec: &BoxLossSpec,
    boxes: &mut [Xywh],
    targets: &[Xywh],
    unit: Option<&[f64]>,
    images: Option<&[[f64; 2]]>,
    rates: &[f64],
    running: Option<&mut f64>,
) -> Vec<f64> {
    let Some(momentum) = spec.running_mean() else {
        return descend_fixed(spec, boxes, targets, unit, images, rates);
    };
    let mut start = 1.0;
    let mean = running.unwrap_or(&mut start);
    let mut sums = Vec::with_capacity(rates.len());
    for eta in rates {
        let per_chunk: Vec<(f64, usize)> = boxes
            .par_chunks(CHUNK)
            .zip(targets.par_chunks(CHUNK))
            .map(|(b, g)| {
                b.iter()
                    .zip(g)
                    .map(|(b, g)| wise_iou_base(xyxy(*b), xyxy(*g)))
                    .filter(|l| l.is_finite())
                    .fold((0.0, 0), |(s, n), l| (s + l, n + 1))
            })
            .collect();
        let (sum, n) = per_chunk
            .iter()
            .fold((0.0, 0), |(s, n), (cs, cn)| (s + cs, n + cn));
        if n > 0 {
            *mean = *mean * (1.0 - momentum) + momentum * (sum / n as f64);
        }
        let step = spec.with_mean(*mean);
        sums.extend(descend_fixed(
            &step,
            boxes,
            targets,
            unit,
            images,
            std::slice::from_ref(eta),
        ));
    }
    sums
}

/// [`descend_loss`] for a loss with no running mean.
fn descend_fixed(
    spec: &BoxLossSpec,
    boxes: &mut [Xywh],
    targets: &[Xywh],
    unit: Option<&[f64]>,
    images: Option<&[[f64; 2]]>,
    rates: &[f64],
) -> Vec<f64> {
    struct Loop<'a> {
        boxes: &'a mut [Xywh],
        targets: &'a [Xywh],
        unit: Option<&'a [f64]>,
        images: Option<&'a [[f64; 2]]>,
        rates: &'a [f64],
    }
    impl WithKernel<f64> for Loop<'_> {
        const SPECIALISE: bool = true;
        type Out = Vec<f64>;
        #[inline(always)]
        fn run<K>(self, kernel: K) -> Vec<f64>
        where
            K: Fn([f64; 4], [f64; 4], [f64; 2]) -> (f64, [f64; 4]) + Sync,
        {
            let images = self.images;
            descend(
                self.boxes,
                self.targets,
                self.unit,
                self.rates,
                |i, b, g| {
                    let (p, t) = (xyxy(b), xyxy(g));
                    let (_, grad) = kernel(p, t, images.map_or([1.0, 1.0], |im| im[i]));
                    (iou_family::iou(p, t), grad_xyxy_to_cxcywh(grad))
                },
            )
        }
    }
    spec.with_kernel(
        images.is_some(),
        Loop {
            boxes,
            targets,
            unit,
            images,
            rates,
        },
    )
}

/// The steps of one chunk (boxes `start..`), returning its error sum after
/// each step; `unit(i)` is the unit of the chunk's box i.
#[inline(always)]
fn chunk_steps<F, U>(
    chunk: &mut [Xywh],
    targets: &[Xywh],
    start: usize,
    rates: &[f64],
    step: &F,
    unit: U,
) -> Vec<f64>
where
    F: Fn(usize, Xywh, Xywh) -> (f64, [f64; 4]) + Sync,
    U: Fn(usize) -> f64,
{
    let mut sums = vec![0.0; rates.len()];
    for (t, eta) in rates.iter().enumerate() {
        let mut total = 0.0;
        for (i, (b, g)) in chunk.iter_mut().zip(targets).enumerate() {
            let s = unit(i);
            let (iou, grad) = step(start + i, *b, *g);
            let k = eta * (2.0 - iou) * (s * s);
            for j in 0..4 {
                b[j] -= k * grad[j];
            }
            let e = error(*b, *g, s);
            if e.is_finite() {
                total += e;
            }
        }
        sums[t] = total;
    }
    sums
}

/// Boxes whose coordinates are no longer finite.
pub fn count_diverged(boxes: &[Xywh]) -> usize {
    boxes
        .iter()
        .filter(|b| b.iter().any(|v| !v.is_finite()))
        .count()
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
        let n = 3 * CHUNK + 5;
        let targets: Vec<Xywh> = (0..n).map(|i| [i as f64, 1.0, 2.0, 3.0]).collect();
        let start: Vec<Xywh> = targets
            .iter()
            .map(|g| [g[0] + 1.0, g[1] - 2.0, g[2] * 2.0, g[3] + 0.5])
            .collect();
        let units: Vec<f64> = (0..n).map(|i| 1.0 + (i % 3) as f64).collect();
        let rates = vec![0.25; 50];
        // L = ½‖B − G‖²/s², IoU taken as 1: with the s² of the update, B moves
        // 25 % of the way each step whatever its unit.
        let run = |boxes: &mut Vec<Xywh>| {
            descend(
                boxes,
                &targets,
                Some(&units),
                &rates,
                |_, b: Xywh, g: Xywh| {
                    let s2 = ((g[0] as usize % 3) as f64 + 1.0).powi(2);
                    (1.0, std::array::from_fn(|j| (b[j] - g[j]) / s2))
                },
            )
        };
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let (mut a, mut b) = (start.clone(), start.clone());
        let sa = one.install(|| run(&mut a));
        let sb = run(&mut b);
        assert_eq!(sa, sb);
        assert_eq!(a, b);
        let before: f64 = start
            .iter()
            .zip(&targets)
            .zip(&units)
            .map(|((b, g), s)| error(*b, *g, *s))
            .sum();
        assert!((sa[0] / before - 0.75).abs() < 1e-12, "{}", sa[0] / before);
        assert!(sa[49] < 1e-5 * before);
        assert_eq!(count_diverged(&a), 0);
    }
}
