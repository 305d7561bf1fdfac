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

/// An AP-like number with four decimals; pycocotools' −1 ("no data") as –.
fn ap(x: f64) -> String {
    if x.is_nan() || x == -1.0 {
        "–".into()
    } else {
        format!("{x:.4}")
    }
}

fn opt(x: Option<f64>) -> String {
    x.map_or("–".into(), ap)
}

fn pct(x: f64) -> String {
    if x.is_nan() {
        "–".into()
    } else {
        format!("{:.1} %", 100.0 * x)
    }
}

/// The loss-table section, one subsection per dataset.
pub fn loss_tables(tables: &[crate::experiments::loss_table::LossTable]) -> String {
    if tables.is_empty() {
        return String::new();
    }
    let mut out = String::from("## Loss tables\n\n");
    out.push_str(
        "How to read this: the detections are evaluated with hotcoco's COCOeval (bbox; pycocotools-exact), then \
         paired with ground truth by the assignment rule named under each heading. Box losses are computed on \
         the pairs with the variant written in each spec (`variant=torchvision` is torchvision 0.29's convention) \
         and, for element-wise losses, the encoding (`raw` pixels or Faster R-CNN `deltas` relative to the \
         ground truth). *zero ∇* is the share of pairs whose gradient is exactly zero; *ρ* is Spearman's rank \
         correlation with 1 − IoU; *×0.5* and *×2* are the mean loss on pairs scaled by that factor over the \
         mean on the originals (1 for a scale-invariant loss, k for L1 on pixels, k² for L2). Classification \
         losses see the detection scores as logits ln(s/(1 − s)); matched detections are positives (target 1, \
         or their IoU for QFL and VFL), unmatched ones negatives; *hardest 20 %* is the share of the \
         negatives' loss carried by their hardest fifth (Lin et al. 2017, Fig. 4).\n\n",
    );
    for t in tables {
        let e = &t.evaluation;
        out.push_str(&format!(
            "### {} ({})\n\nAssignment `{}`; hotcoco {}. {} detections: {} pairs (mean IoU {}), {} negatives, {} ignored.\n\n",
            t.dataset, t.assignment, t.assignment, e.hotcoco_version, t.detections, t.pairs, num(t.mean_iou), t.negatives, t.ignored
        ));
        let mut s = Table::new(&e.stat_names);
        s.row(e.stats.iter().map(|&v| ap(v)).collect());
        out.push_str(&s.render());
        out.push('\n');
        let mut sz = Table::new(&["size", "AP", "AP50", "AP75"]);
        for z in &e.per_size {
            sz.row(vec![
                z.area.to_string(),
                opt(z.ap),
                opt(z.ap50),
                opt(z.ap75),
            ]);
        }
        out.push_str(&sz.render());
        out.push_str("\n**TIDE** (hotcoco; ΔAP50 each error type costs):\n\n");
        let mut td = Table::new(&["error", "ΔAP", "count"]);
        for err in &e.tide.errors {
            td.row(vec![
                err.name.to_string(),
                num(err.delta_ap),
                err.count.to_string(),
            ]);
        }
        out.push_str(&td.render());
        out.push_str("\n<details><summary>AP per category</summary>\n\n");
        let mut pc = Table::new(&["category", "id", "GT", "detections", "AP", "AP50", "AP75"]);
        for c in &e.per_category {
            pc.row(vec![
                c.name.clone(),
                c.category_id.to_string(),
                c.gt_count.to_string(),
                c.det_count.to_string(),
                opt(c.ap),
                opt(c.ap50),
                opt(c.ap75),
            ]);
        }
        out.push_str(&pc.render());
        out.push_str("\n</details>\n\n**Box losses** on the pairs:\n\n");
        let mut bt = Table::new(&[
            "loss",
            "mean",
            "median",
            "p90",
            "small",
            "medium",
            "large",
            "zero ∇",
            "ρ vs 1 − IoU",
            "×0.5",
            "×2",
        ]);
        for r in &t.box_losses {
            let mut row = vec![
                format!("`{}`", r.spec),
                num(r.mean),
                num(r.median),
                num(r.p90),
            ];
            row.extend(
                r.by_size
                    .iter()
                    .map(|g| if g.n == 0 { "–".into() } else { num(g.mean) }),
            );
            row.extend([
                pct(r.zero_gradient_share),
                num(r.spearman_vs_1_minus_iou),
                format!("{:.4}", r.scale_ratio_half),
                format!("{:.4}", r.scale_ratio_double),
            ]);
            bt.row(row);
        }
        out.push_str(&bt.render());
        if let Some(first) = t.box_losses.first().filter(|r| !r.by_category.is_empty()) {
            out.push_str(
                "\nMean box loss for the most frequent categories (pairs in brackets):\n\n",
            );
            let mut header = vec!["loss".to_string()];
            header.extend(
                first
                    .by_category
                    .iter()
                    .map(|g| format!("{} ({})", g.group, g.n)),
            );
            let mut ct = Table::new(&header);
            for r in &t.box_losses {
                let mut row = vec![format!("`{}`", r.spec)];
                row.extend(r.by_category.iter().map(|g| num(g.mean)));
                ct.row(row);
            }
            out.push_str(&ct.render());
        }
        out.push_str("\n**Classification losses** on the detection scores:\n\n");
        let mut cl = Table::new(&[
            "loss",
            "Σ positives",
            "Σ negatives",
            "negatives' share",
            "hardest 20 % of negatives",
        ]);
        for r in &t.cls_losses {
            cl.row(vec![
                format!("`{}`", r.spec),
                num(r.positive_total),
                num(r.negative_total),
                pct(r.negative_share),
                pct(r.hardest_20pct_negative_share),
            ]);
        }
        out.push_str(&cl.render());
        out.push_str(&format!(
            "\nScore against IoU over the positives: Pearson {}, Spearman {}.\n",
            num(t.score_iou_pearson),
            num(t.score_iou_spearman)
        ));
        let drawn: Vec<_> = t
            .disagreements
            .iter()
            .filter(|d| d.overlay.is_some())
            .collect();
        if !t.disagreements.is_empty() {
            out.push_str(&format!(
                "\n**Where two losses disagree most**: the pairs on which `{}` exceeds `{}` by the largest \
                 factor (ground truth blue, prediction orange).\n\n",
                t.disagreement_losses[1], t.disagreement_losses[0]
            ));
            let header = format!(
                "{} / {}",
                t.disagreement_losses[0], t.disagreement_losses[1]
            );
            let mut dt = Table::new(&["image", "category", "IoU", header.as_str(), "overlay"]);
            for d in &t.disagreements {
                dt.row(vec![
                    d.file_name.clone(),
                    d.category.clone(),
                    num(d.iou),
                    format!("{} / {}", num(d.losses[0]), num(d.losses[1])),
                    d.overlay
                        .as_ref()
                        .map_or("–".into(), |o| format!("![overlay]({o})")),
                ]);
            }
            out.push_str(&dt.render());
            if drawn.is_empty() && !t.has_images {
                out.push_str("\n(The dataset names no image folder, so no overlays are drawn.)\n");
            } else if drawn.len() < t.disagreements.len() && t.has_images {
                out.push_str(
                    "\n(Some images could not be read; the run printed a warning for each.)\n",
                );
            }
        }
        out.push('\n');
    }
    out
}
