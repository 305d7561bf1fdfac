//! COCO matching at one IoU threshold, read off hotcoco's per-image records.

use std::collections::HashMap;

use crate::data::Dataset;
use crate::error::{Error, Problem, Result};

use super::{no_detections, run_cocoeval};

/// For every detection row `i` of `ds.dets` (the [`BoxTable`](crate::data::BoxTable)
/// order), the row in `ds.gt` of the ground truth COCO evaluation matched it
/// to at IoU threshold `iou_threshold`, or `None`.
///
/// The matches are hotcoco's, not ours: a bbox `COCOeval` runs and its
/// per-image records (`eval_imgs`, area range `all`, 100 detections per image
/// and category) give, per detection, `dt_matched` / `dt_matches` (the
/// matched GT's annotation id) / `dt_ignore` at the threshold's row. Ids are
/// mapped back to rows with `ds.dets.id` (the ids hotcoco assigned, 1..N) and
/// `ds.gt.id` (the GT annotation ids).
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

/// [`coco_matches`] with the three outcomes told apart (same rules, same
/// errors).
pub fn coco_match_states(ds: &Dataset, iou_threshold: f64) -> Result<Vec<Match>> {
    if !(iou_threshold > 0.0 && iou_threshold <= 1.0) {
        return Err(Error::input(Problem::general(
            format!("IoU threshold {iou_threshold} is outside (0, 1]"),
            "give an IoU threshold greater than 0 and at most 1, e.g. 0.5",
        )));
    }
    let dets = ds.dets.as_ref().ok_or_else(|| no_detections(ds))?;
    let mut row = 0;
    let ev = run_cocoeval(ds, |p| {
        match p.iou_thr_idx(iou_threshold) {
            Some(i) => row = i,
            None => p.iou_thrs = vec![iou_threshold],
        }
        let all = p.all_area_idx();
        p.area_ranges = vec![p.area_ranges[all].clone()];
    })?;

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

    let all = ev.params.all_area_range();
    let max_det = ev.params.max_det();
    let mut out = vec![Match::Ignored; dets.len()];
    for e in ev.eval_imgs().iter().flatten() {
        if e.area_rng != all || e.max_det != max_det {
            continue;
        }
        for (d, &dt_id) in e.dt_ids.iter().enumerate() {
            let i = *det_row
                .get(&dt_id)
                .ok_or_else(|| unknown("detection", dt_id))?;
            if !e.dt_matched[(row, d)] {
                // Unmatched and not ignored: a false positive. (In area `all`
                // an unmatched detection is never ignored for its size.)
                out[i] = if e.dt_ignore[(row, d)] {
                    Match::Ignored
                } else {
                    Match::FalsePositive
                };
                continue;
            }
            if e.dt_ignore[(row, d)] {
                continue;
            }
            let gt_id = e.dt_matches[(row, d)];
            let ignored_gt = e
                .gt_ids
                .iter()
                .position(|&g| g == gt_id)
                .is_none_or(|g| e.gt_ignore[g]);
            if ignored_gt {
                continue;
            }
            let j = *gt_row
                .get(&gt_id)
                .ok_or_else(|| unknown("ground truth", gt_id))?;
            out[i] = Match::TruePositive(j);
        }
    }
    Ok(out)
}
