//! The loss-table experiment on the real shared sets: the properties its
//! numbers must have, whatever the detector.

use std::path::PathBuf;

mod common;

use detloss::data::{self, DatasetFiles, DatasetSpec, LoadContext};
use detloss::experiments::loss_table::{LossTable, LossTableSection, compute};
use detloss::matching::{Assignment, assign};

fn load(name: &str) -> data::Dataset {
    common::load_shared(name, None)
}

fn section(assignment: &str) -> LossTableSection {
    toml::from_str(&format!("assignment = \"{assignment}\"")).unwrap()
}

fn table(name: &str, assignment: &str) -> LossTable {
    let plan = section(assignment)
        .plan(std::path::Path::new("test.toml"))
        .unwrap();
    compute(&load(name), &plan).unwrap()
}

fn row<'a>(t: &'a LossTable, prefix: &str) -> &'a detloss::experiments::loss_table::BoxLossRow {
    t.box_losses
        .iter()
        .find(|r| r.spec.starts_with(prefix))
        .unwrap_or_else(|| panic!("{prefix}"))
}

#[test]
fn scale_check_separates_invariant_losses_from_pixel_losses() {
    let t = table("voc2012-100", "coco@0.5");
    for p in [
        "iou(",
        "giou(",
        "diou(",
        "ciou(",
        "eiou(",
        "siou(",
        "l1(encoding=deltas",
        "mse(encoding=deltas",
    ] {
        let r = row(&t, p);
        assert!(
            (r.scale_ratio_half - 1.0).abs() < 1e-6 && (r.scale_ratio_double - 1.0).abs() < 1e-6,
            "{}: {r:?}",
            r.spec
        );
    }
    let l1 = row(&t, "l1(encoding=raw");
    assert!(
        (l1.scale_ratio_half - 0.5).abs() < 1e-12 && (l1.scale_ratio_double - 2.0).abs() < 1e-12
    );
    let mse = row(&t, "mse(encoding=raw");
    assert!(
        (mse.scale_ratio_half - 0.25).abs() < 1e-12 && (mse.scale_ratio_double - 4.0).abs() < 1e-12
    );
}

#[test]
fn coco_pairs_overlap_at_the_threshold_and_iou_loss_ranks_by_iou() {
    let t = table("coco-val2014-100", "coco@0.5");
    assert_eq!(t.pairs + t.negatives, 734);
    assert!(t.mean_iou >= 0.5);
    // The paper's IoU loss is 1 − IoU itself: perfect rank correlation. (With
    // torchvision's eps, identical boxes get 1e-7/U instead of a tie at 0.)
    let s: LossTableSection = toml::from_str("box_losses = [\"iou(variant=paper)\"]").unwrap();
    let paper = compute(
        &load("coco-val2014-100"),
        &s.plan(std::path::Path::new("t.toml")).unwrap(),
    )
    .unwrap();
    assert_eq!(paper.box_losses[0].spearman_vs_1_minus_iou, 1.0);
    assert!(row(&t, "iou(").spearman_vs_1_minus_iou < 1.0);
    assert_eq!(
        t.evaluation.stats[1], 0.6969727247299577,
        "AP50, pycocotools 2.0.11"
    );
    let strict = table("coco-val2014-100", "coco@0.75");
    assert!(strict.pairs < t.pairs);
}

#[test]
fn focal_concentrates_the_negatives_loss_on_the_hardest_as_gamma_grows() {
    // Lin et al. 2017, Fig. 4: with larger γ the hardest negatives carry more of the loss.
    for name in ["coco-val2014-100", "voc2012-100"] {
        let t = table(name, "coco@0.5");
        let shares: Vec<f64> = t
            .cls_losses
            .iter()
            .filter(|r| r.spec.starts_with("focal"))
            .map(|r| r.hardest_20pct_negative_share)
            .collect();
        assert_eq!(shares.len(), 5);
        assert!(
            shares.windows(2).all(|w| w[1] >= w[0]),
            "{name}: {shares:?}"
        );
        assert!(shares[4] > shares[0], "{name}: {shares:?}");
    }
}

#[test]
fn best_iou_pairs_non_overlapping_boxes_that_iou_loss_cannot_see() {
    let ds = load("voc2012-100");
    let a = assign(&ds, Assignment::BestIou, None).unwrap();
    let coco = assign(&ds, Assignment::Coco(0.5), None).unwrap();
    assert!(a.pairs.len() > coco.pairs.len());
    let disjoint = a.pairs.iter().filter(|p| p.iou == 0.0).count();
    assert!(disjoint > 0, "no non-overlapping pair");
    for p in &a.pairs {
        assert_eq!(ds.gt.category_id[p.gt], p.category_id);
        assert_eq!(ds.gt.image_id[p.gt], p.image_id);
    }
    let t = table("voc2012-100", "best_iou");
    let share = |p: &str| row(&t, p).zero_gradient_share;
    assert!(
        share("iou(") >= disjoint as f64 / t.pairs as f64 - 1e-12,
        "IoU loss has no gradient without overlap"
    );
    assert_eq!(share("giou("), 0.0);
    assert_eq!(share("diou("), 0.0);
}

#[test]
fn a_config_with_your_own_files_gives_the_same_table() {
    let root = common::shared_data().join("coco-val2014-100");
    let spec = DatasetSpec {
        label: Some("mine".into()),
        files: DatasetFiles {
            gt: Some(root.join("instances_val2014_100.json")),
            dets: Some(root.join("instances_val2014_fakebbox100_results.json")),
            ..Default::default()
        },
        ..Default::default()
    };
    let ctx = LoadContext {
        data_root: None,
        base_dir: PathBuf::from("."),
        strict: false,
    };
    let mine = data::load(&spec, &ctx).unwrap();
    let plan = section("coco@0.5")
        .plan(std::path::Path::new("t.toml"))
        .unwrap();
    let a = compute(&mine, &plan).unwrap();
    let b = table("coco-val2014-100", "coco@0.5");
    assert_eq!(a.evaluation.stats, b.evaluation.stats);
    assert_eq!(
        serde_json::to_string(&a.box_losses).unwrap(),
        serde_json::to_string(&b.box_losses).unwrap()
    );
    assert_eq!(
        serde_json::to_string(&a.cls_losses).unwrap(),
        serde_json::to_string(&b.cls_losses).unwrap()
    );
}

#[test]
fn bad_specs_in_the_section_name_the_key() {
    let s: LossTableSection = toml::from_str("box_losses = [\"gioux\"]").unwrap();
    let e = s
        .plan(std::path::Path::new("c.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("c.toml: [loss_table] box_losses") && e.contains("valid losses"),
        "{e}"
    );
    let s: LossTableSection = toml::from_str("cls_losses = [\"ce\"]").unwrap();
    assert!(
        s.plan(std::path::Path::new("c.toml"))
            .unwrap_err()
            .to_string()
            .contains("row loss")
    );
    let s: LossTableSection = toml::from_str("assignment = \"hungarian\"").unwrap();
    assert!(
        s.plan(std::path::Path::new("c.toml"))
            .unwrap_err()
            .to_string()
            .contains("c.toml: [loss_table] assignment")
    );
}
