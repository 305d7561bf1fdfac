//! The real-box regression on the shared sets, reduced (few steps, few
//! anchor sets): the start is scored exactly as hotcoco scores the same
//! boxes, and the losses that see boxes without overlap move them.

use std::path::Path;

use detloss::data::{self, DatasetSpec};
use detloss::experiments::regression::{
    DatasetRegression, RegressionPlan, RegressionSection, starts,
};
use detloss::experiments::{ConfigContext, Experiment, Outcome, RunContext};

mod common;

fn load(name: &str, dets: Option<&Path>) -> data::Dataset {
    common::load_shared(name, dets)
}

fn run(ds: &data::Dataset, section: &str) -> DatasetRegression {
    let entries: Vec<RegressionSection> = vec![toml::from_str(section).unwrap()];
    let specs = [DatasetSpec {
        name: Some(ds.name.clone()),
        ..Default::default()
    }];
    let cfg = ConfigContext {
        path: Path::new("test.toml"),
        datasets: &specs,
    };
    let plan = RegressionPlan::plan(Some(entries), &cfg).unwrap().unwrap();
    let ctx = RunContext {
        config: Path::new("test.toml"),
        threads: 1,
        quiet: true,
    };
    let out = plan.compute(std::slice::from_ref(ds), &ctx).unwrap();
    assert!(out.results_key().is_some());
    out.0.into_iter().next().unwrap()
}

#[test]
fn detections_at_step_zero_score_as_hotcoco_scores_them() {
    let ds = load("coco-val2014-100", None);
    let r = run(
        &ds,
        // η = 0.01: these detections sit within a few percent of their
        // ground truth, where steps of 0.1 box sizes overshoot.
        "start = \"detections\"\nlosses = [\"iou\", \"ciou\"]\nsteps = 5\nlr = [0.01]\nlr_until = []\ncheckpoints = [0, 5]",
    );
    let hotcoco = detloss::evaluate::evaluate(&ds, None).unwrap().evaluation;
    for l in &r.losses {
        let c0 = &l.checkpoints[0];
        assert_eq!(c0.step, 0);
        assert_eq!(c0.ap.mean, hotcoco.stats[0], "{}", l.spec);
        assert_eq!(c0.ap50.mean, hotcoco.stats[1]);
        assert_eq!(c0.ap75.mean, hotcoco.stats[2]);
        // GIoU never exceeds IoU, so neither does AP under it.
        assert!(c0.giou_ap.mean <= c0.ap.mean);
        // Regressing towards the ground truth raises the mean IoU.
        assert!(l.checkpoints[1].mean_iou > c0.mean_iou, "{}", l.spec);
        assert!(l.checkpoints[1].error_sum < c0.error_sum, "{}", l.spec);
    }
}

#[test]
fn anchors_at_step_zero_score_as_hotcoco_scores_them_as_a_results_file() {
    let ds = load("voc2012-100", None);
    // Centres up to 3 box sizes away: most anchors miss their box.
    let section = "start = \"anchors\"\nradius = 3.0\nlosses = [\"iou\", \"giou\"]\nscales = [0.5, 2.0]\nratios = [1.0, 3.0]\nsteps = 20\nlr = [0.1]\nlr_until = []\ncheckpoints = [0, 20]";
    let r = run(&ds, section);
    assert_eq!(r.sets, 4);
    // Write the first set's starting anchors as a COCO results file and let
    // hotcoco (through detloss's loader and evaluation) score it.
    let start = starts::anchors(&ds, 3.0, 5489, &[0.5, 2.0], &[1.0, 3.0]);
    let results: Vec<serde_json::Value> = start.sets[0]
        .clone()
        .map(|i| {
            let b = start.boxes[i];
            serde_json::json!({
                "image_id": start.dets[i].image_id,
                "category_id": start.dets[i].category_id,
                "bbox": [b[0] - b[2] / 2.0, b[1] - b[3] / 2.0, b[2], b[3]],
                "score": 1.0,
            })
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("anchors.json");
    std::fs::write(&file, serde_json::to_vec(&results).unwrap()).unwrap();
    let with_dets = load("voc2012-100", Some(&file));
    let hotcoco = detloss::evaluate::evaluate(&with_dets, None)
        .unwrap()
        .evaluation;
    // The anchors of one set: evaluate the first set alone with the same
    // section restricted to its scale and ratio.
    let one = run(
        &ds,
        "start = \"anchors\"\nradius = 3.0\nlosses = [\"iou\"]\nscales = [0.5]\nratios = [1.0]\nsteps = 1\nlr = [0.1]\nlr_until = []\ncheckpoints = [0]",
    );
    assert_eq!(one.losses[0].checkpoints[0].ap.mean, hotcoco.stats[0]);
    assert_eq!(one.losses[0].checkpoints[0].ap75.mean, hotcoco.stats[2]);
    // IoU loss cannot move anchors that miss their box; GIoU can, so after
    // 20 steps GIoU is well ahead.
    let (iou, giou) = (&r.losses[0], &r.losses[1]);
    assert!(giou.checkpoints[1].ap75.mean > 2.0 * iou.checkpoints[1].ap75.mean);
    assert!(giou.checkpoints[1].mean_iou > 2.0 * iou.checkpoints[1].mean_iou);
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let ds = load("voc2012-100", None);
    // 9 sets × 273 boxes: more than one chunk of the descent.
    let section = "start = \"anchors\"\nlosses = [\"diou\"]\nscales = [0.5, 1.0, 2.0]\nratios = [0.5, 1.0, 2.0]\nsteps = 10\nlr = [0.1]\nlr_until = []\ncheckpoints = [10]";
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let a = one.install(|| run(&ds, section));
    let b = run(&ds, section);
    assert!(a.boxes > detloss::experiments::descent::CHUNK);
    assert_eq!(a.losses[0].checkpoints, b.losses[0].checkpoints);
}
