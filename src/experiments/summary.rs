//! The dataset summary: what was loaded, in numbers.
//!
//! Counts (images, boxes, categories, crowd and difficult boxes), boxes per
//! COCO size bucket, width/height/aspect-ratio quantiles of the ground truth,
//! and for detections their count per image, size buckets and score
//! quantiles. Quantiles follow [`crate::stats::quantiles`].
//!
//! It runs in every config that names a dataset; `[summary]` only sets the
//! quantiles:
//!
//! ```toml
//! [summary]
//! quantiles = [0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0]   # the default
//! ```

use serde::{Deserialize, Serialize};

use super::{ConfigContext, Experiment, Outcome, RunContext, Section};
use crate::data::{BoxTable, Dataset, SizeBucket};
use crate::error::Result;
use crate::report::markdown::{Table, num, quantile_label};
use crate::stats::{Quantile, quantiles};

/// `[summary]` in a config.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SummarySection {
    /// Quantile probabilities reported for box sizes, scores and counts.
    #[serde(default = "default_quantiles")]
    pub quantiles: Vec<f64>,
}

impl Default for SummarySection {
    fn default() -> Self {
        SummarySection {
            quantiles: default_quantiles(),
        }
    }
}

fn default_quantiles() -> Vec<f64> {
    vec![0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0]
}

/// The planned summary: the quantile probabilities, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryPlan {
    /// Probabilities in [0, 1].
    pub quantiles: Vec<f64>,
}

impl Experiment for SummaryPlan {
    const KEY: &'static str = "summary";
    type Section = SummarySection;
    type Output = Summaries;

    fn plan(section: Option<SummarySection>, cfg: &ConfigContext<'_>) -> Result<Option<Self>> {
        let qs = section.unwrap_or_default().quantiles;
        let mut problems = Vec::new();
        if qs.is_empty() {
            problems.push(cfg.problem(
                "[summary] quantiles",
                "no quantiles".into(),
                "list at least one probability, e.g. [0.05, 0.5, 0.95]",
            ));
        }
        for &q in &qs {
            if !(0.0..=1.0).contains(&q) {
                problems.push(cfg.problem(
                    "[summary] quantiles",
                    format!("quantile {q} is outside [0, 1]"),
                    "use probabilities between 0 and 1, e.g. [0.05, 0.5, 0.95]",
                ));
            }
        }
        super::problems_to_result(problems)?;
        // Without datasets (a simulation-only config) there is nothing to summarise.
        Ok((!cfg.datasets.is_empty()).then_some(SummaryPlan { quantiles: qs }))
    }

    fn compute(&self, datasets: &[Dataset], _ctx: &RunContext<'_>) -> Result<Summaries> {
        Ok(Summaries {
            datasets: datasets
                .iter()
                .map(|d| summarise(d, &self.quantiles))
                .collect(),
            quantiles: self.quantiles.clone(),
        })
    }
}

/// The summaries of a run's datasets (`datasets` in `results.json`).
#[derive(Debug, Clone, PartialEq)]
pub struct Summaries {
    /// One per dataset, in config order.
    pub datasets: Vec<DatasetSummary>,
    /// The quantile probabilities they report.
    pub quantiles: Vec<f64>,
}

impl Outcome for Summaries {
    fn results_key(&self) -> Option<&'static str> {
        Some("datasets")
    }

    fn to_json(&self) -> Result<serde_json::Value> {
        super::json_of(&self.datasets)
    }

    fn markdown(&self) -> Vec<Section> {
        vec![
            Section {
                title: "Dataset summary".into(),
                body: markdown(&self.datasets, &self.quantiles),
            },
            Section {
                title: "Validation warnings".into(),
                body: warnings_markdown(&self.datasets),
            },
        ]
    }
}

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

fn qrow(label: &str, what: &str, qs: &[Quantile]) -> Vec<String> {
    let mut r = vec![label.to_string(), what.to_string()];
    r.extend(qs.iter().map(|q| num(q.value)));
    r
}

fn qheader(first: &[&str], qs: &[f64]) -> Vec<String> {
    let mut h: Vec<String> = first.iter().map(|s| s.to_string()).collect();
    h.extend(qs.iter().map(|&q| quantile_label(q)));
    h
}

fn shape_rows(t: &mut Table, label: &str, s: &BoxShape) {
    t.row(qrow(label, "width (px)", &s.width));
    t.row(qrow(label, "height (px)", &s.height));
    t.row(qrow(label, "aspect w/h", &s.aspect));
}

/// The dataset-summary section's markdown (under its `##` heading).
pub fn markdown(sums: &[DatasetSummary], qs: &[f64]) -> String {
    let mut out = String::new();
    out.push_str(
        "How to read this: one row per loaded dataset. Size buckets are COCO's \
         (small < 32², medium < 96², large ≥ 96² pixels of area); ground truth is bucketed by its \
         `area` field (the mask area in COCO), detections by w·h, as pycocotools does. \
         Quantiles interpolate linearly between order statistics (numpy's default).\n\n",
    );
    let mut t = Table::new(&[
        "dataset",
        "format",
        "images",
        "boxes",
        "categories (used)",
        "crowd",
        "difficult",
        "small",
        "medium",
        "large",
        "images w/o boxes",
        "detections",
        "warnings",
    ]);
    for s in sums {
        t.row(vec![
            s.label.clone(),
            s.format.clone(),
            s.images.to_string(),
            s.annotations.to_string(),
            format!("{} ({})", s.categories, s.categories_used),
            s.crowd.to_string(),
            s.difficult.to_string(),
            s.buckets.small.to_string(),
            s.buckets.medium.to_string(),
            s.buckets.large.to_string(),
            s.images_without_boxes.to_string(),
            s.detections
                .as_ref()
                .map_or("–".into(), |d| d.count.to_string()),
            s.warnings.iter().map(|(_, n)| n).sum::<usize>().to_string(),
        ]);
    }
    out.push_str(&t.render());

    out.push_str("\n### Ground-truth box shapes\n\n");
    let mut t = Table::new(&qheader(&["dataset", "statistic"], qs));
    for s in sums {
        shape_rows(&mut t, &s.label, &s.shape);
    }
    out.push_str(&t.render());

    let with_dets: Vec<&DatasetSummary> = sums.iter().filter(|s| s.detections.is_some()).collect();
    if !with_dets.is_empty() {
        out.push_str("\n### Detections\n\n");
        let mut t = Table::new(&[
            "dataset",
            "detections",
            "images with detections",
            "small",
            "medium",
            "large",
        ]);
        for s in &with_dets {
            let d = s.detections.as_ref().expect("filtered");
            t.row(vec![
                s.label.clone(),
                d.count.to_string(),
                format!("{} / {}", d.images_with_detections, s.images),
                d.buckets.small.to_string(),
                d.buckets.medium.to_string(),
                d.buckets.large.to_string(),
            ]);
        }
        out.push_str(&t.render());
        out.push('\n');
        let mut t = Table::new(&qheader(&["dataset", "statistic"], qs));
        for s in &with_dets {
            let d = s.detections.as_ref().expect("filtered");
            t.row(qrow(&s.label, "detections per image", &d.per_image));
            t.row(qrow(&s.label, "score", &d.score));
            shape_rows(&mut t, &s.label, &d.shape);
        }
        out.push_str(&t.render());
    }
    out
}

/// The validation-warnings section's markdown: warnings by kind per dataset.
fn warnings_markdown(sums: &[DatasetSummary]) -> String {
    let mut out = String::new();
    let any = sums.iter().any(|s| !s.warnings.is_empty());
    if !any {
        out.push_str("None: every dataset passed validation without warnings.\n");
        return out;
    }
    let mut t = Table::new(&["dataset", "warning", "count"]);
    for s in sums {
        for (kind, n) in &s.warnings {
            t.row(vec![s.label.clone(), kind.clone(), n.to_string()]);
        }
    }
    out.push_str(&t.render());
    out
}
