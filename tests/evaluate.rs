//! `detloss::evaluate` on the real shared datasets: hotcoco's numbers against
//! the pycocotools references, and COCO matches against hotcoco's own records.

use std::collections::{HashMap, HashSet};
use std::path::Path;

mod common;

use detloss::data::{self, Dataset, DatasetFiles, DatasetSpec, Format, LoadContext};
use detloss::error::Error;
use detloss::evaluate::{self, STAT_NAMES, TIDE_ERROR_NAMES, coco_matches};
use hotcoco::COCOeval;
use hotcoco::params::IouType;

fn load(name: &str) -> Dataset {
    common::load_shared(name, None)
}

// pycocotools 2.0.11 bbox summaries (AP, AP50, AP75, APs, APm, APl, AR1, AR10,
// AR100, ARs, ARm, ARl), the reference numbers of datasets/README.md (and
// `pycocotools_bbox` in datasets/manifest.toml).
const COCO_VAL2014_100: [f64; 12] = [
    0.5045806987249628,
    0.6969727247299577,
    0.5729816669904824,
    0.5856257209410443,
    0.5193996948036719,
    0.5013978986347466,
    0.38681277964578054,
    0.5936795762842003,
    0.595352982877607,
    0.6398109626113442,
    0.5664205978994309,
    0.5642905982905982,
];
const VOC2012_100: [f64; 12] = [
    0.3469581862666092,
    0.6100296805315172,
    0.3537144792046059,
    0.07518118519140897,
    0.33948209410671315,
    0.49788092607356965,
    0.3735049117549118,
    0.5206472000222001,
    0.522570276945277,
    0.15833333333333333,
    0.44666210982000454,
    0.5809226190476191,
];

fn check_stats(name: &str, reference: [f64; 12]) -> evaluate::Evaluation {
    let ds = load(name);
    let ev = evaluate::evaluate(&ds, None).unwrap().evaluation;
    for i in 0..12 {
        assert_eq!(ev.stats[i], reference[i], "{name} {}", STAT_NAMES[i]);
    }
    assert_eq!(ev.stat_names, STAT_NAMES);
    assert_eq!(ev.stat("AP75"), Some(reference[2]));
    assert_eq!(ev.hotcoco_version, "1.3.1");
    // per-size AP is computed from the precision array the way summarize
    // does, so it is the same number to the bit.
    let areas: Vec<&str> = ev.per_size.iter().map(|s| s.area).collect();
    assert_eq!(areas, ["small", "medium", "large"]);
    for (s, &stat) in ev.per_size.iter().zip(&ev.stats[3..6]) {
        assert_eq!(s.ap, Some(stat), "{name} {}", s.area);
        assert!(s.ap50.unwrap() >= s.ap75.unwrap(), "{name} {}", s.area);
    }
    // AP over all categories is the mean of per-category AP (every category
    // with GT has all T×R precision cells); equal up to summation order.
    let cat_aps: Vec<f64> = ev.per_category.iter().filter_map(|c| c.ap).collect();
    let mean = cat_aps.iter().sum::<f64>() / cat_aps.len() as f64;
    assert!((mean - ev.stats[0]).abs() < 1e-12, "{name}: {mean}");
    let ap50s: Vec<f64> = ev.per_category.iter().filter_map(|c| c.ap50).collect();
    let mean50 = ap50s.iter().sum::<f64>() / ap50s.len() as f64;
    assert!((mean50 - ev.stats[1]).abs() < 1e-12, "{name}: {mean50}");
    // Counts agree with the dataset.
    let gt: usize = ev.per_category.iter().map(|c| c.gt_count).sum();
    let dt: usize = ev.per_category.iter().map(|c| c.det_count).sum();
    assert_eq!(gt, ds.gt.len());
    assert_eq!(dt, ds.dets.as_ref().unwrap().len());
    // A category has AP exactly when it has non-crowd ground truth.
    for c in &ev.per_category {
        assert_eq!(
            c.ap.is_some(),
            c.gt_count > c.crowd_count,
            "{name} {}",
            c.name
        );
        assert_eq!(c.ap50.is_some(), c.ap.is_some());
    }
    // TIDE: the six error types, in order.
    let names: Vec<&str> = ev.tide.errors.iter().map(|e| e.name).collect();
    assert_eq!(names, TIDE_ERROR_NAMES);
    assert_eq!((ev.tide.pos_thr, ev.tide.bg_thr), (0.5, 0.1));
    for e in &ev.tide.errors {
        assert!(e.delta_ap.is_finite() && e.delta_ap >= 0.0, "{name} {e:?}");
    }
    assert!(
        (ev.tide.ap_base - ev.stats[1]).abs() < 1e-9,
        "{:?}",
        ev.tide
    );
    // Serializes without NaN.
    let json = serde_json::to_string(&ev).unwrap();
    assert!(!json.contains("NaN"));
    ev
}

#[test]
fn coco_val2014_100_matches_pycocotools_bit_for_bit() {
    let ev = check_stats("coco-val2014-100", COCO_VAL2014_100);
    assert_eq!(ev.per_category.len(), 80);
    assert_eq!(
        ev.per_category.iter().filter(|c| c.ap.is_some()).count(),
        70
    );
    let crowd: usize = ev.per_category.iter().map(|c| c.crowd_count).sum();
    assert_eq!(crowd, 9);
    let json = serde_json::to_value(&ev).unwrap();
    let unused = json["per_category"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["gt_count"] == 0)
        .unwrap();
    assert!(unused["ap"].is_null());
}

#[test]
fn voc2012_100_matches_pycocotools_bit_for_bit() {
    let ev = check_stats("voc2012-100", VOC2012_100);
    assert_eq!(ev.per_category.len(), 20);
}

#[test]
fn a_dataset_without_detections_is_an_input_error() {
    let gt = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/good/tiny_gt.json");
    let spec = DatasetSpec {
        format: Some(Format::Coco),
        files: DatasetFiles {
            gt: Some(gt),
            ..Default::default()
        },
        ..Default::default()
    };
    let ds = data::load(&spec, &LoadContext::default()).unwrap();
    assert!(matches!(
        evaluate::evaluate(&ds, None),
        Err(Error::Input(_))
    ));
    assert!(matches!(
        evaluate::evaluate(&ds, Some(0.5)),
        Err(Error::Input(_))
    ));
    assert!(matches!(coco_matches(&ds, 0.5), Err(Error::Input(_))));
}

fn iou(a: [f64; 4], b: [f64; 4]) -> f64 {
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = w * h;
    inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)
}

/// Checks the pairs and returns how many detections are matched.
fn check_pairs(ds: &Dataset, m: &[Option<usize>], thr: f64) -> usize {
    let dets = ds.dets.as_ref().unwrap();
    assert_eq!(m.len(), dets.len());
    let mut seen = HashSet::new();
    for (i, j) in m.iter().enumerate() {
        let Some(j) = *j else { continue };
        assert_eq!(dets.image_id[i], ds.gt.image_id[j]);
        assert_eq!(dets.category_id[i], ds.gt.category_id[j]);
        assert!(!ds.gt.iscrowd[j], "crowd matches are None");
        // Boxes are xyxy from COCO's xywh, so allow for the last bit.
        let v = iou(dets.xyxy(i), ds.gt.xyxy(j));
        assert!(v >= thr - 1e-12, "det {i} gt {j}: IoU {v} < {thr}");
        assert!(seen.insert(j), "gt row {j} matched twice");
    }
    seen.len()
}

/// hotcoco's own matches at a default threshold row, with default parameters
/// (all four area ranges): detection id → GT id of true positives.
fn hotcoco_true_positives(ds: &Dataset, row: usize) -> (HashMap<u64, u64>, COCOeval) {
    let mut ev = COCOeval::new(
        ds.coco_gt.clone(),
        ds.coco_dt.clone().unwrap(),
        IouType::Bbox,
    );
    ev.evaluate().unwrap();
    ev.accumulate();
    let all = ev.params.all_area_range();
    let mut tp = HashMap::new();
    for e in ev.eval_imgs().iter().flatten() {
        if e.area_rng != all || e.max_det != 100 {
            continue;
        }
        for (d, &dt_id) in e.dt_ids.iter().enumerate() {
            if e.dt_matched[(row, d)] && !e.dt_ignore[(row, d)] {
                tp.insert(dt_id, e.dt_matches[(row, d)]);
            }
        }
    }
    (tp, ev)
}

/// The true positives hotcoco's recall implies: recall × non-ignored GT, per
/// category, at IoU row `row`, area all, maxDets 100.
fn tp_from_recall(ds: &Dataset, ev: &COCOeval, row: usize) -> usize {
    let acc = ev.accumulated().unwrap();
    let (a, m) = (ev.params.all_area_idx(), ev.params.max_det_idx());
    acc.cat_ids
        .iter()
        .enumerate()
        .map(|(k, &cat)| {
            let npig = (0..ds.gt.len())
                .filter(|&j| ds.gt.category_id[j] == cat && !ds.gt.iscrowd[j])
                .count();
            let r = acc.recall[acc.recall_idx(row, k, a, m)];
            if npig == 0 {
                0
            } else {
                (r * npig as f64).round() as usize
            }
        })
        .sum()
}

fn check_matches(name: &str) {
    let ds = load(name);
    let dets = ds.dets.as_ref().unwrap();
    let m50 = coco_matches(&ds, 0.5).unwrap();
    let n50 = check_pairs(&ds, &m50, 0.5);
    assert!(n50 > 0);

    // Same pairs as hotcoco's own records under default parameters …
    let (tp, ev) = hotcoco_true_positives(&ds, 0);
    assert_eq!(tp.len(), n50, "{name}");
    for (i, j) in m50.iter().enumerate() {
        if let Some(j) = j {
            assert_eq!(tp.get(&dets.id[i]), Some(&ds.gt.id[*j]), "{name} det {i}");
        }
    }
    // … and as many as its accumulated recall implies.
    assert_eq!(tp_from_recall(&ds, &ev, 0), n50, "{name}");

    // 0.75 is row 5 of the default grid.
    let m75 = coco_matches(&ds, 0.75).unwrap();
    let n75 = check_pairs(&ds, &m75, 0.75);
    assert!(n75 < n50, "{name}: {n75} vs {n50}");
    assert_eq!(tp_from_recall(&ds, &ev, 5), n75, "{name}");

    // 0.9 is numpy's 0.8999999999999999 (row 8); both spellings agree.
    let m90 = coco_matches(&ds, 0.9).unwrap();
    assert_eq!(m90, coco_matches(&ds, 0.8999999999999999).unwrap());
    let n90 = check_pairs(&ds, &m90, 0.8999999999999999);
    assert_eq!(tp_from_recall(&ds, &ev, 8), n90, "{name}");
    assert!(n90 <= n75);

    // A threshold off the grid runs its own evaluation.
    let m30 = coco_matches(&ds, 0.3).unwrap();
    let n30 = check_pairs(&ds, &m30, 0.3);
    assert!(n30 >= n50, "{name}: {n30} vs {n50}");

    for bad in [1.5, 0.0, -0.5, f64::NAN] {
        match coco_matches(&ds, bad) {
            Err(Error::Input(p)) => assert!(p[0].problem.contains("IoU threshold"), "{p:?}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
    assert!(coco_matches(&ds, 1.0).is_ok());
}

#[test]
fn coco_matches_on_coco_val2014_100() {
    check_matches("coco-val2014-100");
}

#[test]
fn coco_matches_on_voc2012_100() {
    check_matches("voc2012-100");
}

#[test]
fn crowd_matches_are_none() {
    // coco-val2014-100 has 9 crowd boxes. hotcoco matches a detection to a
    // crowd box only when no non-crowd GT qualifies, which here happens at
    // the higher thresholds; those detections must come back as None.
    let ds = load("coco-val2014-100");
    let dets = ds.dets.as_ref().unwrap();
    let mut ev = COCOeval::new(
        ds.coco_gt.clone(),
        ds.coco_dt.clone().unwrap(),
        IouType::Bbox,
    );
    ev.evaluate().unwrap();
    let crowd_ids: HashSet<u64> = (0..ds.gt.len())
        .filter(|&j| ds.gt.iscrowd[j])
        .map(|j| ds.gt.id[j])
        .collect();
    let all = ev.params.all_area_range();
    let mut checked = 0;
    for (row, &thr) in ev.params.iou_thrs.iter().enumerate() {
        let mut to_crowd = HashSet::new();
        for e in ev.eval_imgs().iter().flatten() {
            if e.area_rng != all {
                continue;
            }
            for (d, &dt_id) in e.dt_ids.iter().enumerate() {
                if e.dt_matched[(row, d)] && crowd_ids.contains(&e.dt_matches[(row, d)]) {
                    to_crowd.insert(dt_id);
                }
            }
        }
        if to_crowd.is_empty() {
            continue;
        }
        let m = coco_matches(&ds, thr).unwrap();
        check_pairs(&ds, &m, thr);
        for (i, j) in m.iter().enumerate() {
            if to_crowd.contains(&dets.id[i]) {
                assert_eq!(*j, None, "IoU {thr}: det {i}");
                checked += 1;
            }
        }
    }
    assert!(
        checked > 0,
        "no detection matched a crowd box at any threshold"
    );
}

#[test]
fn one_evaluation_gives_the_numbers_and_the_matches() {
    use detloss::evaluate::coco_match_states;
    use detloss::matching::{Assignment, assign};
    for name in ["coco-val2014-100", "voc2012-100"] {
        let ds = load(name);
        let plain = evaluate::evaluate(&ds, None).unwrap();
        assert!(plain.matches.is_none());
        // On the grid (read off the same evaluation) and off it (own pass):
        // the same numbers, and the same matches as a matching-only run.
        for t in [0.5, 0.75, 0.9, 0.3, 1.0] {
            let both = evaluate::evaluate(&ds, Some(t)).unwrap();
            assert_eq!(both.evaluation.stats, plain.evaluation.stats, "{name} {t}");
            assert_eq!(
                both.evaluation.per_category, plain.evaluation.per_category,
                "{name} {t}"
            );
            assert_eq!(both.evaluation.per_size, plain.evaluation.per_size);
            let m = both.matches.unwrap();
            assert_eq!(m.iou_threshold, t);
            assert_eq!(m.states, coco_match_states(&ds, t).unwrap(), "{name} {t}");

            let rule = Assignment::Coco(t);
            let given = assign(&ds, rule, Some(&m)).unwrap();
            let own = assign(&ds, rule, None).unwrap();
            assert_eq!(given.matched, own.matched);
            assert_eq!(given.ignored, own.ignored);
            assert_eq!(given.pairs, own.pairs);
        }
        // Matches for another threshold are refused, not silently used.
        let m50 = evaluate::evaluate(&ds, Some(0.5)).unwrap().matches.unwrap();
        assert!(matches!(
            assign(&ds, Assignment::Coco(0.75), Some(&m50)),
            Err(Error::Runtime(_))
        ));
        match evaluate::evaluate(&ds, Some(1.5)) {
            Err(Error::Input(p)) => assert!(p[0].problem.contains("IoU threshold"), "{p:?}"),
            other => panic!("{other:?}"),
        }
    }
}
