//! Matching: which ground-truth box each detection is compared with.
//!
//! | rule | pairs |
//! |---|---|
//! | `coco@T` (default `coco@0.5`) | the greedy, score-ordered matching of COCO evaluation at IoU threshold T, taken from hotcoco's per-image results (area "all", maxDets 100); matches to crowd or ignored ground truth are not pairs |
//! | `best_iou` | every detection with the same-class, same-image ground truth of highest IoU (crowd excluded), falling back to the nearest centre when none overlaps — so non-overlapping pairs, which IoU loss cannot see, appear too |
//!
//! A detection without a partner is a negative in the classification table,
//! except one that COCO ignores (matched to a crowd region, or beyond 100 per
//! image and category): that one is left out, as COCO evaluation leaves it out.

use serde::Serialize;

use crate::data::{Dataset, SizeBucket};
use crate::error::{Error, Problem, Result};
use crate::evaluate::{CocoMatches, Match, coco_match_states};
use crate::losses::iou_family::iou;

/// How detections are paired with ground truth.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Assignment {
    /// COCO evaluation's matching at an IoU threshold.
    Coco(f64),
    /// Highest IoU, else nearest centre.
    BestIou,
}

impl Assignment {
    /// Parses `coco@T`, `coco` (= `coco@0.5`) or `best_iou`.
    pub fn parse(s: &str) -> Result<Assignment> {
        let bad = || {
            Error::input(Problem::general(
                format!("unknown assignment `{s}`"),
                "use coco@T with 0 < T ≤ 1 (e.g. coco@0.5, the default), or best_iou",
            ))
        };
        match s {
            "best_iou" => Ok(Assignment::BestIou),
            "coco" => Ok(Assignment::Coco(0.5)),
            _ => {
                let t: f64 = s
                    .strip_prefix("coco@")
                    .and_then(|t| t.parse().ok())
                    .ok_or_else(bad)?;
                if t > 0.0 && t <= 1.0 {
                    Ok(Assignment::Coco(t))
                } else {
                    Err(bad())
                }
            }
        }
    }

    /// The IoU threshold of a `coco@T` rule (`None` for `best_iou`): what
    /// [`evaluate`](crate::evaluate::evaluate) takes as `match_at`, so that
    /// one evaluation gives both the COCO numbers and the matches [`assign`]
    /// needs.
    pub fn coco_threshold(&self) -> Option<f64> {
        match self {
            Assignment::Coco(t) => Some(*t),
            Assignment::BestIou => None,
        }
    }

    /// The rule as written in configs and reports.
    pub fn name(&self) -> String {
        match self {
            Assignment::Coco(t) => format!("coco@{t}"),
            Assignment::BestIou => "best_iou".into(),
        }
    }
}

/// A detection with its ground truth.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pair {
    /// Row in `ds.dets`.
    pub det: usize,
    /// Row in `ds.gt`.
    pub gt: usize,
    /// Image id.
    pub image_id: u64,
    /// Category id.
    pub category_id: u64,
    /// COCO size bucket of the ground truth.
    pub bucket: SizeBucket,
    /// IoU of the two boxes.
    pub iou: f64,
    /// Detection score.
    pub score: f64,
    /// Predicted box, xyxy.
    pub pred: [f64; 4],
    /// Ground-truth box, xyxy.
    pub target: [f64; 4],
    /// Image (width, height); (1, 1) when unknown.
    pub image_size: [f64; 2],
}

/// The outcome of an assignment.
#[derive(Debug, Clone)]
pub struct Assigned {
    /// The rule.
    pub rule: Assignment,
    /// Matched pairs, in detection-row order.
    pub pairs: Vec<Pair>,
    /// Per detection row: matched ground-truth row.
    pub matched: Vec<Option<usize>>,
    /// Per detection row: ignored by the rule (COCO: matched to a crowd or
    /// ignored ground truth, or beyond 100 per image and category) — neither
    /// a pair nor a negative.
    pub ignored: Vec<bool>,
}

/// Pairs the detections of `ds` with its ground truth.
///
/// For `coco@T`, `coco` gives COCO's matches at T when the caller has them —
/// [`evaluate`](crate::evaluate::evaluate) with `match_at = Some(T)` returns
/// them from the evaluation it runs anyway; with `None`, a matching-only
/// evaluation runs here ([`coco_match_states`]). `best_iou` ignores `coco`.
///
/// # Errors
///
/// An input error when the dataset has no detections (or for `coco@T`, as
/// [`coco_match_states`]); a runtime error when the given matches are for
/// another threshold or another number of detections.
pub fn assign(ds: &Dataset, rule: Assignment, coco: Option<&CocoMatches>) -> Result<Assigned> {
    let Some(dets) = &ds.dets else {
        return Err(Error::input(Problem::general(
            format!("dataset `{}` has no detections to match", ds.label),
            "give the dataset a results file (`dets`)",
        )));
    };
    let (matched, ignored): (Vec<Option<usize>>, Vec<bool>) = match rule {
        Assignment::Coco(t) => {
            let own;
            let states: &[Match] = match coco {
                Some(m) if m.iou_threshold != t => {
                    return Err(Error::runtime(format!(
                        "{}: matches at IoU {} were given for the rule {}",
                        ds.label,
                        m.iou_threshold,
                        rule.name()
                    )));
                }
                Some(m) if m.states.len() != dets.len() => {
                    return Err(Error::runtime(format!(
                        "{}: {} COCO matches were given for {} detections",
                        ds.label,
                        m.states.len(),
                        dets.len()
                    )));
                }
                Some(m) => &m.states,
                None => {
                    own = coco_match_states(ds, t)?;
                    &own
                }
            };
            states
                .iter()
                .map(|m| match *m {
                    Match::TruePositive(j) => (Some(j), false),
                    Match::FalsePositive => (None, false),
                    Match::Ignored => (None, true),
                })
                .unzip()
        }
        Assignment::BestIou => {
            let m = best_iou(ds);
            let n = m.len();
            (m, vec![false; n])
        }
    };
    let pairs = matched
        .iter()
        .enumerate()
        .filter_map(|(d, m)| {
            let g = (*m)?;
            let image_size = ds
                .image(dets.image_id[d])
                .filter(|im| im.width > 0 && im.height > 0)
                .map_or([1.0, 1.0], |im| [f64::from(im.width), f64::from(im.height)]);
            Some(Pair {
                det: d,
                gt: g,
                image_id: dets.image_id[d],
                category_id: dets.category_id[d],
                bucket: ds.gt.bucket[g],
                iou: iou(dets.xyxy(d), ds.gt.xyxy(g)),
                score: dets.score[d],
                pred: dets.xyxy(d),
                target: ds.gt.xyxy(g),
                image_size,
            })
        })
        .collect();
    Ok(Assigned {
        rule,
        pairs,
        matched,
        ignored,
    })
}

fn centre(b: [f64; 4]) -> [f64; 2] {
    [(b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0]
}

/// Highest IoU within the same image and category (crowd excluded; ties to
/// the first ground truth in file order), else the nearest centre.
fn best_iou(ds: &Dataset) -> Vec<Option<usize>> {
    let Some(dets) = &ds.dets else {
        return Vec::new();
    };
    (0..dets.len())
        .map(|d| {
            let cell = ds.gt.cell(dets.image_id[d], dets.category_id[d]);
            let p = dets.xyxy(d);
            let candidates = cell.filter(|&g| !ds.gt.iscrowd[g]);
            let mut best: Option<(usize, f64, f64)> = None; // (row, iou, −distance²)
            for g in candidates {
                let t = ds.gt.xyxy(g);
                let (cp, ct) = (centre(p), centre(t));
                let key = (
                    iou(p, t),
                    -((cp[0] - ct[0]).powi(2) + (cp[1] - ct[1]).powi(2)),
                );
                if best.is_none_or(|(_, bi, bd)| {
                    key.0 > bi || (key.0 == bi && key.0 == 0.0 && key.1 > bd)
                }) {
                    best = Some((g, key.0, key.1));
                }
            }
            best.map(|(g, _, _)| g)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rules() {
        assert_eq!(
            Assignment::parse("coco@0.75").unwrap(),
            Assignment::Coco(0.75)
        );
        assert_eq!(Assignment::parse("coco").unwrap(), Assignment::Coco(0.5));
        assert_eq!(Assignment::parse("best_iou").unwrap(), Assignment::BestIou);
        assert!(Assignment::parse("coco@2").is_err());
        assert!(Assignment::parse("hungarian").is_err());
    }
}
