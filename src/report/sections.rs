//! Markdown sections, one per experiment.

use super::markdown::{Table, num, quantile_label};
use crate::experiments::formats::FormatAgreement;
use crate::experiments::summary::{BoxShape, DatasetSummary};
use crate::stats::Quantile;

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

/// The dataset summary section.
pub fn summary(sums: &[DatasetSummary], qs: &[f64]) -> String {
    let mut out = String::from("## Dataset summary\n\n");
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

/// The format-agreement section.
pub fn formats(checks: &[FormatAgreement]) -> String {
    if checks.is_empty() {
        return String::new();
    }
    let mut out = String::from("## Format agreement\n\n");
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

/// The validation-warnings section.
pub fn warnings(sums: &[DatasetSummary]) -> String {
    let mut out = String::from("## Validation warnings\n\n");
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

/// The loss-curve figures section (the PNGs under `figures/`; SVGs beside them).
pub fn loss_curves() -> String {
    let captions = [
        (
            "focal_vs_ce",
            "Focal loss against cross-entropy over p_t for γ ∈ {0, 0.5, 1, 2, 5} (α off; γ = 0 is CE), as in Lin et al. (2017), Fig. 1: the modulating factor (1 − p_t)^γ shrinks the loss of well-classified examples.",
        ),
        (
            "qfl",
            "Quality focal loss (β = 2) over the predicted score σ for IoU targets y ∈ {0, 0.25, 0.5, 0.75, 1}: each curve is 0 where σ = y.",
        ),
        (
            "margin_losses",
            "Hinge, exponential and logistic loss over the margin y·f(x), with the 0-1 loss they bound.",
        ),
        (
            "regression_losses",
            "L1, L2, Smooth-L1 (β = 1) and Huber (δ = 1) over the residual; Smooth-L1 and Huber coincide at β = δ = 1.",
        ),
        (
            "box_losses_sliding",
            "IoU, GIoU, DIoU and CIoU loss (torchvision conventions) for a 16 × 6 box sliding horizontally past a 10 × 10 target: IoU loss is flat at 1 once the boxes stop overlapping (shaded).",
        ),
        (
            "box_gradients_sliding",
            "The gradient magnitude ‖∂loss/∂box‖ of each along the same path: IoU loss gives no gradient without overlap; GIoU, DIoU and CIoU keep pulling the box back.",
        ),
    ];
    let mut out = String::from(
        "## Loss curves\n\nHow to read this: each figure is computed with detloss's own loss \
         implementations (the same code the tables use); SVG versions sit beside the PNGs in `figures/`.\n\n",
    );
    for (name, caption) in captions {
        out.push_str(&format!("![{name}](figures/{name}.png)\n\n*{caption}*\n\n"));
    }
    out
}
