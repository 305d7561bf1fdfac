//! The dataset summary: what was loaded, in numbers.
//!
//! Counts (images, boxes, categories, crowd and difficult boxes), boxes per
//! COCO size bucket, width/height/aspect-ratio quantiles of the ground truth,
//! and for detections their count per image, size buckets and score
//! quantiles. Quantiles follow [`crate::stats::quantiles`].

use serde::Serialize;

use crate::data::{BoxTable, Dataset, SizeBucket};
use crate::stats::{Quantile, quantiles};

/// Boxes per COCO size bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BucketCounts {
    /// area < 32².
    pub small: usize,
    /// 32² ≤ area < 96².
    pub medium: usize,
    /// area ≥ 96².
    pub large: usize,
}

impl BucketCounts {
    fn of(t: &BoxTable) -> Self {
        let mut c = BucketCounts::default();
        for b in &t.bucket {
            match b {
                SizeBucket::Small => c.small += 1,
                SizeBucket::Medium => c.medium += 1,
                SizeBucket::Large => c.large += 1,
            }
        }
        c
    }
}

/// Shape statistics of a set of boxes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BoxShape {
    /// Width quantiles, pixels.
    pub width: Vec<Quantile>,
    /// Height quantiles, pixels.
    pub height: Vec<Quantile>,
    /// Aspect ratio w/h quantiles (zero-height boxes left out).
    pub aspect: Vec<Quantile>,
}

impl BoxShape {
    fn of(t: &BoxTable, qs: &[f64]) -> Self {
        let w: Vec<f64> = (0..t.len()).map(|i| t.width(i)).collect();
        let h: Vec<f64> = (0..t.len()).map(|i| t.height(i)).collect();
        let a: Vec<f64> = w
            .iter()
            .zip(&h)
            .filter(|(_, h)| **h > 0.0)
            .map(|(w, h)| w / h)
            .collect();
        BoxShape {
            width: quantiles(&w, qs),
            height: quantiles(&h, qs),
            aspect: quantiles(&a, qs),
        }
    }
}

/// Detections of a dataset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DetectionSummary {
    /// Number of detections.
    pub count: usize,
    /// Images with at least one detection.
    pub images_with_detections: usize,
    /// Detections per image, over all images (including those with none).
    pub per_image: Vec<Quantile>,
    /// Detections per size bucket (by w·h).
    pub buckets: BucketCounts,
    /// Score quantiles.
    pub score: Vec<Quantile>,
    /// Box shapes.
    pub shape: BoxShape,
}

/// The summary of one dataset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatasetSummary {
    /// Dataset label.
    pub label: String,
    /// Known name or label.
    pub name: String,
    /// Format read.
    pub format: String,
    /// Number of images.
    pub images: usize,
    /// Number of ground-truth boxes.
    pub annotations: usize,
    /// Number of categories declared.
    pub categories: usize,
    /// Categories with at least one ground-truth box.
    pub categories_used: usize,
    /// Crowd boxes (`iscrowd = 1`).
    pub crowd: usize,
    /// VOC difficult boxes.
    pub difficult: usize,
    /// Images with no ground-truth box.
    pub images_without_boxes: usize,
    /// Ground truth per size bucket (by the annotation's `area`).
    pub buckets: BucketCounts,
    /// Ground-truth box shapes.
    pub shape: BoxShape,
    /// Detections, when the dataset has any.
    pub detections: Option<DetectionSummary>,
    /// Validation warnings by kind.
    pub warnings: Vec<(String, usize)>,
}

fn per_image_counts(ds: &Dataset, t: &BoxTable) -> Vec<f64> {
    let mut counts = vec![0usize; ds.images.len()];
    for g in &t.groups {
        if let Ok(i) = ds.images.binary_search_by_key(&g.image_id, |im| im.id) {
            counts[i] += g.rows.len();
        }
    }
    counts.into_iter().map(|c| c as f64).collect()
}

/// Summarises a dataset at the given quantile probabilities.
pub fn summarise(ds: &Dataset, qs: &[f64]) -> DatasetSummary {
    let gt_per_image = per_image_counts(ds, &ds.gt);
    let mut used: Vec<u64> = ds.gt.category_id.clone();
    used.sort_unstable();
    used.dedup();
    DatasetSummary {
        label: ds.label.clone(),
        name: ds.name.clone(),
        format: ds.format.name().into(),
        images: ds.images.len(),
        annotations: ds.gt.len(),
        categories: ds.categories.len(),
        categories_used: used.len(),
        crowd: ds.gt.iscrowd.iter().filter(|&&c| c).count(),
        difficult: ds.gt.difficult.iter().filter(|&&c| c).count(),
        images_without_boxes: gt_per_image.iter().filter(|&&c| c == 0.0).count(),
        buckets: BucketCounts::of(&ds.gt),
        shape: BoxShape::of(&ds.gt, qs),
        detections: ds.dets.as_ref().map(|d| {
            let per_image = per_image_counts(ds, d);
            DetectionSummary {
                count: d.len(),
                images_with_detections: per_image.iter().filter(|&&c| c > 0.0).count(),
                per_image: quantiles(&per_image, qs),
                buckets: BucketCounts::of(d),
                score: quantiles(&d.score, qs),
                shape: BoxShape::of(d, qs),
            }
        }),
        warnings: crate::data::validate::summarise(&ds.warnings),
    }
}
