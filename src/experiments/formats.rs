//! Format agreement: do two loadings of one dataset (say its VOC XML and its
//! YOLO labels) give the same boxes?
//!
//! Images are matched by file stem, categories by name. Within each image ×
//! category, boxes are paired greedily by the smallest largest-coordinate
//! difference `d = max(|Δx1|, |Δy1|, |Δx2|, |Δy2|)` (ties by position), so
//! a uniform shift between conventions shows up as a signed mean offset
//! rather than as unmatched boxes.
//!
//! ```toml
//! [[compare_formats]]
//! datasets = ["voc2012-100 (coco)", "voc2012-100 (voc)"]   # labels; each compared with the first
//! tolerance_px = 0.5                                        # the default
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{ConfigContext, Experiment, Outcome, RunContext, Section};
use crate::data::Dataset;
use crate::error::Result;
use crate::report::markdown::{Table, num};

/// One `[[compare_formats]]` entry: check that several loadings of one
/// dataset agree.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CompareFormats {
    /// Dataset labels; every one is compared with the first.
    pub datasets: Vec<String>,
    /// Largest coordinate difference, in pixels, that still counts as equal.
    #[serde(default = "default_tolerance")]
    pub tolerance_px: f64,
}

fn default_tolerance() -> f64 {
    0.5
}

/// The planned comparisons: every `[[compare_formats]]` entry, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct FormatsPlan {
    /// The entries, in config order.
    pub checks: Vec<CompareFormats>,
}

impl Experiment for FormatsPlan {
    const KEY: &'static str = "compare_formats";
    type Section = Vec<CompareFormats>;
    type Output = FormatChecks;

    fn plan(section: Option<Vec<CompareFormats>>, cfg: &ConfigContext<'_>) -> Result<Option<Self>> {
        let checks = section.unwrap_or_default();
        if checks.is_empty() {
            return Ok(None);
        }
        let mut problems = Vec::new();
        for (i, cf) in checks.iter().enumerate() {
            let record = format!("compare_formats[{i}]");
            if cf.datasets.len() < 2 {
                problems.push(cfg.problem(
                    &record,
                    "needs at least two datasets".into(),
                    "list the labels of two or more [[datasets]] entries",
                ));
            }
            problems.extend(cfg.unknown_labels(&record, &cf.datasets));
            if !(cf.tolerance_px.is_finite() && cf.tolerance_px >= 0.0) {
                problems.push(cfg.problem(
                    format!("{record} tolerance_px"),
                    format!(
                        "tolerance_px {} is not a non-negative number",
                        cf.tolerance_px
                    ),
                    "use a pixel distance such as 0.5",
                ));
            }
        }
        super::problems_to_result(problems)?;
        Ok(Some(FormatsPlan { checks }))
    }

    fn compute(&self, datasets: &[Dataset], _ctx: &RunContext<'_>) -> Result<FormatChecks> {
        let by_label = |l: &str| datasets.iter().find(|d| d.label == l);
        let mut out = Vec::new();
        for cf in &self.checks {
            // Labels were checked when the config was planned.
            let Some(reference) = by_label(&cf.datasets[0]) else {
                continue;
            };
            for other in cf.datasets[1..].iter().filter_map(|l| by_label(l)) {
                out.push(compare(reference, other, cf.tolerance_px));
            }
        }
        Ok(FormatChecks(out))
    }
}

/// Every comparison of a run (`format_checks` in `results.json`).
#[derive(Debug, Clone, PartialEq)]
pub struct FormatChecks(pub Vec<FormatAgreement>);

impl Outcome for FormatChecks {
    fn results_key(&self) -> Option<&'static str> {
        Some("format_checks")
    }

    fn to_json(&self) -> Result<serde_json::Value> {
        super::json_of(&self.0)
    }

    fn markdown(&self) -> Vec<Section> {
        vec![Section {
            title: "Format agreement".into(),
            body: markdown(&self.0),
        }]
    }
}

/// The comparison of one dataset against the reference.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FormatAgreement {
    /// Reference dataset label.
    pub reference: String,
    /// Compared dataset label.
    pub other: String,
    /// Images in each and in both.
    pub images: [usize; 3],
    /// Boxes in each.
    pub boxes: [usize; 2],
    /// Box pairs found.
    pub matched: usize,
    /// Pairs whose coordinates agree within the tolerance.
    pub within_tolerance: usize,
    /// The tolerance, pixels.
    pub tolerance_px: f64,
    /// Reference boxes without a partner.
    pub unmatched_reference: usize,
    /// Other boxes without a partner.
    pub unmatched_other: usize,
    /// Mean signed difference other − reference of x1, y1, x2, y2 over pairs.
    pub mean_delta: [f64; 4],
    /// Largest absolute difference of x1, y1, x2, y2 over pairs.
    pub max_abs_delta: [f64; 4],
    /// Pairs whose `difficult` flags differ.
    pub difficult_mismatch: usize,
    /// Categories (by name) present in only one of the two.
    pub categories_only_in_one: Vec<String>,
    /// `agree`, `shifted` (every box paired, a uniform offset) or `differ`.
    pub verdict: String,
}

fn stem(file_name: &str) -> String {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    match base.rfind('.') {
        Some(i) if i > 0 => base[..i].to_string(),
        _ => base.to_string(),
    }
}

type Cells = BTreeMap<(String, String), Vec<([f64; 4], bool)>>;

/// Boxes keyed by (image stem, category name).
fn cells(ds: &Dataset) -> (Cells, BTreeSet<String>, BTreeSet<String>) {
    let mut out: Cells = BTreeMap::new();
    for g in &ds.gt.groups {
        let img = ds
            .image(g.image_id)
            .map(|im| stem(&im.file_name))
            .unwrap_or_default();
        let cat = ds.category_name(g.category_id);
        let v = out.entry((img, cat)).or_default();
        for i in g.rows.clone() {
            v.push((ds.gt.xyxy(i), ds.gt.difficult[i]));
        }
    }
    let images = ds.images.iter().map(|im| stem(&im.file_name)).collect();
    let cats = ds.categories.iter().map(|c| c.name.clone()).collect();
    (out, images, cats)
}

/// Compares `other` against `reference`.
pub fn compare(reference: &Dataset, other: &Dataset, tolerance_px: f64) -> FormatAgreement {
    let (a, ia, ca) = cells(reference);
    let (b, ib, cb) = cells(other);
    let mut matched = 0;
    let mut within = 0;
    let mut difficult_mismatch = 0;
    let mut sum = [0.0; 4];
    let mut max_abs = [0.0f64; 4];
    let mut deltas: Vec<[f64; 4]> = Vec::new();
    for (key, ra) in &a {
        let Some(rb) = b.get(key) else { continue };
        let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
        for (i, (ba, _)) in ra.iter().enumerate() {
            for (j, (bb, _)) in rb.iter().enumerate() {
                let d = (0..4).map(|k| (bb[k] - ba[k]).abs()).fold(0.0, f64::max);
                pairs.push((d, i, j));
            }
        }
        pairs.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
        let (mut used_a, mut used_b) = (vec![false; ra.len()], vec![false; rb.len()]);
        for (d, i, j) in pairs {
            if used_a[i] || used_b[j] {
                continue;
            }
            used_a[i] = true;
            used_b[j] = true;
            matched += 1;
            if d <= tolerance_px {
                within += 1;
            }
            if ra[i].1 != rb[j].1 {
                difficult_mismatch += 1;
            }
            let delta: [f64; 4] = std::array::from_fn(|k| rb[j].0[k] - ra[i].0[k]);
            for k in 0..4 {
                sum[k] += delta[k];
                max_abs[k] = max_abs[k].max(delta[k].abs());
            }
            deltas.push(delta);
        }
    }
    let boxes = [reference.gt.len(), other.gt.len()];
    let mean_delta = sum.map(|s| if matched > 0 { s / matched as f64 } else { 0.0 });
    let all_paired = matched == boxes[0] && matched == boxes[1];
    let uniform = deltas
        .iter()
        .all(|d| (0..4).all(|k| (d[k] - mean_delta[k]).abs() <= tolerance_px));
    let verdict = if all_paired && within == matched {
        "agree"
    } else if all_paired && uniform {
        "shifted"
    } else {
        "differ"
    };
    FormatAgreement {
        reference: reference.label.clone(),
        other: other.label.clone(),
        images: [ia.len(), ib.len(), ia.intersection(&ib).count()],
        boxes,
        matched,
        within_tolerance: within,
        tolerance_px,
        unmatched_reference: boxes[0] - matched,
        unmatched_other: boxes[1] - matched,
        mean_delta,
        max_abs_delta: max_abs,
        difficult_mismatch,
        categories_only_in_one: ca.symmetric_difference(&cb).cloned().collect(),
        verdict: verdict.into(),
    }
}

/// The format-agreement section's markdown (under its `##` heading).
pub fn markdown(checks: &[FormatAgreement]) -> String {
    let mut out = String::new();
    out.push_str(
        "How to read this: each row compares one loading of a dataset with the first one named in \
         `[[compare_formats]]`. Images are matched by file stem, categories by name, boxes paired by the \
         smallest largest-coordinate difference. Δ is other − reference in pixels, for x1, y1, x2, y2. \
         *agree*: every box paired within the tolerance; *shifted*: every box paired, offset by a \
         uniform Δ (a pixel-convention difference); *differ*: anything else.\n\n",
    );
    let mut t = Table::new(&[
        "reference",
        "other",
        "images (ref / other / both)",
        "boxes (ref / other)",
        "paired",
        "within tolerance",
        "mean Δ (x1, y1, x2, y2)",
        "max |Δ|",
        "difficult flags differ",
        "verdict",
    ]);
    let quad = |d: &[f64; 4]| d.iter().map(|&x| num(x)).collect::<Vec<_>>().join(", ");
    for c in checks {
        t.row(vec![
            c.reference.clone(),
            c.other.clone(),
            format!("{} / {} / {}", c.images[0], c.images[1], c.images[2]),
            format!("{} / {}", c.boxes[0], c.boxes[1]),
            c.matched.to_string(),
            format!("{} (≤ {} px)", c.within_tolerance, num(c.tolerance_px)),
            quad(&c.mean_delta),
            quad(&c.max_abs_delta),
            c.difficult_mismatch.to_string(),
            format!("**{}**", c.verdict),
        ]);
    }
    out.push_str(&t.render());
    for c in checks {
        if !c.categories_only_in_one.is_empty() {
            out.push_str(&format!(
                "\n{} vs {}: categories in only one of them: {}\n",
                c.reference,
                c.other,
                c.categories_only_in_one.join(", ")
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::stem;

    #[test]
    fn stems_ignore_folders_and_extensions() {
        assert_eq!(stem("JPEGImages/2007_000027.jpg"), "2007_000027");
        assert_eq!(stem("2007_000027"), "2007_000027");
    }
}
