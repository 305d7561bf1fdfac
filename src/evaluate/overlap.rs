//! COCO bbox AP with a chosen overlap: IoU, or GIoU as the GIoU authors
//! evaluated it ("AP under the GIoU metric").
//!
//! hotcoco's `COCOeval` has no hook for the overlap — its per-(image,
//! category) IoU matrices and match records are private — so this module
//! runs the pycocotools protocol itself, as a thin driver around hotcoco's
//! public kernels:
//!
//! * matching: `hotcoco::primitives::greedy::greedy_match_masked` at
//!   `coco_match_floor`ed thresholds — pycocotools' `evaluateImg` loop
//!   (non-ignored ground truths first, crowds re-matchable, on a tie the
//!   later ground truth wins);
//! * the precision/recall curve: `hotcoco::metrics::counts::
//!   precision_recall_curve_of_order_into`, the kernel hotcoco's own
//!   `accumulate` runs (tp/fp cumsum, envelope, 101-point sampling);
//! * the summary: `np.mean(s[s > -1])` in numpy's pairwise order
//!   (the numpy port in `mean.rs`).
//!
//! The driver does what lies between: gather each image × category cell, sort
//! detections by score (stable, as numpy's mergesort), keep the first 100,
//! mark ground truths ignored by crowd flag or area range (non-ignored first,
//! stably), mark unmatched detections outside an area range ignored, and rank
//! each category's detections over all its images (each image's first 1, 10
//! or 100 for the three maxDets). Parameters are
//! hotcoco's bbox defaults (`Params::new(IouType::Bbox)`): thresholds
//! 0.50:0.05:0.95, 101 recall points, maxDets 1/10/100, areas
//! all/small/medium/large.
//!
//! With [`Overlap::Iou`] the overlap is hotcoco's own
//! `primitives::sim::bbox_iou_pair`, and the 12 stats equal
//! [`evaluate`](super::evaluate)'s bit for bit (a test checks it on the shared
//! datasets). With [`Overlap::Giou`] it is [`giou_metric`], the authors'
//! `bbGiou`, crowd rule included; everything else is unchanged, as in their
//! cocoapi fork, whose numbers a test checks (`scripts/giou_metric_reference.py`).
//!
//! # Many box sets, one preparation
//!
//! Everything but the boxes — cells, score order, the 100 cut, ground-truth
//! partitions, per-category rankings — depends only on the ground truth and
//! the detections' images, categories and scores. [`OverlapEvaluator`] works
//! it out once; [`OverlapEvaluator::evaluate_xyxy`] /
//! [`evaluate_xywh`](OverlapEvaluator::evaluate_xywh) then score one set of
//! boxes each (the detections moved, say), without a new hotcoco `COCO`.
//! [`evaluate_overlap`] is the one-shot form for a [`Dataset`]'s own boxes.

use std::cmp::Ordering;
use std::collections::HashMap;

use rayon::prelude::*;
use serde::Serialize;

use hotcoco::COCO;
use hotcoco::metrics::counts::{PrCurveScratch, precision_recall_curve_of_order_into};
use hotcoco::params::{IouType, Params};
use hotcoco::primitives::greedy::{GreedyMatches, GtMasks, coco_match_floor, greedy_match_masked};
use hotcoco::primitives::sim::bbox_iou_pair;

use crate::data::Dataset;
use crate::data::boxes::xyxy_to_xywh;
use crate::error::{Error, Problem, Result};
use crate::losses::iou_family::giou_metric;

use super::{STAT_NAMES, mean, no_detections};

/// The overlap (similarity) COCO matching compares with its thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Overlap {
    /// Intersection over union, pycocotools' (hotcoco's `bbox_iou_pair`):
    /// for a crowd ground truth, the intersection over the detection's area.
    Iou,
    /// GIoU as the GIoU/DIoU authors' cocoapi fork computes it
    /// ([`giou_metric`]), crowd rule included.
    Giou,
}

impl Overlap {
    /// Both overlaps, IoU first.
    pub const ALL: [Overlap; 2] = [Overlap::Iou, Overlap::Giou];

    /// `"iou"` or `"giou"`.
    pub const fn name(self) -> &'static str {
        match self {
            Overlap::Iou => "iou",
            Overlap::Giou => "giou",
        }
    }
}

/// A detection without its box: what stays fixed while the boxes move.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoredDetection {
    /// Image id (must be an image of the ground truth).
    pub image_id: u64,
    /// Category id (must be a category of the ground truth).
    pub category_id: u64,
    /// Confidence score (not NaN).
    pub score: f64,
}

/// The result of one evaluation: the 12 COCO summary stats.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OverlapEvaluation {
    /// The overlap the matching used.
    pub overlap: Overlap,
    /// AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl
    /// ([`STAT_NAMES`]), `-1` where pycocotools prints `-1`.
    pub stats: [f64; 12],
}

impl OverlapEvaluation {
    /// AP over thresholds 0.50:0.95 (`stats[0]`).
    pub fn ap(&self) -> f64 {
        self.stats[0]
    }

    /// AP at threshold 0.50 (`stats[1]`).
    pub fn ap50(&self) -> f64 {
        self.stats[1]
    }

    /// AP at threshold 0.75 (`stats[2]`).
    pub fn ap75(&self) -> f64 {
        self.stats[2]
    }

    /// A summary stat by name (`"AP"`, `"AP50"`, … see [`STAT_NAMES`]).
    pub fn stat(&self, name: &str) -> Option<f64> {
        STAT_NAMES
            .iter()
            .position(|&n| n == name)
            .map(|i| self.stats[i])
    }
}

/// Evaluates a dataset's own detections (boxes as loaded) with `overlap`.
///
/// With [`Overlap::Iou`] the stats are [`evaluate`](super::evaluate)'s, bit
/// for bit. To evaluate other boxes for the same detections, build an
/// [`OverlapEvaluator::for_dataset`] once and call it per box set.
///
/// # Errors
///
/// An input error when the dataset has no detections.
pub fn evaluate_overlap(ds: &Dataset, overlap: Overlap) -> Result<OverlapEvaluation> {
    let ev = OverlapEvaluator::for_dataset(ds)?;
    let boxes = dataset_boxes_xywh(ds)?;
    ev.evaluate_xywh(&boxes, overlap)
}

/// The dataset's detection boxes as loaded (`[x, y, w, h]`, hotcoco's copy),
/// in the row order of `ds.dets`: the boxes [`evaluate`](super::evaluate)
/// scores, not a round trip through xyxy.
///
/// # Errors
///
/// An input error when the dataset has no detections.
pub fn dataset_boxes_xywh(ds: &Dataset) -> Result<Vec<[f64; 4]>> {
    let (dets, coco_dt) = match (&ds.dets, &ds.coco_dt) {
        (Some(d), Some(c)) => (d, c),
        _ => return Err(no_detections(ds)),
    };
    dets.id
        .iter()
        .map(|&id| {
            coco_dt.get_ann(id).and_then(|a| a.bbox).ok_or_else(|| {
                Error::runtime(format!(
                    "{}: detection id {id} has no box in hotcoco's copy of the detections",
                    ds.label
                ))
            })
        })
        .collect()
}

/// COCO bbox evaluation prepared for one ground truth and one list of
/// detections (images, categories, scores), ready to score any number of box
/// sets for those detections; see the [module docs](self).
///
/// Preparing costs less than one evaluation; each [`evaluate_xyxy`]
/// (or [`evaluate_xywh`]) call then computes only the overlaps, the matching
/// and the curves, in about half the time of a hotcoco `COCOeval` on the
/// same data (on voc2007-test with 45k–150k detections). Categories are
/// evaluated in parallel (rayon). Only the 12 stats are kept: precision is
/// drawn at 100 detections per image, where `summarize` reads it, and the
/// recall at 1 and 10 is counted.
///
/// [`evaluate_xyxy`]: OverlapEvaluator::evaluate_xyxy
/// [`evaluate_xywh`]: OverlapEvaluator::evaluate_xywh
#[derive(Debug, Clone)]
pub struct OverlapEvaluator {
    /// Number of detections a box set must have.
    n_dets: usize,
    /// `coco_match_floor` of each IoU threshold.
    floors: Vec<f64>,
    /// Recall thresholds (101).
    rec_thrs: Vec<f64>,
    /// Area ranges `[lo, hi]`, inclusive.
    area_ranges: Vec<[f64; 2]>,
    /// Indices of `all`, `small`, `medium`, `large` in `area_ranges`.
    area_idx: [usize; 4],
    /// maxDets (1, 10, 100).
    max_dets: Vec<usize>,
    /// The index of the largest maxDets (100), the one AP is read at.
    top_m: usize,
    /// Threshold indices of 0.5 and 0.75.
    t50: usize,
    t75: usize,
    /// One per ground-truth category, ascending id.
    cats: Vec<CategoryPlan>,
}

/// One category's cells (images ascending) and its detection rankings.
#[derive(Debug, Clone)]
struct CategoryPlan {
    cells: Vec<CellPlan>,
    /// Detections evaluated over all cells (each cell's first 100): the
    /// category's "slots", numbered cell by cell.
    n_slots: usize,
    /// Per area range: non-ignored ground truths over all cells.
    num_gt: Vec<usize>,
    /// Every slot, ranked by score (stable over images ascending, then score
    /// order in the cell): the order of the precision/recall curve at the
    /// top maxDets.
    ranked: Vec<u32>,
    /// Per slot: its rank in its cell, so that a smaller maxDets keeps the
    /// slots with `rank_in_cell < maxDets`.
    rank_in_cell: Vec<u32>,
}

/// One image × category cell.
#[derive(Debug, Clone)]
struct CellPlan {
    /// Ground-truth boxes `[x, y, w, h]` in hotcoco's load order; `None`
    /// without a box (never matches).
    gt_boxes: Vec<Option<[f64; 4]>>,
    gt_crowd: Vec<bool>,
    /// Detection indices (into the caller's list), by score descending, at
    /// most 100.
    dets: Vec<u32>,
    /// The cell's first slot in its category.
    slot0: usize,
    /// Per area range: the ground-truth partition the matching sees.
    partitions: Vec<Partition>,
    /// Per area range: the index of the first area range with the same
    /// partition, whose matches it shares.
    same_as: Vec<usize>,
    /// Whether any ground truth is a crowd.
    any_crowd: bool,
}

/// The ground truths of a cell in matching order for one area range.
#[derive(Debug, Clone, PartialEq)]
struct Partition {
    /// Non-ignored first, each part in load order.
    order: Vec<u32>,
    /// How many are not ignored.
    num_ni: usize,
    /// Crowd flags in `order`.
    crowd: Vec<bool>,
}

/// Stable sort on this = numpy's mergesort on `-score` (NaN is rejected
/// earlier; `-0.0` and `0.0` tie, as in numpy).
fn by_score_desc(a: f64, b: f64) -> Ordering {
    b.partial_cmp(&a).unwrap_or(Ordering::Equal)
}

impl OverlapEvaluator {
    /// Prepares the evaluation of `dets` against `gt`. `gt` is what hotcoco
    /// evaluates (a [`Dataset`]'s `coco_gt`); every annotation needs an
    /// `area` (`COCO::fill_missing_areas` gives one by hotcoco's rule).
    ///
    /// Within one image and category, detections of equal score rank in the
    /// order given: give them in results-file order (or `ds.dets` row order,
    /// which keeps it) to reproduce COCOeval.
    ///
    /// # Errors
    ///
    /// An input error for a NaN score, an image or category id not in the
    /// ground truth, a ground-truth annotation without `area`, or more
    /// than `u32::MAX` detections.
    pub fn new(gt: &COCO, dets: &[ScoredDetection]) -> Result<Self> {
        if u32::try_from(dets.len()).is_err() {
            return Err(Error::input(Problem::general(
                format!("{} detections are too many to evaluate", dets.len()),
                format!("evaluate at most {} detections at a time", u32::MAX),
            )));
        }
        let params = Params::new(IouType::Bbox);
        let thr = |t: f64| {
            params
                .iou_thr_idx(t)
                .ok_or_else(|| Error::runtime(format!("hotcoco's bbox parameters lack IoU {t}")))
        };
        let area = |label: &str| {
            params.area_range_idx(label).ok_or_else(|| {
                Error::runtime(format!("hotcoco's bbox parameters lack the `{label}` area"))
            })
        };
        let area_idx = [
            area("all")?,
            area("small")?,
            area("medium")?,
            area("large")?,
        ];
        let (t50, t75) = (thr(0.5)?, thr(0.75)?);
        let max_det = params.max_det();
        let area_ranges: Vec<[f64; 2]> = params.area_ranges.iter().map(|a| a.range).collect();

        let mut img_ids = gt.get_img_ids(&[], &[]);
        img_ids.sort_unstable();
        img_ids.dedup();
        let cat_ids = gt.get_cat_ids(&[], &[], &[]);

        // Detections per (image, category), in the order given.
        let mut by_cell: HashMap<(u64, u64), Vec<u32>> = HashMap::new();
        for (i, d) in dets.iter().enumerate() {
            let record = || {
                format!(
                    "detections[{i}] (image_id {}, category_id {})",
                    d.image_id, d.category_id
                )
            };
            if d.score.is_nan() {
                return Err(Error::input(Problem::general(
                    format!("{}: the score is NaN", record()),
                    "give every detection a score (NaN has no place in a ranking)",
                )));
            }
            if gt.get_img(d.image_id).is_none() {
                return Err(Error::input(Problem::general(
                    format!(
                        "{}: image_id {} is not in the ground truth",
                        record(),
                        d.image_id
                    ),
                    "evaluate detections on the ground truth's images only",
                )));
            }
            if gt.get_cat(d.category_id).is_none() {
                return Err(Error::input(Problem::general(
                    format!(
                        "{}: category_id {} is not in the ground truth",
                        record(),
                        d.category_id
                    ),
                    "evaluate detections of the ground truth's categories only",
                )));
            }
            by_cell
                .entry((d.image_id, d.category_id))
                .or_default()
                .push(i as u32);
        }

        let mut cats = Vec::with_capacity(cat_ids.len());
        for &cat in &cat_ids {
            let mut cells = Vec::new();
            let mut n_slots = 0;
            let mut num_gt = vec![0; area_ranges.len()];
            for &img in &img_ids {
                let g_ids = gt.get_ann_ids_for_img_cat(img, cat);
                let cell_dets = by_cell.get(&(img, cat));
                if g_ids.is_empty() && cell_dets.is_none() {
                    continue;
                }
                let mut gt_boxes = Vec::with_capacity(g_ids.len());
                let mut gt_crowd = Vec::with_capacity(g_ids.len());
                let mut gt_area = Vec::with_capacity(g_ids.len());
                for &id in g_ids {
                    let ann = gt.get_ann(id).ok_or_else(|| {
                        Error::runtime(format!("hotcoco indexes annotation {id} but has none"))
                    })?;
                    let a = ann.area.ok_or_else(|| {
                        Error::input(Problem::general(
                            format!("ground-truth annotation {id} has no `area`"),
                            "fill missing areas first (hotcoco's `COCO::fill_missing_areas`, \
                             as detloss's loaders do)",
                        ))
                    })?;
                    gt_boxes.push(ann.bbox);
                    gt_crowd.push(ann.iscrowd);
                    gt_area.push(a);
                }
                let mut cell_dets = cell_dets.cloned().unwrap_or_default();
                cell_dets.sort_by(|&a, &b| {
                    by_score_desc(dets[a as usize].score, dets[b as usize].score)
                });
                cell_dets.truncate(max_det);

                let partitions: Vec<Partition> = area_ranges
                    .iter()
                    .map(|&[lo, hi]| {
                        let ignored = |g: usize| gt_crowd[g] || gt_area[g] < lo || gt_area[g] > hi;
                        let ng = gt_boxes.len();
                        let order: Vec<u32> = (0..ng)
                            .filter(|&g| !ignored(g))
                            .chain((0..ng).filter(|&g| ignored(g)))
                            .map(|g| g as u32)
                            .collect();
                        let num_ni = (0..ng).filter(|&g| !ignored(g)).count();
                        let crowd = order.iter().map(|&g| gt_crowd[g as usize]).collect();
                        Partition {
                            order,
                            num_ni,
                            crowd,
                        }
                    })
                    .collect();
                let same_as = (0..partitions.len())
                    .map(|a| {
                        (0..a)
                            .find(|&b| partitions[b] == partitions[a])
                            .unwrap_or(a)
                    })
                    .collect();
                for (n, p) in num_gt.iter_mut().zip(&partitions) {
                    *n += p.num_ni;
                }
                let slot0 = n_slots;
                n_slots += cell_dets.len();
                cells.push(CellPlan {
                    any_crowd: gt_crowd.contains(&true),
                    gt_boxes,
                    gt_crowd,
                    dets: cell_dets,
                    slot0,
                    partitions,
                    same_as,
                });
            }
            // (slot, score), cell by cell (images ascending), each cell in
            // score order.
            let mut ranked: Vec<(u32, f64)> = Vec::with_capacity(n_slots);
            let mut rank_in_cell = Vec::with_capacity(n_slots);
            for c in &cells {
                for (j, &d) in c.dets.iter().enumerate() {
                    ranked.push(((c.slot0 + j) as u32, dets[d as usize].score));
                    rank_in_cell.push(j as u32);
                }
            }
            ranked.sort_by(|x, y| by_score_desc(x.1, y.1));
            let ranked = ranked.into_iter().map(|(s, _)| s).collect();
            cats.push(CategoryPlan {
                cells,
                n_slots,
                num_gt,
                ranked,
                rank_in_cell,
            });
        }

        Ok(OverlapEvaluator {
            n_dets: dets.len(),
            floors: params
                .iou_thrs
                .iter()
                .map(|&t| coco_match_floor(t))
                .collect(),
            rec_thrs: params.rec_thrs.clone(),
            area_ranges,
            area_idx,
            max_dets: params.max_dets.clone(),
            top_m: params.max_det_idx(),
            t50,
            t75,
            cats,
        })
    }

    /// Prepares the evaluation of a dataset's detections, in the row order
    /// of `ds.dets` (the [`BoxTable`](crate::data::BoxTable) order): box `i`
    /// of a box set is row `i`'s.
    ///
    /// # Errors
    ///
    /// An input error when the dataset has no detections, or as for
    /// [`new`](Self::new).
    pub fn for_dataset(ds: &Dataset) -> Result<Self> {
        let dets = ds
            .dets
            .as_ref()
            .filter(|_| ds.coco_dt.is_some())
            .ok_or_else(|| no_detections(ds))?;
        let scored: Vec<ScoredDetection> = (0..dets.len())
            .map(|i| ScoredDetection {
                image_id: dets.image_id[i],
                category_id: dets.category_id[i],
                score: dets.score[i],
            })
            .collect();
        Self::new(&ds.coco_gt, &scored)
    }

    /// How many boxes a box set must have: one per detection.
    pub fn len(&self) -> usize {
        self.n_dets
    }

    /// Whether there are no detections.
    pub fn is_empty(&self) -> bool {
        self.n_dets == 0
    }

    /// Evaluates one box set, `[x1, y1, x2, y2]` per detection in the order
    /// the evaluator was prepared with.
    ///
    /// The boxes are turned into COCO's `[x, y, w, h]` (`w = x2 − x1`), which
    /// is what the overlaps and the detection areas are computed from. A
    /// dataset's xyxy boxes are therefore its loaded boxes only up to that
    /// round trip's last bit, and an overlap lying exactly on a threshold can
    /// move across it: on coco-val2014-100 (fake detections that are shifted
    /// ground truths) GIoU AP is 0.50330 through xyxy against 0.50314 from
    /// the file's boxes. For a dataset's own numbers use
    /// [`evaluate_xywh`](Self::evaluate_xywh) with [`dataset_boxes_xywh`];
    /// to compare box sets, give them all in the same layout.
    ///
    /// # Errors
    ///
    /// An input error when the number of boxes is not [`len`](Self::len) or a
    /// coordinate is not finite.
    pub fn evaluate_xyxy(&self, boxes: &[[f64; 4]], overlap: Overlap) -> Result<OverlapEvaluation> {
        self.check_boxes(boxes, "[x1, y1, x2, y2]")?;
        let xywh: Vec<[f64; 4]> = boxes.iter().map(|&b| xyxy_to_xywh(b)).collect();
        Ok(self.run(&xywh, overlap))
    }

    /// Evaluates one box set, COCO `[x, y, w, h]` per detection in the order
    /// the evaluator was prepared with. A detection's area (for the area
    /// ranges) is `w · h`, as pycocotools' `loadRes` sets it.
    ///
    /// # Errors
    ///
    /// An input error when the number of boxes is not [`len`](Self::len) or a
    /// coordinate is not finite.
    pub fn evaluate_xywh(&self, boxes: &[[f64; 4]], overlap: Overlap) -> Result<OverlapEvaluation> {
        self.check_boxes(boxes, "[x, y, w, h]")?;
        Ok(self.run(boxes, overlap))
    }

    fn check_boxes(&self, boxes: &[[f64; 4]], layout: &str) -> Result<()> {
        if boxes.len() != self.n_dets {
            return Err(Error::input(Problem::general(
                format!("{} boxes for {} detections", boxes.len(), self.n_dets),
                "give one box per detection, in the order the evaluator was prepared with",
            )));
        }
        if let Some((i, b)) = boxes
            .iter()
            .enumerate()
            .find(|(_, b)| b.iter().any(|v| !v.is_finite()))
        {
            return Err(Error::input(Problem::general(
                format!("box {i} {layout} is {b:?}: a coordinate is not finite"),
                "give finite coordinates (a diverged regression cannot be scored)",
            )));
        }
        Ok(())
    }

    /// Evaluate, accumulate, summarize.
    fn run(&self, boxes: &[[f64; 4]], overlap: Overlap) -> OverlapEvaluation {
        let curves = match overlap {
            Overlap::Iou => self.curves(boxes, bbox_iou_pair),
            Overlap::Giou => self.curves(boxes, giou_metric),
        };
        OverlapEvaluation {
            overlap,
            stats: self.summarize(&curves),
        }
    }

    /// Precision and recall of every category, in parallel.
    fn curves(
        &self,
        boxes: &[[f64; 4]],
        sim: impl Fn([f64; 4], [f64; 4], bool) -> f64 + Sync,
    ) -> Vec<CategoryCurves> {
        self.cats
            .par_iter()
            .map_init(
                || (PrCurveScratch::default(), Vec::new()),
                |(scratch, curve), cat| self.category(cat, boxes, &sim, scratch, curve),
            )
            .collect()
    }

    /// One category: match every cell at every threshold and area range,
    /// then the precision/recall of each (area range, maxDets, threshold).
    fn category(
        &self,
        cat: &CategoryPlan,
        boxes: &[[f64; 4]],
        sim: &impl Fn([f64; 4], [f64; 4], bool) -> f64,
        scratch: &mut PrCurveScratch,
        curve: &mut Vec<(usize, f64, usize)>,
    ) -> CategoryCurves {
        let (n_t, n_a, n_s) = (self.floors.len(), self.area_ranges.len(), cat.n_slots);
        // `[A][T][slot]` flags, pycocotools' dtMatches != 0 and dtIgnore.
        let mut matched = vec![false; n_a * n_t * n_s];
        let mut ignored = vec![false; n_a * n_t * n_s];
        let flag = |a: usize, t: usize, s: usize| (a * n_t + t) * n_s + s;
        let mut full = Vec::new();
        let mut flat = Vec::new();
        for cell in &cat.cells {
            let (nd, ng) = (cell.dets.len(), cell.gt_boxes.len());
            let dt_area: Vec<f64> = cell
                .dets
                .iter()
                .map(|&d| boxes[d as usize][2] * boxes[d as usize][3])
                .collect();
            // The overlaps, [D x G], ground truths in load order.
            full.clear();
            for &d in &cell.dets {
                let db = boxes[d as usize];
                full.extend(
                    cell.gt_boxes
                        .iter()
                        .zip(&cell.gt_crowd)
                        .map(|(g, &crowd)| g.map_or(f64::NEG_INFINITY, |gb| sim(db, gb, crowd))),
                );
            }
            // Matches per distinct partition, made when first needed.
            let mut matches: Vec<Option<GreedyMatches>> = vec![None; n_a];
            for a in 0..n_a {
                let [lo, hi] = self.area_ranges[a];
                let outside = |di: usize| dt_area[di] < lo || dt_area[di] > hi;
                let shared = cell.same_as[a];
                let p = &cell.partitions[shared];
                // With every ground truth ignored, a match only turns a
                // detection ignored; one outside the range is ignored anyway.
                // When that is all of them, the matches change nothing.
                let needed = p.num_ni > 0 || !(0..nd).all(outside);
                if needed && ng > 0 && nd > 0 && matches[shared].is_none() {
                    flat.clear();
                    for di in 0..nd {
                        let row = &full[di * ng..(di + 1) * ng];
                        flat.extend(p.order.iter().map(|&g| row[g as usize]));
                    }
                    let masks = GtMasks {
                        rematchable: cell.any_crowd.then_some(p.crowd.as_slice()),
                        phase2_eligible: None,
                    };
                    matches[shared] = Some(greedy_match_masked(
                        &flat,
                        nd,
                        ng,
                        p.num_ni,
                        masks,
                        &self.floors,
                    ));
                }
                let m = matches[shared].as_ref().filter(|_| needed);
                for t in 0..n_t {
                    for di in 0..nd {
                        let i = flag(a, t, cell.slot0 + di);
                        match m.and_then(|m| m.dt_gt[(t, di)]) {
                            Some(gi) => {
                                matched[i] = true;
                                ignored[i] = gi >= p.num_ni;
                            }
                            None => ignored[i] = outside(di),
                        }
                    }
                }
            }
        }

        // accumulate. `summarize` reads precision at the top maxDets only, and
        // recall at every maxDets: the curve is drawn for the top maxDets, and
        // the final recall of the others is their true-positive count over
        // num_gt (pycocotools' `rc[-1]`, the same division).
        let n_r = self.rec_thrs.len();
        let n_m = self.max_dets.len();
        let mut out = CategoryCurves {
            precision: vec![-1.0; n_t * n_r * n_a],
            recall: vec![-1.0; n_t * n_a * n_m],
        };
        for a in 0..n_a {
            let num_gt = cat.num_gt[a];
            if num_gt == 0 {
                continue;
            }
            for (m, &md) in self.max_dets.iter().enumerate() {
                for t in 0..n_t {
                    let row = flag(a, t, 0)..flag(a, t, 0) + n_s;
                    let (matched, ignored) = (&matched[row.clone()], &ignored[row]);
                    let ri = (t * n_a + a) * n_m + m;
                    if m != self.top_m {
                        let tp = (0..n_s)
                            .filter(|&s| {
                                (cat.rank_in_cell[s] as usize) < md && matched[s] && !ignored[s]
                            })
                            .count();
                        out.recall[ri] = tp as f64 / num_gt as f64;
                        continue;
                    }
                    for r in 0..n_r {
                        out.precision[(t * n_r + r) * n_a + a] = 0.0;
                    }
                    if cat.ranked.is_empty() {
                        out.recall[ri] = 0.0;
                        continue;
                    }
                    out.recall[ri] = precision_recall_curve_of_order_into(
                        cat.ranked.iter().map(|&s| s as usize),
                        matched,
                        Some(ignored),
                        num_gt,
                        &self.rec_thrs,
                        scratch,
                        curve,
                    );
                    for &(r, p, _rank) in curve.iter() {
                        out.precision[(t * n_r + r) * n_a + a] = p;
                    }
                }
            }
        }
        out
    }

    /// pycocotools' `summarize` for bbox: `np.mean(s[s > -1])` over
    /// `precision[t, :, k, a, top]` (C order: t, recall, category) or
    /// `recall[t, k, a, m]`.
    fn summarize(&self, curves: &[CategoryCurves]) -> [f64; 12] {
        let (n_t, n_r, n_a, n_m) = (
            self.floors.len(),
            self.rec_thrs.len(),
            self.area_ranges.len(),
            self.max_dets.len(),
        );
        let or_none = |v: Option<f64>| v.unwrap_or(-1.0);
        let ap = |ts: std::ops::Range<usize>, a: usize| {
            or_none(mean::mean_of_valid(ts.flat_map(move |t| {
                (0..n_r).flat_map(move |r| {
                    curves
                        .iter()
                        .map(move |c| c.precision[(t * n_r + r) * n_a + a])
                })
            })))
        };
        let ar = |a: usize, m: Option<usize>| {
            let Some(m) = m else { return -1.0 };
            or_none(mean::mean_of_valid((0..n_t).flat_map(move |t| {
                curves
                    .iter()
                    .map(move |c| c.recall[(t * n_a + a) * n_m + m])
            })))
        };
        let slot = |md: usize| self.max_dets.iter().position(|&d| d == md);
        let top = Some(self.top_m);
        let [all, small, medium, large] = self.area_idx;
        [
            ap(0..n_t, all),
            ap(self.t50..self.t50 + 1, all),
            ap(self.t75..self.t75 + 1, all),
            ap(0..n_t, small),
            ap(0..n_t, medium),
            ap(0..n_t, large),
            ar(all, slot(1)),
            ar(all, slot(10)),
            ar(all, top),
            ar(small, top),
            ar(medium, top),
            ar(large, top),
        ]
    }
}

/// One category's accumulated arrays, what `summarize` reads: precision
/// `[T][R][A]` at the top maxDets, recall `[T][A][M]`; `-1` where
/// pycocotools leaves it.
struct CategoryCurves {
    precision: Vec<f64>,
    recall: Vec<f64>,
}
