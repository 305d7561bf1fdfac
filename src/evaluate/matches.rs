//! COCO matching at one IoU threshold, read off hotcoco's per-image records.

use std::collections::HashMap;

use hotcoco::COCOeval;
use hotcoco::detection::DtStatus;

use crate::data::Dataset;
use crate::error::{Error, Problem, Result};

use super::{no_detections, run_cocoeval};

/// What COCO evaluation made of one detection at an IoU threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// Matched to this ground-truth row.
    TruePositive(usize),
    /// Unmatched: a false positive.
    FalsePositive,
    /// Neither: matched to a crowd or otherwise ignored ground truth, or
    /// beyond the first 100 detections of its image and category.
    Ignored,
}

/// COCO's matches of a dataset's detections at one IoU threshold: what
/// [`evaluate`](super::evaluate) returns beside the [`Evaluation`](super::Evaluation)
/// and what [`matching::assign`](crate::matching::assign) takes for `coco@T`.
#[derive(Debug, Clone, PartialEq)]
pub struct CocoMatches {
    /// The IoU threshold as asked for (e.g. `0.9`, which reads numpy's
    /// `0.8999999999999999` row of the default grid).
    pub iou_threshold: f64,
    /// Per detection row of `ds.dets`, what COCO made of it (see
    /// [`coco_match_states`]).
    pub states: Vec<Match>,
}

/// For every detection row `i` of `ds.dets` (the [`BoxTable`](crate::data::BoxTable)
/// order), the row in `ds.gt` of the ground truth COCO evaluation matched it
/// to at IoU threshold `iou_threshold`, or `None`.
///
/// The matches are hotcoco's, not ours: a bbox `COCOeval` runs and its
/// per-image records (area range `all`, 100 detections per image and
/// category) give, per detection at the threshold's row, whether it was
/// matched, to which ground-truth annotation id, and whether it is ignored —
/// read through hotcoco's `image_diagnostics`, which walks exactly those
/// records. Ids are mapped back to rows with `ds.dets.id` (the ids hotcoco
/// assigned, 1..N) and `ds.gt.id` (the GT annotation ids).
///
/// `None` means any of:
/// * unmatched (a false positive at this threshold);
/// * matched to a **crowd** (or otherwise ignored) ground truth — COCO ignores
///   such a detection, it is neither a true nor a false positive;
/// * beyond the first 100 detections, by score, of its image and category —
///   COCO never looks at those.
///
/// So `Some` is exactly a COCO true positive, and no ground-truth row appears
/// twice.
///
/// A threshold within 1e-9 (hotcoco's tolerance) of a default one — 0.5, 0.55,
/// …, 0.95 — reads that row of the default grid, so 0.9 means numpy's
/// 0.8999999999999999, exactly what AP used. Any other threshold runs an
/// evaluation with that single threshold (at 1.0, pycocotools' match floor of
/// 1 − 1e-10 applies, as in hotcoco). Either way only the `all` area range
/// is evaluated: it is the only one read, and matching in it does not depend
/// on the others.
///
/// This runs an evaluation of its own. A caller that also wants the COCO
/// numbers should call [`evaluate`](super::evaluate) with `match_at`, which
/// reads the matches off the same evaluation when the threshold is on the
/// default grid.
///
/// # Errors
///
/// An input error when `iou_threshold` is not in `(0, 1]` or the dataset has
/// no detections; a runtime error when hotcoco fails or its ids do not map to
/// rows of the dataset's tables.
pub fn coco_matches(ds: &Dataset, iou_threshold: f64) -> Result<Vec<Option<usize>>> {
    Ok(coco_match_states(ds, iou_threshold)?
        .into_iter()
        .map(|m| match m {
            Match::TruePositive(j) => Some(j),
            Match::FalsePositive | Match::Ignored => None,
        })
        .collect())
}

/// [`coco_matches`] with the three outcomes told apart (same rules, same
/// errors, and likewise its own evaluation).
pub fn coco_match_states(ds: &Dataset, iou_threshold: f64) -> Result<Vec<Match>> {
    check_threshold(iou_threshold)?;
    let ev = run_cocoeval(ds, |p| {
        if p.iou_thr_idx(iou_threshold).is_none() {
            p.iou_thrs = vec![iou_threshold];
        }
        let all = p.all_area_idx();
        p.area_ranges = vec![p.area_ranges[all].clone()];
    })?;
    read_matches(ds, &ev, iou_threshold)
}

/// The input error for an IoU threshold outside `(0, 1]`.
pub(super) fn check_threshold(iou_threshold: f64) -> Result<()> {
    if iou_threshold > 0.0 && iou_threshold <= 1.0 {
        Ok(())
    } else {
        Err(Error::input(Problem::general(
            format!("IoU threshold {iou_threshold} is outside (0, 1]"),
            "give an IoU threshold greater than 0 and at most 1, e.g. 0.5",
        )))
    }
}

/// The matches at `iou_threshold` of an evaluated `ev` whose evaluate-time
/// IoU grid holds that threshold (within hotcoco's 1e-9).
///
/// hotcoco's `image_diagnostics` classifies every detection of the `all`
/// area range, default maxDets cells at the threshold's row: not ignored and
/// matched is a true positive (with the matched GT id), not ignored and
/// unmatched a false positive; ignored detections and those beyond maxDets
/// are left out — [`Match::Ignored`]. (A detection matched to an ignored GT,
/// e.g. a crowd box, is itself ignored: pycocotools' `dtIg = gtIg[m]`.)
/// It reads the same `all`-range records TIDE builds, so after TIDE it builds
/// nothing new; its label-error scan is switched off with an infinite score
/// threshold.
pub(super) fn read_matches(ds: &Dataset, ev: &COCOeval, iou_threshold: f64) -> Result<Vec<Match>> {
    let dets = ds.dets.as_ref().ok_or_else(|| no_detections(ds))?;
    let hotcoco_failed = |e: &dyn std::fmt::Display| {
        Error::runtime(format!(
            "hotcoco could not give the matches of {} at IoU {iou_threshold}: {e}",
            ds.label
        ))
    };
    let grid_thr = ev
        .params
        .iou_thr_idx(iou_threshold)
        .map(|i| ev.params.iou_thrs[i])
        .ok_or_else(|| hotcoco_failed(&"the evaluation has no such IoU threshold"))?;
    let diag = ev
        .image_diagnostics(grid_thr, f64::INFINITY)
        .map_err(|e| hotcoco_failed(&e))?;
    if diag.iou_thr != grid_thr {
        return Err(hotcoco_failed(&format!(
            "it snapped the threshold to {}",
            diag.iou_thr
        )));
    }
    let index = diag.annotations;

    let det_row: HashMap<u64, usize> = dets.id.iter().enumerate().map(|(i, &id)| (id, i)).collect();
    let gt_row: HashMap<u64, usize> = ds
        .gt
        .id
        .iter()
        .enumerate()
        .map(|(j, &id)| (id, j))
        .collect();
    let unknown = |what: &str, id: u64| {
        Error::runtime(format!(
            "hotcoco matched {what} id {id} of {}, which is not in detloss's table",
            ds.label
        ))
    };

    let mut out = vec![Match::Ignored; dets.len()];
    for (&dt_id, &status) in &index.dt_status {
        let i = *det_row
            .get(&dt_id)
            .ok_or_else(|| unknown("detection", dt_id))?;
        out[i] = match status {
            DtStatus::Fp => Match::FalsePositive,
            DtStatus::Tp => {
                let gt_id = *index.dt_match.get(&dt_id).ok_or_else(|| {
                    hotcoco_failed(&format!("true positive {dt_id} has no matched GT"))
                })?;
                let j = *gt_row
                    .get(&gt_id)
                    .ok_or_else(|| unknown("ground truth", gt_id))?;
                Match::TruePositive(j)
            }
        };
    }
    Ok(out)
}
