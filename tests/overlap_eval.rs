//! `detloss::evaluate::overlap`: COCO AP with IoU (must be hotcoco's COCOeval
//! to the bit) and with the GIoU authors' GIoU (must be their cocoapi fork's
//! numbers, as `scripts/giou_metric_reference.py` computes them).

use std::sync::Arc;
use std::time::Instant;

mod common;

use detloss::data::Dataset;
use detloss::data::boxes::xywh_to_xyxy;
use detloss::error::Error;
use detloss::evaluate::{
    self, Overlap, OverlapEvaluator, ScoredDetection, dataset_boxes_xywh, evaluate_overlap,
};
use detloss::losses::iou_family::{giou_metric, iou};
use detloss::losses::{BoxLoss, BoxLossSpec, Variant};
use hotcoco::params::IouType;
use hotcoco::{Annotation, COCO, COCOeval, Category, Image};

fn load(name: &str) -> Dataset {
    common::load_shared(name, None)
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// hotcoco's own bbox COCOeval stats on a ground truth and its detections.
fn hotcoco_stats(gt: Arc<COCO>, dt: Arc<COCO>) -> Vec<f64> {
    let mut ev = COCOeval::new(gt, dt, IouType::Bbox);
    ev.evaluate().unwrap();
    ev.accumulate();
    let _ = ev.summarize_lines();
    ev.stats().unwrap().to_vec()
}

fn iou_equals_evaluate(name: &str) {
    let ds = load(name);
    let reference = evaluate::evaluate(&ds, None).unwrap().evaluation.stats;
    let ours = evaluate_overlap(&ds, Overlap::Iou).unwrap();
    assert_eq!(ours.overlap, Overlap::Iou);
    assert_eq!(bits(&ours.stats), bits(&reference), "{name}: {ours:?}");
    // The same through a prepared evaluator and the xyxy box table: equal up
    // to the xywh → xyxy → xywh round trip of each box, which on these two
    // datasets moves no IoU across a threshold (it does move GIoU; see
    // `moved_boxes_are_scored_without_a_new_coco`).
    let ev = OverlapEvaluator::for_dataset(&ds).unwrap();
    let dets = ds.dets.as_ref().unwrap();
    assert_eq!(ev.len(), dets.len());
    let xyxy: Vec<[f64; 4]> = (0..dets.len()).map(|i| dets.xyxy(i)).collect();
    let again = ev.evaluate_xyxy(&xyxy, Overlap::Iou).unwrap();
    assert_eq!(again.stats, reference, "{name}");
}

#[test]
fn iou_matches_hotcoco_bit_for_bit_on_coco_val2014_100() {
    iou_equals_evaluate("coco-val2014-100");
}

#[test]
fn iou_matches_hotcoco_bit_for_bit_on_voc2012_100() {
    iou_equals_evaluate("voc2012-100");
}

// pycocotools 2.0.11 with `computeIoU` replaced by a port of the GIoU
// authors' `bbGiou` (their cocoapi fork's `evaluate(metric='giou')`), on
// coco-val2014-100: printed by `scripts/giou_metric_reference.py` (its
// `giou` line). AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl.
const GIOU_COCO_VAL2014_100: [f64; 12] = [
    0.5031404879650953,
    0.6969727247299577,
    0.5716670593726122,
    0.584195680010636,
    0.5175610294975304,
    0.5013902846874754,
    0.38633658916959007,
    0.5932033858080099,
    0.5948767924014164,
    0.638994636080732,
    0.5661488587689961,
    0.5642905982905982,
];

#[test]
fn giou_matches_the_authors_cocoapi_on_coco_val2014_100() {
    let ds = load("coco-val2014-100");
    let g = evaluate_overlap(&ds, Overlap::Giou).unwrap();
    assert_eq!(g.overlap, Overlap::Giou);
    assert_eq!(g.ap(), 0.5031404879650953);
    assert_eq!(g.ap50(), 0.6969727247299577);
    assert_eq!(g.ap75(), 0.5716670593726122);
    assert_eq!(g.stat("AR100"), Some(GIOU_COCO_VAL2014_100[8]));
    assert_eq!(bits(&g.stats), bits(&GIOU_COCO_VAL2014_100), "{g:?}");
    // GIoU ≤ IoU pair by pair, and here AP follows (it need not: see the
    // hand-worked case below).
    let i = evaluate_overlap(&ds, Overlap::Iou).unwrap();
    assert!(g.ap() < i.ap() && g.ap75() < i.ap75());
}

/// One image, one category, two 10×10 ground truths and two 10×10
/// detections (`[x, y, w, h]`):
///
/// ```text
/// A  = [6, 6, 10, 10]   (diagonal to D1)      D1 = [5, 5, 10, 10], score 0.9
/// B  = [3, 5, 10, 10]   (beside D1)           D2 = [6, 6, 10, 10], score 0.8 (on A)
/// ```
fn hand_case() -> (COCO, Vec<ScoredDetection>, Vec<[f64; 4]>) {
    let gt_box = |id, bbox| Annotation {
        id,
        image_id: 1,
        category_id: 1,
        bbox: Some(bbox),
        area: Some(100.0),
        ..Default::default()
    };
    let gt = COCO::from_dataset(hotcoco::Dataset {
        images: vec![Image {
            id: 1,
            width: 100,
            height: 100,
            file_name: "1.jpg".into(),
            ..Default::default()
        }],
        categories: vec![Category {
            id: 1,
            name: "thing".into(),
            ..Default::default()
        }],
        annotations: vec![
            gt_box(1, [6.0, 6.0, 10.0, 10.0]),
            gt_box(2, [3.0, 5.0, 10.0, 10.0]),
        ],
        ..Default::default()
    });
    let dets = vec![
        ScoredDetection {
            image_id: 1,
            category_id: 1,
            score: 0.9,
        },
        ScoredDetection {
            image_id: 1,
            category_id: 1,
            score: 0.8,
        },
    ];
    let boxes = vec![[5.0, 5.0, 10.0, 10.0], [6.0, 6.0, 10.0, 10.0]];
    (gt, dets, boxes)
}

/// Where GIoU and IoU match differently, and GIoU's AP comes out *higher*.
///
/// Overlaps (I intersection, U union, C enclosing box):
/// * D1–A: I = 81, U = 119, C = 11² = 121: IoU = 0.6807, GIoU = 81/119 − 2/121 = 0.6641;
/// * D1–B: I = 80, U = 120, C = 12·10 = 120: IoU = GIoU = 2/3 = 0.6667;
/// * D2–A: 1 under both; D2–B: I = 63, U = 137, IoU = 0.4599 (GIoU lower).
///
/// So D1 prefers A under IoU (0.6807 > 0.6667) and B under GIoU (0.6667 >
/// 0.6641). Greedy matching, D1 first (higher score), thresholds t:
/// * IoU, t ∈ {0.50, …, 0.65} (4 of the 10): D1 takes A, D2 finds A taken
///   and B too far (0.46) → TP, FP. Precision 1 then 1/2, recall 1/2:
///   51 of the 101 recall points (0, 0.01, …, 0.50) get 1, the rest 0.
/// * IoU, t ∈ {0.70, …, 0.95} (6): D1 matches nothing (0.68, 0.67 < t),
///   D2 takes A → FP, TP. Precision 0 then 1/2: 51 points get 1/2.
/// * GIoU, t ≤ 0.65: D1 takes B, D2 takes A → TP, TP: all 101 points get 1.
/// * GIoU, t ≥ 0.70: as IoU → 51 points of 1/2.
///
/// AP = mean over 10 × 101 cells:
/// * IoU:  (4·51 + 6·25.5)/1010 = 357/1010 = 0.35347; AP50 = 51/101 = 0.50495;
///   AP75 = 25.5/101 = 0.25248.
/// * GIoU: (4·101 + 6·25.5)/1010 = 557/1010 = 0.55149; AP50 = 1; AP75 = 0.25248.
///
/// AR (recall at the last detection, mean over t): AR1 (D1 only) = 4·(1/2)/10
/// = 0.2 under both; AR10 = AR100 = 0.5 under IoU, (4·1 + 6·(1/2))/10 = 0.7
/// under GIoU. All boxes are small (area 100 < 32²), so APs = AP and APm,
/// APl, ARm, ARl are −1.
///
/// pycocotools computes precision as tp/(tp + fp + ε), so one TP alone is
/// 1 − 2.2e-16, not 1: the fractions hold to 1e-15, and the exact values are
/// the ones `scripts/giou_metric_reference.py` prints (its `hand` lines).
#[test]
fn hand_worked_case_where_giou_and_iou_match_differently() {
    let (gt, dets, boxes) = hand_case();
    let (d1, a, b) = (boxes[0], [6.0, 6.0, 10.0, 10.0], [3.0, 5.0, 10.0, 10.0]);
    assert_eq!(giou_metric(d1, a, false), 81.0 / 119.0 - 2.0 / 121.0);
    assert_eq!(giou_metric(d1, b, false), 2.0 / 3.0);
    assert_eq!(
        hotcoco::primitives::sim::bbox_iou_pair(d1, a, false),
        81.0 / 119.0
    );

    let ev = OverlapEvaluator::new(&gt, &dets).unwrap();
    let i = ev.evaluate_xywh(&boxes, Overlap::Iou).unwrap();
    let g = ev.evaluate_xywh(&boxes, Overlap::Giou).unwrap();
    let close = |x: f64, y: f64| (x - y).abs() < 1e-15;
    let hand_iou = [
        357.0 / 1010.0,
        51.0 / 101.0,
        25.5 / 101.0,
        357.0 / 1010.0,
        -1.0,
        -1.0,
        0.2,
        0.5,
        0.5,
        0.5,
        -1.0,
        -1.0,
    ];
    let hand_giou = [
        557.0 / 1010.0,
        1.0,
        25.5 / 101.0,
        557.0 / 1010.0,
        -1.0,
        -1.0,
        0.2,
        0.7,
        0.7,
        0.7,
        -1.0,
        -1.0,
    ];
    for k in 0..12 {
        assert!(close(i.stats[k], hand_iou[k]), "IoU stat {k}: {i:?}");
        assert!(close(g.stats[k], hand_giou[k]), "GIoU stat {k}: {g:?}");
    }
    // The exact numbers of scripts/giou_metric_reference.py (`hand iou`,
    // `hand giou`): pycocotools, stock and with bbGiou.
    let py_iou = [
        0.35346534653465345,
        0.5049504950495048,
        0.2524752475247525,
        0.35346534653465345,
        -1.0,
        -1.0,
        0.2,
        0.5,
        0.5,
        0.5,
        -1.0,
        -1.0,
    ];
    let py_giou = [
        0.5514851485148515,
        1.0,
        0.2524752475247525,
        0.5514851485148515,
        -1.0,
        -1.0,
        0.2,
        0.7,
        0.7,
        0.7,
        -1.0,
        -1.0,
    ];
    assert_eq!(bits(&i.stats), bits(&py_iou), "{i:?}");
    assert_eq!(bits(&g.stats), bits(&py_giou), "{g:?}");

    // And IoU is hotcoco's COCOeval on the same data.
    let anns = dets
        .iter()
        .zip(&boxes)
        .map(|(d, &bbox)| Annotation {
            image_id: d.image_id,
            category_id: d.category_id,
            bbox: Some(bbox),
            score: Some(d.score),
            ..Default::default()
        })
        .collect();
    let dt = gt.load_res_anns(anns).unwrap();
    assert_eq!(
        bits(&hotcoco_stats(Arc::new(gt), Arc::new(dt))),
        bits(&i.stats)
    );
}

/// A pair with IoU ≥ 0.5 > GIoU: matched at 0.50 under IoU only.
///
/// Ground truth `[0, 0, 6, 6]`, detection `[1, 1, 6, 6]`: I = 25, U = 47,
/// C = 49, IoU = 25/47 = 0.532, GIoU = 25/47 − 2/49 = 0.491. Under IoU the
/// detection is a TP at t = 0.50 only: precision 1 (1 − 2.2e-16) at all 101
/// recall points of that threshold, 0 at the other nine, so AP = 101/1010 =
/// 0.1, AP50 = 1, AP75 = 0, AR100 = 1/10. Under GIoU it is a false positive
/// everywhere: AP = AP50 = AR100 = 0.
#[test]
fn a_pair_with_iou_above_and_giou_below_one_half() {
    let gt = COCO::from_dataset(hotcoco::Dataset {
        images: vec![Image {
            id: 7,
            width: 50,
            height: 50,
            file_name: "7.jpg".into(),
            ..Default::default()
        }],
        categories: vec![Category {
            id: 3,
            name: "c".into(),
            ..Default::default()
        }],
        annotations: vec![Annotation {
            id: 1,
            image_id: 7,
            category_id: 3,
            bbox: Some([0.0, 0.0, 6.0, 6.0]),
            area: Some(36.0),
            ..Default::default()
        }],
        ..Default::default()
    });
    let det = ScoredDetection {
        image_id: 7,
        category_id: 3,
        score: 0.5,
    };
    let ev = OverlapEvaluator::new(&gt, &[det]).unwrap();
    // xyxy input this time: [1, 1, 7, 7].
    let i = ev
        .evaluate_xyxy(&[[1.0, 1.0, 7.0, 7.0]], Overlap::Iou)
        .unwrap();
    let g = ev
        .evaluate_xyxy(&[[1.0, 1.0, 7.0, 7.0]], Overlap::Giou)
        .unwrap();
    assert!((i.ap() - 0.1).abs() < 1e-15, "{i:?}");
    assert!((i.ap50() - 1.0).abs() < 1e-15, "{i:?}");
    assert_eq!(i.ap75(), 0.0);
    assert_eq!(i.stat("AR100"), Some(0.1));
    assert_eq!((g.ap(), g.ap50(), g.ap75()), (0.0, 0.0, 0.0));
    assert_eq!(g.stat("AR100"), Some(0.0));
}

#[test]
fn giou_metric_follows_the_authors_formula() {
    let d = [0.0, 0.0, 4.0, 2.0];
    let g = [1.0, 1.0, 2.0, 3.0];
    // I = 2·1 = 2, A_d = 8, A_g = 6, U = 12, C = 4·4 = 16.
    assert_eq!(giou_metric(d, g, false), 2.0 / 12.0 - 4.0 / 16.0);
    // Crowd: U is the detection's area: 2/8 − (16 − 8)/16.
    assert_eq!(giou_metric(d, g, true), 2.0 / 8.0 - 8.0 / 16.0);
    // Disjoint boxes: no intersection, the enclosing-box penalty alone.
    let far = [10.0, 0.0, 2.0, 2.0];
    // U = 8 + 4 = 12, C = 12·2 = 24.
    assert_eq!(giou_metric(d, far, false), -(24.0 - 12.0) / 24.0);
    // Identical boxes: 1; zero-area boxes: -inf (the C code's 0/0 NaN).
    assert_eq!(giou_metric(d, d, false), 1.0);
    assert_eq!(
        giou_metric([1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0], false),
        f64::NEG_INFINITY
    );
    assert_eq!(
        giou_metric([1.0, 1.0, 0.0, 0.0], g, true),
        f64::NEG_INFINITY
    );
}

#[test]
fn giou_metric_is_one_minus_the_giou_loss_and_below_iou() {
    let loss = BoxLossSpec::parse("giou", Some(Variant::Paper)).unwrap();
    // A small deterministic spread of boxes, overlapping and not.
    let mut s = 12345u64;
    let mut next = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    for _ in 0..2000 {
        let d = [
            next() * 20.0,
            next() * 20.0,
            0.5 + next() * 15.0,
            0.5 + next() * 15.0,
        ];
        let g = [
            next() * 20.0,
            next() * 20.0,
            0.5 + next() * 15.0,
            0.5 + next() * 15.0,
        ];
        let m = giou_metric(d, g, false);
        let (l, _) = loss.pair(xywh_to_xyxy(d), xywh_to_xyxy(g));
        assert!((m - (1.0 - l)).abs() < 1e-12, "{d:?} {g:?}: {m} vs {l}");
        let v = iou(xywh_to_xyxy(d), xywh_to_xyxy(g));
        assert!(m <= v + 1e-12 && m >= -1.0, "{d:?} {g:?}: {m} vs IoU {v}");
        // Crowd: never above the IoA it penalises (up to rounding: C = A_dt
        // can come out an ulp below A_dt).
        let ioa = hotcoco::primitives::sim::bbox_iou_pair(d, g, true);
        assert!(giou_metric(d, g, true) <= ioa + 1e-12, "{d:?} {g:?}");
    }
}

#[test]
fn moved_boxes_are_scored_without_a_new_coco() {
    let ds = load("coco-val2014-100");
    let ev = OverlapEvaluator::for_dataset(&ds).unwrap();
    let dets = ds.dets.as_ref().unwrap();
    let xyxy: Vec<[f64; 4]> = (0..dets.len()).map(|i| dets.xyxy(i)).collect();
    // Shifted far off every image: nothing matches, AP 0 (not −1: the
    // categories still have ground truth).
    let away: Vec<[f64; 4]> = xyxy
        .iter()
        .map(|b| [b[0] + 1e5, b[1] + 1e5, b[2] + 1e5, b[3] + 1e5])
        .collect();
    for o in Overlap::ALL {
        let e = ev.evaluate_xyxy(&away, o).unwrap();
        assert_eq!((e.ap(), e.ap50(), e.ap75()), (0.0, 0.0, 0.0), "{o:?}");
    }
    // And back: the evaluator holds no state between box sets.
    let xywh = dataset_boxes_xywh(&ds).unwrap();
    let back = ev.evaluate_xywh(&xywh, Overlap::Giou).unwrap();
    assert_eq!(bits(&back.stats), bits(&GIOU_COCO_VAL2014_100));
    // The xyxy table is not the same boxes to the last bit (w = (x + w) − x
    // may round), and this dataset's fake detections are shifted ground
    // truths with GIoU exactly on a threshold (0.7999999999999999 from the
    // file's boxes, 0.8 after the round trip), so through xyxy two pairs
    // match at one more threshold: AP 0.50330 instead of 0.50314. Hence
    // `dataset_boxes_xywh` for the dataset's own numbers.
    let rounded = ev.evaluate_xyxy(&xyxy, Overlap::Giou).unwrap();
    assert!(
        rounded.ap() > back.ap() && rounded.ap() - back.ap() < 1e-3,
        "{rounded:?}"
    );
}

#[test]
fn bad_box_sets_and_detections_are_input_errors() {
    let (gt, dets, boxes) = hand_case();
    let ev = OverlapEvaluator::new(&gt, &dets).unwrap();
    let is_input = |r: Result<_, Error>, needle: &str| match r {
        Err(Error::Input(p)) => assert!(
            p[0].to_string().contains(needle),
            "`{needle}` not in {}",
            p[0]
        ),
        other => panic!("expected an input error with `{needle}`, got {other:?}"),
    };
    is_input(
        ev.evaluate_xywh(&boxes[..1], Overlap::Iou).map(|_| ()),
        "1 boxes for 2 detections",
    );
    let mut nan = boxes.clone();
    nan[1][2] = f64::NAN;
    is_input(ev.evaluate_xywh(&nan, Overlap::Giou).map(|_| ()), "box 1");
    let mut inf = boxes.clone();
    inf[0][0] = f64::INFINITY;
    is_input(
        ev.evaluate_xyxy(&inf, Overlap::Iou).map(|_| ()),
        "not finite",
    );

    let with = |f: fn(&mut ScoredDetection)| {
        let mut d = dets.clone();
        f(&mut d[1]);
        OverlapEvaluator::new(&gt, &d).map(|_| ())
    };
    is_input(with(|d| d.score = f64::NAN), "score is NaN");
    is_input(
        with(|d| d.image_id = 99),
        "image_id 99 is not in the ground truth",
    );
    is_input(
        with(|d| d.category_id = 5),
        "category_id 5 is not in the ground truth",
    );

    let no_dets = load("voc2007-test");
    is_input(
        evaluate_overlap(&no_dets, Overlap::Giou).map(|_| ()),
        "no detections",
    );
    is_input(
        OverlapEvaluator::for_dataset(&no_dets).map(|_| ()),
        "no detections",
    );
}

/// Detections made by jittering every ground-truth box of voc2007-test
/// (`copies` per box, deterministic), as hotcoco `Annotation`s.
fn jittered(gt: &COCO, copies: usize) -> Vec<Annotation> {
    let mut s = 0x9e3779b97f4a7c15u64;
    let mut next = move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut out = Vec::new();
    for a in &gt.dataset.annotations {
        let Some([x, y, w, h]) = a.bbox else { continue };
        for _ in 0..copies {
            let j = |v: f64, scale: f64, r: f64| v + (r - 0.5) * 0.4 * scale;
            out.push(Annotation {
                image_id: a.image_id,
                // One copy in ten gets the wrong category.
                category_id: if next() < 0.1 {
                    1 + (a.category_id % 20)
                } else {
                    a.category_id
                },
                bbox: Some([
                    j(x, w, next()),
                    j(y, h, next()),
                    (w * (0.8 + 0.4 * next())).max(1.0),
                    (h * (0.8 + 0.4 * next())).max(1.0),
                ]),
                // Coarse scores, so that ties (and their order) matter.
                score: Some((next() * 100.0).round() / 100.0),
                ..Default::default()
            });
        }
    }
    out
}

/// IoU through the driver = hotcoco's COCOeval on voc2007-test with 3
/// jittered detections per ground truth (45k detections, many ties in score,
/// overlaps all over the thresholds).
#[test]
fn iou_matches_hotcoco_on_jittered_voc2007_test() {
    let ds = load("voc2007-test");
    let gt = Arc::clone(&ds.coco_gt);
    let dt = Arc::new(gt.load_res_anns(jittered(&gt, 3)).unwrap());
    // Some image × category has more than 100 detections, so the cut at 100
    // is exercised too.
    let mut per_cell = std::collections::HashMap::new();
    for a in &dt.dataset.annotations {
        *per_cell.entry((a.image_id, a.category_id)).or_insert(0) += 1;
    }
    assert!(per_cell.values().any(|&n| n > 100));
    let reference = hotcoco_stats(Arc::clone(&gt), Arc::clone(&dt));
    let scored: Vec<ScoredDetection> = dt
        .dataset
        .annotations
        .iter()
        .map(|a| ScoredDetection {
            image_id: a.image_id,
            category_id: a.category_id,
            score: a.score.unwrap(),
        })
        .collect();
    let boxes: Vec<[f64; 4]> = dt
        .dataset
        .annotations
        .iter()
        .map(|a| a.bbox.unwrap())
        .collect();
    let ev = OverlapEvaluator::new(&gt, &scored).unwrap();
    let ours = ev.evaluate_xywh(&boxes, Overlap::Iou).unwrap();
    assert_eq!(
        bits(&ours.stats),
        bits(&reference),
        "{ours:?} vs {reference:?}"
    );
    let g = ev.evaluate_xywh(&boxes, Overlap::Giou).unwrap();
    assert!(g.ap() <= ours.ap(), "{g:?}");
}

/// Timing, not a check: `cargo test --release --test overlap_eval -- --ignored --nocapture`.
///
/// hotcoco's COCOeval (evaluate, accumulate, summarize) against preparing an
/// [`OverlapEvaluator`] and evaluating one box set with each overlap, best of
/// 5, on coco-val2014-100 and on voc2007-test (4952 images, 20 categories)
/// with 3 and 10 jittered detections per ground truth.
#[test]
#[ignore]
fn time_against_hotcoco() {
    let coco = load("coco-val2014-100");
    let voc = load("voc2007-test");
    let mut cases = vec![(
        "coco-val2014-100".to_string(),
        Arc::clone(&coco.coco_gt),
        Arc::clone(coco.coco_dt.as_ref().unwrap()),
    )];
    for copies in [3, 10] {
        let gt = Arc::clone(&voc.coco_gt);
        let dt = Arc::new(gt.load_res_anns(jittered(&gt, copies)).unwrap());
        cases.push((format!("voc2007-test, {copies} dets/gt"), gt, dt));
    }
    for (name, gt, dt) in cases {
        let scored: Vec<ScoredDetection> = dt
            .dataset
            .annotations
            .iter()
            .map(|a| ScoredDetection {
                image_id: a.image_id,
                category_id: a.category_id,
                score: a.score.unwrap(),
            })
            .collect();
        let boxes: Vec<[f64; 4]> = dt
            .dataset
            .annotations
            .iter()
            .map(|a| a.bbox.unwrap())
            .collect();
        let best = |f: &mut dyn FnMut()| {
            (0..5)
                .map(|_| {
                    let t = Instant::now();
                    f();
                    t.elapsed().as_secs_f64()
                })
                .fold(f64::INFINITY, f64::min)
        };
        let hot = best(&mut || {
            hotcoco_stats(Arc::clone(&gt), Arc::clone(&dt));
        });
        let mut ev = None;
        let prep = best(&mut || ev = Some(OverlapEvaluator::new(&gt, &scored).unwrap()));
        let ev = ev.unwrap();
        let iou_t = best(&mut || {
            ev.evaluate_xywh(&boxes, Overlap::Iou).unwrap();
        });
        let giou_t = best(&mut || {
            ev.evaluate_xywh(&boxes, Overlap::Giou).unwrap();
        });
        println!(
            "{name}: {} gt, {} dets, {} threads: hotcoco COCOeval {:.1} ms; \
             OverlapEvaluator::new {:.1} ms, evaluate IoU {:.1} ms, GIoU {:.1} ms",
            gt.dataset.annotations.len(),
            boxes.len(),
            rayon::current_num_threads(),
            hot * 1e3,
            prep * 1e3,
            iou_t * 1e3,
            giou_t * 1e3
        );
    }
}
