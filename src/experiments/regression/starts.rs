//! The boxes a real-box regression starts from.
//!
//! * **Anchors** (`start = "anchors"`): the simulation's protocol around every
//!   non-crowd ground-truth box, in units of that box: one centre per box
//!   drawn uniformly in the disk of radius `radius` (in box sizes: the offset
//!   is (u·w_g, v·h_g)), from MATLAB's random stream
//!   ([`crate::experiments::sampling::MatlabRand`]) with `seed`;
//!   then one anchor per scale s and ratio r: w = w_g·√(s·r),
//!   h = h_g·√(s/r) — area s × the box's, aspect r × the box's. Each (s, r)
//!   forms its own set: one box per ground truth, score 1, the ground
//!   truth's image and category.
//! * **Detections** (`start = "detections"`): the dataset's results file, one
//!   set. Each detection regresses towards the ground truth the `best_iou`
//!   assignment gives it ([`crate::matching`]: same image and category,
//!   highest IoU, else the nearest centre), keeping its own score; one
//!   without such a ground truth stays where it is.

use crate::data::Dataset;
use crate::error::Result;
use crate::experiments::descent::{Xywh, from_xyxy};
use crate::experiments::sampling::disk_points;
use crate::matching::{self, Assignment};

/// A box that takes part in evaluation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Det {
    /// Image id.
    pub image_id: u64,
    /// Category id.
    pub category_id: u64,
    /// Score.
    pub score: f64,
}

/// The start of a regression: every box, its target (if any), grouped in
/// sets that are evaluated separately.
#[derive(Debug, Clone)]
pub struct Start {
    /// What each box is (image, category, score), in box order.
    pub dets: Vec<Det>,
    /// The boxes, (x, y, w, h) in pixels, (x, y) the centre.
    pub boxes: Vec<Xywh>,
    /// Per box: its target's index into `targets`, or `None` (it stays).
    pub target_of: Vec<Option<usize>>,
    /// Target boxes, (x, y, w, h).
    pub targets: Vec<Xywh>,
    /// The image size (W, H) of each target (normalised encodings).
    pub target_image: Vec<[f64; 2]>,
    /// Box ranges of the sets, in order.
    pub sets: Vec<std::ops::Range<usize>>,
    /// Set names (`s=0.5, r=2` or `detections`).
    pub set_names: Vec<String>,
}

fn image_size(ds: &Dataset, image_id: u64) -> [f64; 2] {
    ds.image(image_id)
        .filter(|im| im.width > 0 && im.height > 0)
        .map_or([1.0, 1.0], |im| [f64::from(im.width), f64::from(im.height)])
}

/// Anchors around every non-crowd ground-truth box of `ds`.
pub fn anchors(ds: &Dataset, radius: f64, seed: u32, scales: &[f64], ratios: &[f64]) -> Start {
    let gt = &ds.gt;
    let rows: Vec<usize> = (0..gt.len()).filter(|&j| !gt.iscrowd[j]).collect();
    let offsets = disk_points(rows.len(), radius, [0.0, 0.0], seed);
    let targets: Vec<Xywh> = rows.iter().map(|&j| from_xyxy(gt.xyxy(j))).collect();
    let target_image = rows
        .iter()
        .map(|&j| image_size(ds, gt.image_id[j]))
        .collect();
    let mut start = Start {
        dets: Vec::new(),
        boxes: Vec::new(),
        target_of: Vec::new(),
        targets,
        target_image,
        sets: Vec::new(),
        set_names: Vec::new(),
    };
    for &s in scales {
        for &r in ratios {
            let first = start.boxes.len();
            for (k, &j) in rows.iter().enumerate() {
                let g = start.targets[k];
                let [u, v] = offsets[k];
                start.boxes.push([
                    g[0] + u * g[2],
                    g[1] + v * g[3],
                    g[2] * (s * r).sqrt(),
                    g[3] * (s / r).sqrt(),
                ]);
                start.target_of.push(Some(k));
                start.dets.push(Det {
                    image_id: gt.image_id[j],
                    category_id: gt.category_id[j],
                    score: 1.0,
                });
            }
            start.sets.push(first..start.boxes.len());
            start.set_names.push(format!("s={s}, r={r}"));
        }
    }
    start
}

/// The detections of `ds`, each with its `best_iou` ground truth.
///
/// # Errors
/// An input error when the dataset has no detections.
pub fn detections(ds: &Dataset) -> Result<Start> {
    let assigned = matching::assign(ds, Assignment::BestIou, None)?;
    let dets = ds.dets.as_ref().expect("assign checked the detections");
    let mut targets = Vec::new();
    let mut target_image = Vec::new();
    let mut target_of = Vec::with_capacity(dets.len());
    let mut index = std::collections::HashMap::new();
    for m in &assigned.matched {
        target_of.push(m.map(|g| {
            *index.entry(g).or_insert_with(|| {
                targets.push(from_xyxy(ds.gt.xyxy(g)));
                target_image.push(image_size(ds, ds.gt.image_id[g]));
                targets.len() - 1
            })
        }));
    }
    Ok(Start {
        dets: (0..dets.len())
            .map(|i| Det {
                image_id: dets.image_id[i],
                category_id: dets.category_id[i],
                score: dets.score[i],
            })
            .collect(),
        boxes: (0..dets.len()).map(|i| from_xyxy(dets.xyxy(i))).collect(),
        target_of,
        targets,
        target_image,
        sets: std::iter::once(0..dets.len()).collect(),
        set_names: vec!["detections".into()],
    })
}
