//! Evaluate: COCO bbox evaluation of a dataset's detections, by hotcoco.
//!
//! detloss has no COCO evaluator of its own. Every number here comes from
//! hotcoco's `COCOeval` (a bit-exact port of pycocotools' `cocoeval.py`) —
//! or, for AP with another overlap than IoU ([`overlap`]), from hotcoco's own
//! public matching and precision-recall kernels driven in COCOeval's order,
//! tested bit-equal to `COCOeval` when the overlap is IoU —
//! run with default bbox parameters — IoU 0.50:0.05:0.95 (numpy's linspace
//! floats), 101 recall points, maxDets 1/10/100 per image *and category*,
//! areas all/small/medium/large by the ground truth's `area` field:
//!
//! * [`evaluate`] → [`Evaluated`]: an [`Evaluation`] — the 12 summary stats
//!   exactly as hotcoco returns them, per-category and per-size AP/AP50/AP75
//!   read off hotcoco's accumulated precision array, and hotcoco's TIDE error
//!   breakdown ([`Tide`]) — and, when asked for, the [`CocoMatches`] at one IoU
//!   threshold, all from one hotcoco evaluation;
//! * [`coco_matches`] / [`coco_match_states`]: the matches alone, which ground
//!   truth each detection was matched to at an IoU threshold, from hotcoco's
//!   per-image records.
//!
//! hotcoco's evaluator holds its ground truth and detections behind `Arc`s;
//! the [`Dataset`] keeps its hotcoco copies the same way, so an evaluation
//! shares them and copies neither.
//!
//! Means over the precision array follow pycocotools' `summarize`:
//! `np.mean(s[s > -1])`, summed in numpy's pairwise order (a port, since
//! hotcoco keeps its own private), so per-size AP equals the corresponding
//! summary stat bit for bit.

mod matches;
mod mean;
pub mod overlap;
mod tide;

pub use matches::{CocoMatches, Match, coco_match_states, coco_matches};
pub use overlap::{
    Overlap, OverlapEvaluation, OverlapEvaluator, ScoredDetection, dataset_boxes_xywh,
    evaluate_overlap,
};
pub use tide::{TIDE_BG_THR, TIDE_ERROR_NAMES, TIDE_POS_THR, Tide, TideError};

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use hotcoco::params::IouType;
use hotcoco::{AccumulatedEval, COCOeval, Params};

use crate::data::Dataset;
use crate::error::{Error, Problem, Result};

/// Names of the 12 summary stats, in pycocotools' order (the order of
/// [`Evaluation::stats`]).
pub const STAT_NAMES: [&str; 12] = [
    "AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl",
];

/// The three COCO size ranges of [`Evaluation::per_size`], as hotcoco labels them.
pub const SIZE_LABELS: [&str; 3] = ["small", "medium", "large"];

/// The hotcoco version that computed the numbers (from Cargo.lock, by build.rs).
pub const HOTCOCO_VERSION: &str = env!("DETLOSS_HOTCOCO_VERSION");

/// AP of one category, at area `all` and 100 detections per image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryAp {
    /// Category id.
    pub category_id: u64,
    /// Category name.
    pub name: String,
    /// Ground-truth boxes of this category, crowd boxes included.
    pub gt_count: usize,
    /// Of those, crowd boxes (ignored by COCO evaluation).
    pub crowd_count: usize,
    /// Detections of this category (all of them, before the 100 cap).
    pub det_count: usize,
    /// AP over IoU 0.50:0.95. `None` when hotcoco has no precision for the
    /// category — it has no non-crowd ground truth, so pycocotools reports
    /// `-1` and leaves it out of every mean; its detections count nowhere.
    pub ap: Option<f64>,
    /// AP at IoU 0.50 (`None` as for `ap`).
    pub ap50: Option<f64>,
    /// AP at IoU 0.75 (`None` as for `ap`).
    pub ap75: Option<f64>,
}

/// AP of one COCO size range, over all categories, at 100 detections per image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SizeAp {
    /// `small`, `medium` or `large`.
    pub area: &'static str,
    /// The range of the ground truth's `area` field, inclusive at both ends
    /// (small `[0, 32²]`, medium `[32², 96²]`, large `[96², 1e10]`).
    pub area_range: [f64; 2],
    /// AP over IoU 0.50:0.95; equals `stats[3..6]` (APs/APm/APl). `None` when
    /// no category has ground truth in the range (pycocotools' `-1`).
    pub ap: Option<f64>,
    /// AP at IoU 0.50 in this range.
    pub ap50: Option<f64>,
    /// AP at IoU 0.75 in this range.
    pub ap75: Option<f64>,
}

/// The result of [`evaluate`].
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    /// The 12 COCO summary numbers exactly as hotcoco returns them, in
    /// pycocotools' order ([`STAT_NAMES`]); `-1` where pycocotools prints `-1`
    /// (e.g. APs on a dataset without small objects).
    pub stats: [f64; 12],
    /// [`STAT_NAMES`], so serialized output is self-describing.
    pub stat_names: [&'static str; 12],
    /// Per-category AP for every ground-truth category, by category id.
    pub per_category: Vec<CategoryAp>,
    /// AP per size range, in the order of [`SIZE_LABELS`].
    pub per_size: Vec<SizeAp>,
    /// hotcoco's TIDE error breakdown.
    pub tide: Tide,
    /// The hotcoco version that computed all of the above.
    pub hotcoco_version: String,
}

impl Evaluation {
    /// A summary stat by name (`"AP"`, `"AP50"`, … see [`STAT_NAMES`]).
    pub fn stat(&self, name: &str) -> Option<f64> {
        STAT_NAMES
            .iter()
            .position(|&n| n == name)
            .map(|i| self.stats[i])
    }
}

/// The result of [`evaluate`]: the COCO numbers, and the matches when asked for.
#[derive(Debug, Clone)]
pub struct Evaluated {
    /// Stats, per-category and per-size AP, TIDE.
    pub evaluation: Evaluation,
    /// COCO's matches at the `match_at` threshold; `None` when none was asked for.
    pub matches: Option<CocoMatches>,
}

/// Runs hotcoco's COCO bbox evaluation (default parameters) on the dataset's
/// ground truth and detections: evaluate → accumulate → summarize, then TIDE
/// at tidecv's default thresholds ([`TIDE_POS_THR`], [`TIDE_BG_THR`]), and,
/// with `match_at = Some(t)`, COCO's matches at IoU `t` (the rules of
/// [`coco_match_states`]).
///
/// One evaluation gives it all when `t` is on COCO's grid — 0.50, 0.55, …,
/// 0.95, within hotcoco's 1e-9, so 0.9 reads numpy's 0.8999999999999999 row:
/// the matches are that row of the same per-image records. Any other `t`
/// (e.g. 0.3 or 1.0) is not a row of the default evaluation and cannot be
/// added to it without changing AP, so it takes a second, single-threshold
/// pass (area `all` only), run after the first has been let go.
///
/// Shares `ds.coco_gt` / `ds.coco_dt` with hotcoco (no copies); prints nothing.
///
/// # Errors
///
/// An input error when the dataset has no detections or `t` is not in
/// `(0, 1]`; a runtime error when hotcoco fails.
pub fn evaluate(ds: &Dataset, match_at: Option<f64>) -> Result<Evaluated> {
    if let Some(t) = match_at {
        matches::check_threshold(t)?;
    }
    let ev = run_cocoeval(ds, |_| ())?;
    let evaluation = summarize(ds, &ev)?;
    let matches = match match_at {
        None => None,
        Some(t) => {
            let states = if ev.params.iou_thr_idx(t).is_some() {
                matches::read_matches(ds, &ev, t)?
            } else {
                drop(ev);
                coco_match_states(ds, t)?
            };
            Some(CocoMatches {
                iou_threshold: t,
                states,
            })
        }
    };
    Ok(Evaluated {
        evaluation,
        matches,
    })
}

/// The [`Evaluation`] of an evaluated, accumulated and summarized `ev`.
fn summarize(ds: &Dataset, ev: &COCOeval) -> Result<Evaluation> {
    let acc = ev
        .accumulated()
        .ok_or_else(|| Error::runtime("hotcoco produced no accumulated evaluation"))?;
    let params = &ev.params;
    let stats_vec = ev
        .stats()
        .ok_or_else(|| Error::runtime("hotcoco produced no summary stats"))?;
    let stats: [f64; 12] = stats_vec.try_into().map_err(|_| {
        Error::runtime(format!(
            "hotcoco returned {} summary stats for a bbox evaluation, expected 12",
            stats_vec.len()
        ))
    })?;
    let keys = ev.metric_keys();
    if keys != STAT_NAMES {
        return Err(Error::runtime(format!(
            "hotcoco's summary stats are {keys:?}, expected {STAT_NAMES:?}"
        )));
    }

    let axes = Axes::of(params, acc)?;
    let per_category = per_category(ds, acc, &axes);
    let per_size = SIZE_LABELS
        .iter()
        .map(|&label| {
            let a = params.area_range_idx(label).ok_or_else(|| {
                Error::runtime(format!("hotcoco's parameters have no `{label}` area range"))
            })?;
            let all_k: Vec<usize> = (0..acc.shape.k).collect();
            Ok(SizeAp {
                area: label,
                area_range: params.area_ranges[a].range,
                ap: ap_mean(acc, 0..acc.shape.t, &all_k, a, axes.m),
                ap50: ap_mean(acc, axes.t50..axes.t50 + 1, &all_k, a, axes.m),
                ap75: ap_mean(acc, axes.t75..axes.t75 + 1, &all_k, a, axes.m),
            })
        })
        .collect::<Result<Vec<_>>>()?;

    let tide = ev
        .tide_errors(TIDE_POS_THR, TIDE_BG_THR)
        .map_err(|e| Error::runtime(format!("hotcoco's TIDE failed on {}: {e}", ds.label)))?;

    Ok(Evaluation {
        stats,
        stat_names: STAT_NAMES,
        per_category,
        per_size,
        tide: tide::from_hotcoco(&tide)?,
        hotcoco_version: HOTCOCO_VERSION.to_string(),
    })
}

/// A hotcoco bbox `COCOeval` on the dataset's ground truth and detections
/// (shared, not copied), with default parameters changed by `configure`,
/// evaluated, accumulated and summarized.
fn run_cocoeval(ds: &Dataset, configure: impl FnOnce(&mut Params)) -> Result<COCOeval> {
    let dt = ds
        .coco_dt
        .as_ref()
        .filter(|_| ds.dets.is_some())
        .ok_or_else(|| no_detections(ds))?;
    let mut ev = COCOeval::new(Arc::clone(&ds.coco_gt), Arc::clone(dt), IouType::Bbox);
    configure(&mut ev.params);
    ev.evaluate()
        .map_err(|e| Error::runtime(format!("hotcoco could not evaluate {}: {e}", ds.label)))?;
    ev.accumulate();
    // `summarize_lines` sets the stats without printing (`summarize` prints).
    let _ = ev.summarize_lines();
    Ok(ev)
}

/// The input error for a dataset without detections.
fn no_detections(ds: &Dataset) -> Error {
    Error::input(Problem::general(
        format!("dataset `{}` has no detections to evaluate", ds.label),
        "give the dataset a COCO results json with `dets = \"…\"`",
    ))
}

/// Positions on the accumulated arrays' axes that every mean reads.
struct Axes {
    /// Area `all`.
    all: usize,
    /// The maxDets slot holding the per-image cap (100).
    m: usize,
    /// IoU 0.50.
    t50: usize,
    /// IoU 0.75.
    t75: usize,
}

impl Axes {
    fn of(params: &Params, acc: &AccumulatedEval) -> Result<Self> {
        let thr = |t: f64| {
            params
                .iou_thr_idx(t)
                .ok_or_else(|| Error::runtime(format!("hotcoco did not evaluate at IoU {t}")))
        };
        let axes = Axes {
            all: params.all_area_idx(),
            m: params.max_det_idx(),
            t50: thr(0.5)?,
            t75: thr(0.75)?,
        };
        let s = &acc.shape;
        if s.t != params.iou_thrs.len()
            || s.a != params.area_ranges.len()
            || s.m != params.max_dets.len()
            || s.k != acc.cat_ids.len()
        {
            return Err(Error::runtime(format!(
                "hotcoco's accumulated arrays have an unexpected shape {s:?}"
            )));
        }
        Ok(axes)
    }
}

/// `np.mean(s[s > -1])` of `precision[t_range, :, k_list, a, m]`, visited in
/// numpy's C order (t, then recall, then k).
fn ap_mean(
    acc: &AccumulatedEval,
    t_range: std::ops::Range<usize>,
    k_list: &[usize],
    a: usize,
    m: usize,
) -> Option<f64> {
    let r_n = acc.shape.r;
    mean::mean_of_valid(t_range.flat_map(move |t| {
        (0..r_n).flat_map(move |r| {
            k_list
                .iter()
                .map(move |&k| acc.precision[acc.precision_idx(t, r, k, a, m)])
        })
    }))
}

fn per_category(ds: &Dataset, acc: &AccumulatedEval, axes: &Axes) -> Vec<CategoryAp> {
    let mut gt_counts: HashMap<u64, (usize, usize)> = HashMap::new();
    for (i, &c) in ds.gt.category_id.iter().enumerate() {
        let e = gt_counts.entry(c).or_default();
        e.0 += 1;
        e.1 += usize::from(ds.gt.iscrowd[i]);
    }
    let mut det_counts: HashMap<u64, usize> = HashMap::new();
    if let Some(dets) = &ds.dets {
        for &c in &dets.category_id {
            *det_counts.entry(c).or_default() += 1;
        }
    }
    acc.cat_ids
        .iter()
        .enumerate()
        .map(|(k, &category_id)| {
            let (gt_count, crowd_count) = gt_counts.get(&category_id).copied().unwrap_or_default();
            let one = [k];
            CategoryAp {
                category_id,
                name: ds.category_name(category_id),
                gt_count,
                crowd_count,
                det_count: det_counts.get(&category_id).copied().unwrap_or(0),
                ap: ap_mean(acc, 0..acc.shape.t, &one, axes.all, axes.m),
                ap50: ap_mean(acc, axes.t50..axes.t50 + 1, &one, axes.all, axes.m),
                ap75: ap_mean(acc, axes.t75..axes.t75 + 1, &one, axes.all, axes.m),
            }
        })
        .collect()
}
