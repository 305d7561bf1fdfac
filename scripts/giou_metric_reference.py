#!/usr/bin/env python3
"""Reference numbers for detloss's "AP under the GIoU metric" (src/evaluate/overlap.rs).

The GIoU authors (Rezatofighi et al., arXiv 1902.09630) and the DIoU authors
(Zheng et al., arXiv 1911.08287) report COCO AP "under the GIoU metric" from a
cocoapi fork (GitHub Zzh-tju/DIoU-darknet, scripts/cocoapi/): stock
pycocotools, except that `COCOeval.evaluate(metric='giou')` computes the
overlaps with `bbGiou` (common/maskApi.c) instead of `bbIou`:

    w = max(0, min(x2) - max(x1)),  h likewise,  i = w*h
    u = area(dt) if the ground truth is a crowd else area(dt) + area(gt) - i
    c = area of the smallest enclosing box
    giou = i/u - (c - u)/c

This script runs pycocotools 2.0.11 unchanged, with `computeIoU` replaced by a
line-for-line numpy port of that function (same operations, same order; boxes
are COCO [x, y, w, h], right edge x + w) for the `giou` rows. It is written
independently of detloss's Rust port (`giou_metric` in
src/losses/iou_family.rs), which tests/overlap_eval.rs compares with what this
prints.

It prints, as Python reprs (17 significant digits), the 12 stats
[AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl] of:

* `iou`  - stock pycocotools on the dataset (equals the dataset's reference
           file `reference_pycocotools_2.0.11_output.txt`);
* `giou` - the same with the bbGiou overlap;
* `hand iou` / `hand giou` - the hand-worked two-box case of
           tests/overlap_eval.rs (where GIoU and IoU match differently).

Setup and usage (one venv, two packages):

    python3 -m venv /tmp/pyref
    /tmp/pyref/bin/pip install pycocotools==2.0.11 numpy
    /tmp/pyref/bin/python scripts/giou_metric_reference.py [DATASET_DIR]

DATASET_DIR defaults to ../shared/datasets/coco-val2014-100 beside the
repository (instances_val2014_100.json + instances_val2014_fakebbox100_results.json).
"""
import contextlib
import io
import os
import sys

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DIR = os.path.join(os.path.dirname(ROOT), "shared", "datasets", "coco-val2014-100")


def bb_giou(d, g, iscrowd):
    """bbGiou of the authors' maskApi.c: D x G overlaps of [x, y, w, h] boxes."""
    d = np.asarray(d, dtype=np.double).reshape(-1, 4)
    g = np.asarray(g, dtype=np.double).reshape(-1, 4)
    o = np.zeros((len(d), len(g)))
    for j, G in enumerate(g):
        ga = G[2] * G[3]
        crowd = bool(iscrowd[j])
        for i, D in enumerate(d):
            da = D[2] * D[3]
            w = min(D[2] + D[0], G[2] + G[0]) - max(D[0], G[0])
            h = min(D[3] + D[1], G[3] + G[1]) - max(D[1], G[1])
            if w < 0:
                w = 0.0
            if h < 0:
                h = 0.0
            inter = w * h
            u = da if crowd else da + ga - inter
            cw = max(D[2] + D[0], G[2] + G[0]) - min(D[0], G[0])
            ch = max(D[3] + D[1], G[3] + G[1]) - min(D[1], G[1])
            c = cw * ch
            o[i, j] = inter / u - (c - u) / c
    return o


def compute_giou(self, img_id, cat_id):
    """pycocotools' computeIoU for bbox, with bb_giou as the overlap."""
    p = self.params
    gt = self._gts[img_id, cat_id]
    dt = self._dts[img_id, cat_id]
    if len(gt) == 0 and len(dt) == 0:
        return []
    inds = np.argsort([-d["score"] for d in dt], kind="mergesort")
    dt = [dt[i] for i in inds]
    if len(dt) > p.maxDets[-1]:
        dt = dt[0 : p.maxDets[-1]]
    g = [x["bbox"] for x in gt]
    d = [x["bbox"] for x in dt]
    if len(g) == 0 or len(d) == 0:
        return []
    return bb_giou(d, g, [int(o["iscrowd"]) for o in gt])


def stats(gt, dt, metric):
    with contextlib.redirect_stdout(io.StringIO()):
        ev = COCOeval(gt, dt, "bbox")
        if metric == "giou":
            ev.computeIoU = compute_giou.__get__(ev)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return [float(x) for x in ev.stats]


def hand_case():
    """The hand-worked case of tests/overlap_eval.rs: one 10x10 detection D1
    (score 0.9) between two ground truths, A diagonal to it (IoU 81/119,
    GIoU 81/119 - 2/121) and B beside it (IoU = GIoU = 2/3), and a second
    detection D2 (score 0.8) on A."""
    gt = COCO()
    gt.dataset = {
        "images": [{"id": 1, "width": 100, "height": 100, "file_name": "1.jpg"}],
        "categories": [{"id": 1, "name": "thing"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [6, 6, 10, 10], "area": 100, "iscrowd": 0},
            {"id": 2, "image_id": 1, "category_id": 1, "bbox": [3, 5, 10, 10], "area": 100, "iscrowd": 0},
        ],
    }
    with contextlib.redirect_stdout(io.StringIO()):
        gt.createIndex()
        dt = gt.loadRes(
            [
                {"image_id": 1, "category_id": 1, "bbox": [5, 5, 10, 10], "score": 0.9},
                {"image_id": 1, "category_id": 1, "bbox": [6, 6, 10, 10], "score": 0.8},
            ]
        )
    return gt, dt


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_DIR
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(os.path.join(folder, "instances_val2014_100.json"))
        dt = gt.loadRes(os.path.join(folder, "instances_val2014_fakebbox100_results.json"))
    for metric in ("iou", "giou"):
        print(metric, repr(stats(gt, dt, metric)))
    gt, dt = hand_case()
    for metric in ("iou", "giou"):
        print("hand", metric, repr(stats(gt, dt, metric)))


if __name__ == "__main__":
    main()
