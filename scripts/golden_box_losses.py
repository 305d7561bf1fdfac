#!/usr/bin/env python3
"""Independent golden values for the box-regression losses of `detloss`.

Run through scripts/make_golden.sh (it builds the venv with torch 2.14.1 +
torchvision 0.29.2).  Everything is float64 and the seed is fixed, so a rerun
with the same versions reproduces the files byte for byte.

Writes (compact JSON, floats in Python repr precision):
  tests/golden/box_pairs.json        inputs: N random aligned pairs + edge cases
  tests/golden/box_torchvision.json  real torchvision.ops functions
  tests/golden/box_mmdet.json        mmdet 3.3.0 formulas, transcribed
  tests/golden/box_ultralytics.json  ultralytics 8.4.x bbox_iou, transcribed
  tests/golden/box_elementwise.json  torch.nn.functional element-wise losses

For every case: per-pair loss (reduction none) and the autograd gradient
d loss_i / d pred_i (4 values), obtained with pred.requires_grad_() and
loss.sum().backward() over the whole batch (rows are independent; this is
cross-checked against row-by-row evaluation below).  A non-finite loss is
written as null; a gradient with any non-finite component is written as null
(loss and grad are judged separately).

Gradient conventions the Rust side must know (they are torch's, not ours):
  * torch.maximum/minimum (and torch.max/min of two tensors): at a tie the
    incoming gradient is split 1/2 : 1/2 between the two inputs.
  * clamp(min=a[, max=b]) (torch 2.14): gradient passes only strictly inside
    (a < x < b); at x == a or x == b it is 0.  So for touching boxes (overlap
    width exactly 0) the intersection gives no gradient in the mmdet /
    ultralytics formulas either, the same as torchvision's strict mask
    (> 0) in _loss_inter_union; and mmdet's IoU.clamp(min=eps) kills the
    gradient whenever IoU <= eps.
  * abs / l1 at 0: gradient 0.  smooth_l1/huber: torch's own kernels.
  * alpha of CIoU is computed under no_grad in every library (constant).
"""
from __future__ import annotations

import json
import math
import os
import platform
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from torchvision.ops import (
    complete_box_iou_loss,
    distance_box_iou_loss,
    generalized_box_iou_loss,
)
from torchvision.ops._utils import _loss_inter_union

torch.set_default_dtype(torch.float64)
DT = torch.float64

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "golden"
GENERATED_BY = "scripts/golden_box_losses.py"
SEED = 20240607
N_RANDOM = 10_000

MMDET_VERSION = "3.3.0"          # source read from mmdet-3.3.0-py3-none-any.whl
ULTRALYTICS_VERSION = "8.4.190"  # source read from ultralytics-8.4.190-py3-none-any.whl

VERSIONS = {
    "python": platform.python_version(),
    "torch": torch.__version__,
    "torchvision": torchvision.__version__,
    "numpy": np.__version__,
    "mmdet_source": MMDET_VERSION,
    "ultralytics_source": ULTRALYTICS_VERSION,
}


# ----------------------------------------------------------------------------
# Inputs
# ----------------------------------------------------------------------------
def random_pairs(n: int, seed: int):
    """target x1,y1 ~ U(0,200); w,h = exp(U(ln 1, ln 300));
    pred centre = target centre + N(0, 0.6*(w,h)); pred log-size = target
    log-size + N(0, 0.5)."""
    rng = np.random.default_rng(seed)
    tx1 = rng.uniform(0.0, 200.0, n)
    ty1 = rng.uniform(0.0, 200.0, n)
    tw = np.exp(rng.uniform(math.log(1.0), math.log(300.0), n))
    th = np.exp(rng.uniform(math.log(1.0), math.log(300.0), n))
    target = np.stack([tx1, ty1, tx1 + tw, ty1 + th], axis=1)
    tcx = tx1 + 0.5 * tw
    tcy = ty1 + 0.5 * th
    pcx = tcx + rng.normal(0.0, 1.0, n) * 0.6 * tw
    pcy = tcy + rng.normal(0.0, 1.0, n) * 0.6 * th
    pw = tw * np.exp(rng.normal(0.0, 0.5, n))
    ph = th * np.exp(rng.normal(0.0, 0.5, n))
    pred = np.stack([pcx - 0.5 * pw, pcy - 0.5 * ph, pcx + 0.5 * pw, pcy + 0.5 * ph], axis=1)
    return pred, target


# (what, pred, target).  Degenerate/inverted boxes are always the prediction,
# except the "both points" case.
EDGE_CASES = [
    ("identical small 1x1 boxes", (0, 0, 1, 1), (0, 0, 1, 1)),
    ("identical boxes, area 100", (10, 10, 20, 20), (10, 10, 20, 20)),
    ("identical boxes, area 1e6", (0, 0, 1000, 1000), (0, 0, 1000, 1000)),
    ("identical boxes (1,1,3,4) (hand table, last row)", (1, 1, 3, 4), (1, 1, 3, 4)),
    ("non-overlapping side by side, gap 1", (0, 0, 2, 2), (3, 0, 5, 2)),
    ("non-overlapping diagonal, different sizes", (0, 0, 2, 3), (5, 6, 7, 9)),
    ("non-overlapping far apart (1000 px)", (0, 0, 10, 10), (1000, 1000, 1010, 1010)),
    ("pred contains target (off-centre)", (0, 0, 10, 10), (2, 3, 5, 7)),
    ("target contains pred (off-centre)", (2, 3, 5, 7), (0, 0, 10, 10)),
    ("target contains pred, same centre, half size", (2.5, 2.5, 7.5, 7.5), (0, 0, 10, 10)),
    ("shared vertical edge (touching side by side)", (0, 0, 2, 2), (2, 0, 4, 2)),
    ("shared horizontal edge (touching above/below)", (0, 0, 2, 2), (0, 2, 2, 4)),
    ("touching at one corner", (0, 0, 2, 2), (2, 2, 4, 4)),
    ("zero-width pred inside target", (1, 0, 1, 2), (0, 0, 2, 2)),
    ("zero-height pred inside target", (0, 1, 2, 1), (0, 0, 2, 2)),
    ("zero-width pred outside target", (5, 0, 5, 2), (0, 0, 2, 2)),
    ("zero-area pred (point) inside target", (1, 1, 1, 1), (0, 0, 2, 2)),
    ("zero-area pred (point) outside target", (5, 5, 5, 5), (0, 0, 2, 2)),
    ("both boxes the same point (zero area)", (1, 1, 1, 1), (1, 1, 1, 1)),
    ("inverted pred x2<x1", (2, 0, 0, 2), (0, 0, 2, 2)),
    ("inverted pred y2<y1", (0, 2, 2, 0), (0, 0, 2, 2)),
    ("inverted pred x2<x1 and y2<y1", (2, 2, 0, 0), (0, 0, 2, 2)),
    ("tiny coordinates (1e-6 scale), identical", (1e-6, 1e-6, 3e-6, 4e-6), (1e-6, 1e-6, 3e-6, 4e-6)),
    ("tiny coordinates (1e-6 scale), partial overlap", (0, 0, 2e-6, 2e-6), (1e-6, 1e-6, 3e-6, 3e-6)),
    ("tiny coordinates (1e-6 scale), shifted by half a width", (0, 0, 1e-6, 1e-6), (0.5e-6, 0, 1.5e-6, 1e-6)),
    ("huge coordinates (1e7 scale), partial overlap", (1e7, 1e7, 3e7, 2e7), (1.5e7, 1.2e7, 3.5e7, 2.5e7)),
    ("huge coordinates (1e7 scale), identical", (1e7, 1e7, 2e7, 2e7), (1e7, 1e7, 2e7, 2e7)),
    ("huge coordinates (1e7 scale), non-overlapping", (0, 0, 1e7, 1e7), (2e7, 2e7, 3e7, 3e7)),
    ("1x1 boxes at 1e7 offset, half overlap (cancellation)", (1e7, 1e7, 1e7 + 1, 1e7 + 1),
     (1e7 + 0.5, 1e7 + 0.5, 1e7 + 1.5, 1e7 + 1.5)),
    ("hand table row 1: (0,0,2,2) vs (1,1,3,3)", (0, 0, 2, 2), (1, 1, 3, 3)),
    ("hand table row 2: (0,0,4,2) vs (1,0,3,4)", (0, 0, 4, 2), (1, 0, 3, 4)),
    ("hand table row 3: (0,0,10,8) vs (0,0,10,10)", (0, 0, 10, 8), (0, 0, 10, 10)),
    ("hand table row 4: (0,0,1,1) vs (2,2,3,3)", (0, 0, 1, 1), (2, 2, 3, 3)),
    ("hand table row 5: (0,0,4,4) vs (1,1,3,3)", (0, 0, 4, 4), (1, 1, 3, 3)),
    ("same centre, different aspect ratio (4x1 vs 1x4)", (0, 1.5, 4, 2.5), (1.5, 0, 2.5, 4)),
    ("IoU just above 0.5 (10/19), aspect differs", (0, 0, 10, 10), (0, 0, 10, 19)),
    ("IoU just below 0.5 (10/21), aspect differs", (0, 0, 10, 10), (0, 0, 10, 21)),
    ("very thin boxes (h 0.01 vs 0.02)", (0, 0, 100, 0.01), (0, 0, 100, 0.02)),
    ("negative coordinates, partial overlap", (-5, -5, -1, -2), (-4, -6, 0, -1)),
    ("size ratio 1e6 in area, shared corner at origin", (0, 0, 1, 1), (0, 0, 1000, 1000)),
    ("half overlap along x, same size", (0, 0, 2, 2), (1, 0, 3, 2)),
    ("pred far larger than target, same centre", (-50, -50, 60, 60), (0, 0, 10, 10)),
]

# Hand table: forward values computed by hand (six decimals) from the published
# formulas, GIoU (Rezatofighi et al., arXiv 1902.09630) and DIoU/CIoU (Zheng et
# al., arXiv 1911.08287), under each library's conventions, independently of
# the library code.  Row 2: IoU = 1/3, so mmdet's gated CIoU equals its DIoU.
# Edge-case "what" -> expected values, in the columns of HAND_COLS.
HAND_TABLE = {
    "hand table row 1: (0,0,2,2) vs (1,1,3,3)": (1.079365, 0.968254, 0.968254, 0.968254, 0.968254),
    "hand table row 2: (0,0,4,2) vs (1,0,3,4)": (0.916667, 0.697917, 0.731668, 0.697917, 0.731668),
    "hand table row 3: (0,0,10,8) vs (0,0,10,10)": (0.200000, 0.205000, 0.205120, 0.205120, 0.205120),
    "hand table row 4: (0,0,1,1) vs (2,2,3,3)": (1.777778, 1.444444, 1.444444, 1.444444, 1.444444),
    "hand table row 5: (0,0,4,4) vs (1,1,3,3)": (0.750000, 0.750000, 0.750000, 0.750000, 0.750000),
    "identical boxes (1,1,3,4) (hand table, last row)": (0.0, 0.0, 0.0, 0.0, 0.0),
}
HAND_COLS = [("giou", "torchvision"), ("diou", "torchvision"), ("ciou", "torchvision"),
             ("ciou", "mmdet"), ("ciou", "ultralytics")]


# ----------------------------------------------------------------------------
# torchvision 0.29.2 (the real functions)
# ----------------------------------------------------------------------------
def tv_iou(pred, target):
    inter, union = _loss_inter_union(pred, target)
    return 1 - inter / (union + 1e-7)


def tv_giou(pred, target):
    return generalized_box_iou_loss(pred, target, reduction="none", eps=1e-7)


def tv_diou(pred, target):
    return distance_box_iou_loss(pred, target, reduction="none", eps=1e-7)


def tv_ciou(pred, target):
    return complete_box_iou_loss(pred, target, reduction="none", eps=1e-7)


# ----------------------------------------------------------------------------
# mmdet 3.3.0, transcribed (not imported: it needs mmcv)
# ----------------------------------------------------------------------------
def mm_bbox_overlaps_aligned(bboxes1, bboxes2, mode="iou", eps=1e-6):
    """mmdet/structures/bbox/bbox_overlaps.py bbox_overlaps(..., is_aligned=True)
    for float64 CPU input (fp16_clamp(x, min=0) == x.clamp(0, None))."""
    area1 = (bboxes1[..., 2] - bboxes1[..., 0]) * (bboxes1[..., 3] - bboxes1[..., 1])
    area2 = (bboxes2[..., 2] - bboxes2[..., 0]) * (bboxes2[..., 3] - bboxes2[..., 1])
    lt = torch.max(bboxes1[..., :2], bboxes2[..., :2])
    rb = torch.min(bboxes1[..., 2:], bboxes2[..., 2:])
    wh = (rb - lt).clamp(0, None)
    overlap = wh[..., 0] * wh[..., 1]
    if mode in ["iou", "giou"]:
        union = area1 + area2 - overlap
    else:
        union = area1
    if mode == "giou":
        enclosed_lt = torch.min(bboxes1[..., :2], bboxes2[..., :2])
        enclosed_rb = torch.max(bboxes1[..., 2:], bboxes2[..., 2:])
    eps = union.new_tensor([eps])
    union = torch.max(union, eps)
    ious = overlap / union
    if mode in ["iou", "iof"]:
        return ious
    enclose_wh = (enclosed_rb - enclosed_lt).clamp(0, None)
    enclose_area = enclose_wh[..., 0] * enclose_wh[..., 1]
    enclose_area = torch.max(enclose_area, eps)
    gious = ious - (enclose_area - union) / enclose_area
    return gious


def mm_iou_loss(pred, target, mode, eps=1e-6):
    """mmdet/models/losses/iou_loss.py iou_loss (bbox_overlaps with its own
    default eps=1e-6, then .clamp(min=eps))."""
    ious = mm_bbox_overlaps_aligned(pred, target).clamp(min=eps)
    if mode == "linear":
        return 1 - ious
    if mode == "square":
        return 1 - ious**2
    if mode == "log":
        return -ious.log()
    raise NotImplementedError(mode)


def mm_giou_loss(pred, target, eps=1e-6):
    gious = mm_bbox_overlaps_aligned(pred, target, mode="giou", eps=eps)
    return 1 - gious


def mm_diou_loss(pred, target, eps=1e-6):
    lt = torch.max(pred[:, :2], target[:, :2])
    rb = torch.min(pred[:, 2:], target[:, 2:])
    wh = (rb - lt).clamp(min=0)
    overlap = wh[:, 0] * wh[:, 1]
    ap = (pred[:, 2] - pred[:, 0]) * (pred[:, 3] - pred[:, 1])
    ag = (target[:, 2] - target[:, 0]) * (target[:, 3] - target[:, 1])
    union = ap + ag - overlap + eps
    ious = overlap / union
    enclose_x1y1 = torch.min(pred[:, :2], target[:, :2])
    enclose_x2y2 = torch.max(pred[:, 2:], target[:, 2:])
    enclose_wh = (enclose_x2y2 - enclose_x1y1).clamp(min=0)
    cw = enclose_wh[:, 0]
    ch = enclose_wh[:, 1]
    c2 = cw**2 + ch**2 + eps
    b1_x1, b1_y1 = pred[:, 0], pred[:, 1]
    b1_x2, b1_y2 = pred[:, 2], pred[:, 3]
    b2_x1, b2_y1 = target[:, 0], target[:, 1]
    b2_x2, b2_y2 = target[:, 2], target[:, 3]
    left = ((b2_x1 + b2_x2) - (b1_x1 + b1_x2)) ** 2 / 4
    right = ((b2_y1 + b2_y2) - (b1_y1 + b1_y2)) ** 2 / 4
    rho2 = left + right
    dious = ious - rho2 / c2
    return 1 - dious


def mm_ciou_loss(pred, target, eps=1e-6):
    lt = torch.max(pred[:, :2], target[:, :2])
    rb = torch.min(pred[:, 2:], target[:, 2:])
    wh = (rb - lt).clamp(min=0)
    overlap = wh[:, 0] * wh[:, 1]
    ap = (pred[:, 2] - pred[:, 0]) * (pred[:, 3] - pred[:, 1])
    ag = (target[:, 2] - target[:, 0]) * (target[:, 3] - target[:, 1])
    union = ap + ag - overlap + eps
    ious = overlap / union
    enclose_x1y1 = torch.min(pred[:, :2], target[:, :2])
    enclose_x2y2 = torch.max(pred[:, 2:], target[:, 2:])
    enclose_wh = (enclose_x2y2 - enclose_x1y1).clamp(min=0)
    cw = enclose_wh[:, 0]
    ch = enclose_wh[:, 1]
    c2 = cw**2 + ch**2 + eps
    b1_x1, b1_y1 = pred[:, 0], pred[:, 1]
    b1_x2, b1_y2 = pred[:, 2], pred[:, 3]
    b2_x1, b2_y1 = target[:, 0], target[:, 1]
    b2_x2, b2_y2 = target[:, 2], target[:, 3]
    w1, h1 = b1_x2 - b1_x1, b1_y2 - b1_y1 + eps
    w2, h2 = b2_x2 - b2_x1, b2_y2 - b2_y1 + eps
    left = ((b2_x1 + b2_x2) - (b1_x1 + b1_x2)) ** 2 / 4
    right = ((b2_y1 + b2_y2) - (b1_y1 + b1_y2)) ** 2 / 4
    rho2 = left + right
    factor = 4 / math.pi**2
    v = factor * torch.pow(torch.atan(w2 / h2) - torch.atan(w1 / h1), 2)
    with torch.no_grad():
        alpha = (ious > 0.5).float() * v / (1 - ious + v)
    cious = ious - (rho2 / c2 + alpha * v)
    return 1 - cious.clamp(min=-1.0, max=1.0)


def mm_balanced_l1(pred, target, beta=1.0, alpha=0.5, gamma=1.5):
    """mmdet/models/losses/balanced_l1_loss.py balanced_l1_loss, then sum over
    the 4 coordinates."""
    diff = torch.abs(pred - target)
    b = np.e ** (gamma / alpha) - 1
    loss = torch.where(
        diff < beta,
        alpha / b * (b * diff + 1) * torch.log(b * diff / beta + 1) - alpha * diff,
        gamma * diff + gamma / b - alpha * beta,
    )
    return loss.sum(-1)


# ----------------------------------------------------------------------------
# ultralytics 8.4.x, transcribed: ultralytics/utils/metrics.py bbox_iou
# ----------------------------------------------------------------------------
def ul_bbox_iou(box1, box2, xywh=True, GIoU=False, DIoU=False, CIoU=False, eps=1e-7):
    if xywh:
        (x1, y1, w1, h1), (x2, y2, w2, h2) = box1.chunk(4, -1), box2.chunk(4, -1)
        w1_, h1_, w2_, h2_ = w1 / 2, h1 / 2, w2 / 2, h2 / 2
        b1_x1, b1_x2, b1_y1, b1_y2 = x1 - w1_, x1 + w1_, y1 - h1_, y1 + h1_
        b2_x1, b2_x2, b2_y1, b2_y2 = x2 - w2_, x2 + w2_, y2 - h2_, y2 + h2_
    else:
        b1_x1, b1_y1, b1_x2, b1_y2 = box1.chunk(4, -1)
        b2_x1, b2_y1, b2_x2, b2_y2 = box2.chunk(4, -1)
        w1, h1 = b1_x2 - b1_x1, b1_y2 - b1_y1 + eps
        w2, h2 = b2_x2 - b2_x1, b2_y2 - b2_y1 + eps
    inter = (b1_x2.minimum(b2_x2) - b1_x1.maximum(b2_x1)).clamp_(0) * (
        b1_y2.minimum(b2_y2) - b1_y1.maximum(b2_y1)
    ).clamp_(0)
    union = w1 * h1 + w2 * h2 - inter + eps
    iou = inter / union
    if CIoU or DIoU or GIoU:
        cw = b1_x2.maximum(b2_x2) - b1_x1.minimum(b2_x1)
        ch = b1_y2.maximum(b2_y2) - b1_y1.minimum(b2_y1)
        if CIoU or DIoU:
            c2 = cw.pow(2) + ch.pow(2) + eps
            rho2 = ((b2_x1 + b2_x2 - b1_x1 - b1_x2).pow(2) + (b2_y1 + b2_y2 - b1_y1 - b1_y2).pow(2)) / 4
            if CIoU:
                v = (4 / math.pi**2) * ((w2 / h2).atan() - (w1 / h1).atan()).pow(2)
                with torch.no_grad():
                    alpha = v / (1 - iou + v + eps)
                return iou - (rho2 / c2 + v * alpha)
            return iou - rho2 / c2
        c_area = cw * ch + eps
        return iou - (c_area - union) / c_area
    return iou


def ul_loss(kind):
    flags = {"giou": dict(GIoU=True), "diou": dict(DIoU=True), "ciou": dict(CIoU=True)}[kind]

    def f(pred, target):
        return 1 - ul_bbox_iou(pred, target, xywh=False, eps=1e-7, **flags).squeeze(-1)

    return f


# ----------------------------------------------------------------------------
# Paper formulas (no eps, ungated alpha) -- only for the printed comparison
# ----------------------------------------------------------------------------
def paper_losses(p: np.ndarray, t: np.ndarray):
    with np.errstate(all="ignore"):
        iw = np.clip(np.minimum(p[:, 2], t[:, 2]) - np.maximum(p[:, 0], t[:, 0]), 0, None)
        ih = np.clip(np.minimum(p[:, 3], t[:, 3]) - np.maximum(p[:, 1], t[:, 1]), 0, None)
        inter = iw * ih
        wp, hp = p[:, 2] - p[:, 0], p[:, 3] - p[:, 1]
        wt, ht = t[:, 2] - t[:, 0], t[:, 3] - t[:, 1]
        union = wp * hp + wt * ht - inter
        iou = inter / union
        cw = np.maximum(p[:, 2], t[:, 2]) - np.minimum(p[:, 0], t[:, 0])
        ch = np.maximum(p[:, 3], t[:, 3]) - np.minimum(p[:, 1], t[:, 1])
        giou = 1 - iou + (cw * ch - union) / (cw * ch)
        rho2 = ((p[:, 0] + p[:, 2] - t[:, 0] - t[:, 2]) ** 2 + (p[:, 1] + p[:, 3] - t[:, 1] - t[:, 3]) ** 2) / 4
        diou = 1 - iou + rho2 / (cw**2 + ch**2)
        v = 4 / math.pi**2 * (np.arctan(wt / ht) - np.arctan(wp / hp)) ** 2
        alpha = np.where(v == 0, 0.0, v / ((1 - iou) + v))
        ciou = diou + alpha * v
    return {"iou": 1 - iou, "giou": giou, "diou": diou, "ciou": ciou}


# ----------------------------------------------------------------------------
# Case table
# ----------------------------------------------------------------------------
TV_SRC = "torchvision 0.29.2 torchvision/ops/"
MM_SRC = "mmdet 3.3.0 mmdet/models/losses/iou_loss.py"
UL_SRC = "ultralytics 8.4.190 ultralytics/utils/metrics.py bbox_iou(box1=pred, box2=target, xywh=False, eps=1e-7)"

FAMILIES = {
    "torchvision": [
        ("iou", "torchvision", {"eps": 1e-7},
         TV_SRC + "_utils.py _loss_inter_union(pred, target) -> I, U; loss = 1 - I/(U + 1e-7)", tv_iou),
        ("giou", "torchvision", {"eps": 1e-7, "reduction": "none"},
         TV_SRC + "giou_loss.py generalized_box_iou_loss(pred, target, reduction='none', eps=1e-7)", tv_giou),
        ("diou", "torchvision", {"eps": 1e-7, "reduction": "none"},
         TV_SRC + "diou_loss.py distance_box_iou_loss(pred, target, reduction='none', eps=1e-7)", tv_diou),
        ("ciou", "torchvision", {"eps": 1e-7, "reduction": "none"},
         TV_SRC + "ciou_loss.py complete_box_iou_loss(pred, target, reduction='none', eps=1e-7)", tv_ciou),
    ],
    "mmdet": [
        ("iou", "mmdet", {"mode": "linear", "eps": 1e-6},
         MM_SRC + " iou_loss(mode='linear', eps=1e-6) with mmdet/structures/bbox/bbox_overlaps.py "
                  "bbox_overlaps(pred, target, is_aligned=True) (union floored at 1e-6), IoU.clamp(min=eps)",
         lambda p, t: mm_iou_loss(p, t, "linear")),
        ("iou_log", "mmdet", {"mode": "log", "eps": 1e-6},
         MM_SRC + " iou_loss(mode='log', eps=1e-6): -log(clamp(IoU, min=eps))",
         lambda p, t: mm_iou_loss(p, t, "log")),
        ("iou_square", "mmdet", {"mode": "square", "eps": 1e-6},
         MM_SRC + " iou_loss(mode='square', eps=1e-6): 1 - clamp(IoU, min=eps)**2",
         lambda p, t: mm_iou_loss(p, t, "square")),
        ("giou", "mmdet", {"eps": 1e-6},
         MM_SRC + " giou_loss(eps=1e-6, GIoULoss module default) = 1 - bbox_overlaps(mode='giou', "
                  "is_aligned=True, eps) (union and enclose area floored at eps)",
         mm_giou_loss),
        ("diou", "mmdet", {"eps": 1e-6},
         MM_SRC + " diou_loss(eps=1e-6): U + eps, c^2 + eps", mm_diou_loss),
        ("ciou", "mmdet", {"eps": 1e-6},
         MM_SRC + " ciou_loss(eps=1e-6): U + eps, c^2 + eps, h + eps, alpha = (IoU>0.5)*v/(1-IoU+v) "
                  "under no_grad, loss = 1 - clamp(CIoU, -1, 1)",
         mm_ciou_loss),
        ("balanced_l1", "mmdet", {"alpha": 0.5, "gamma": 1.5, "beta": 1.0},
         "mmdet 3.3.0 mmdet/models/losses/balanced_l1_loss.py balanced_l1_loss on raw xyxy, "
         "summed over the 4 coordinates",
         mm_balanced_l1),
    ],
    "ultralytics": [
        ("giou", "ultralytics", {"eps": 1e-7, "xywh": False}, UL_SRC + " GIoU=True; loss = 1 - GIoU", ul_loss("giou")),
        ("diou", "ultralytics", {"eps": 1e-7, "xywh": False}, UL_SRC + " DIoU=True; loss = 1 - DIoU", ul_loss("diou")),
        ("ciou", "ultralytics", {"eps": 1e-7, "xywh": False}, UL_SRC + " CIoU=True; loss = 1 - CIoU", ul_loss("ciou")),
    ],
    "elementwise": [
        ("l1", "torch", {},
         "torch.nn.functional.l1_loss(pred, target, reduction='none').sum(-1) on raw xyxy",
         lambda p, t: F.l1_loss(p, t, reduction="none").sum(-1)),
        ("mse", "torch", {},
         "torch.nn.functional.mse_loss(pred, target, reduction='none').sum(-1) on raw xyxy",
         lambda p, t: F.mse_loss(p, t, reduction="none").sum(-1)),
        ("smooth_l1", "torch", {"beta": 1.0},
         "torch.nn.functional.smooth_l1_loss(pred, target, reduction='none', beta=1.0).sum(-1) on raw xyxy",
         lambda p, t: F.smooth_l1_loss(p, t, reduction="none", beta=1.0).sum(-1)),
        ("smooth_l1", "torch", {"beta": 0.5},
         "torch.nn.functional.smooth_l1_loss(pred, target, reduction='none', beta=0.5).sum(-1) on raw xyxy",
         lambda p, t: F.smooth_l1_loss(p, t, reduction="none", beta=0.5).sum(-1)),
        ("huber", "torch", {"delta": 1.0},
         "torch.nn.functional.huber_loss(pred, target, reduction='none', delta=1.0).sum(-1) on raw xyxy",
         lambda p, t: F.huber_loss(p, t, reduction="none", delta=1.0).sum(-1)),
        ("huber", "torch", {"delta": 2.0},
         "torch.nn.functional.huber_loss(pred, target, reduction='none', delta=2.0).sum(-1) on raw xyxy",
         lambda p, t: F.huber_loss(p, t, reduction="none", delta=2.0).sum(-1)),
    ],
}


def loss_and_grad(fn, pred: torch.Tensor, target: torch.Tensor):
    p = pred.detach().clone().requires_grad_()
    t = target.detach().clone()
    loss = fn(p, t)
    assert loss.shape == (pred.shape[0],), loss.shape
    assert loss.dtype == DT, loss.dtype
    loss.sum().backward()
    grad = p.grad if p.grad is not None else torch.zeros_like(p)
    return loss.detach(), grad.detach()


def to_json_lists(loss: torch.Tensor, grad: torch.Tensor):
    lf = torch.isfinite(loss)
    gf = torch.isfinite(grad).all(-1)
    loss_l = [v if ok else None for v, ok in zip(loss.tolist(), lf.tolist())]
    grad_l = [g if ok else None for g, ok in zip(grad.tolist(), gf.tolist())]
    return loss_l, grad_l


def close(a: torch.Tensor, b: torch.Tensor, rtol=1e-13, atol=1e-300):
    both_nan = torch.isnan(a) & torch.isnan(b)
    same = (a == b) | both_nan | ((a - b).abs() <= atol + rtol * b.abs())
    return bool(same.all())


def dump(path: Path, obj) -> int:
    text = json.dumps(obj, separators=(",", ":"), allow_nan=False)
    path.write_text(text + "\n")
    return path.stat().st_size


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    rp, rt = random_pairs(N_RANDOM, SEED)
    ep = np.array([c[1] for c in EDGE_CASES], dtype=np.float64)
    et = np.array([c[2] for c in EDGE_CASES], dtype=np.float64)
    pred_np = np.concatenate([rp, ep])
    target_np = np.concatenate([rt, et])
    n_total = len(pred_np)
    what_index = {c[0]: N_RANDOM + k for k, c in enumerate(EDGE_CASES)}

    pairs = {
        "generated_by": GENERATED_BY,
        "versions": VERSIONS,
        "seed": SEED,
        "n_random": N_RANDOM,
        "n_total": n_total,
        "random_recipe": "numpy default_rng(seed); target x1,y1~U(0,200); w,h=exp(U(ln1,ln300)); "
                         "pred centre = target centre + N(0,1)*0.6*(w,h); pred w,h = target w,h * exp(N(0,0.5)); "
                         "format xyxy, float64",
        "index_note": "edge_cases[].index is the absolute row in pred/target (random rows are 0..n_random-1)",
        "pred": pred_np.tolist(),
        "target": target_np.tolist(),
        "edge_cases": [{"index": N_RANDOM + k, "what": c[0]} for k, c in enumerate(EDGE_CASES)],
    }
    sizes = {"box_pairs.json": dump(OUT / "box_pairs.json", pairs)}

    pred = torch.from_numpy(pred_np).to(DT)
    target = torch.from_numpy(target_np).to(DT)

    # rows evaluated one at a time must agree with the batched evaluation
    rng = np.random.default_rng(SEED + 1)
    check_rows = list(range(N_RANDOM, n_total)) + sorted(rng.choice(N_RANDOM, 200, replace=False).tolist())

    results = {}  # (name, variant, params-json) -> (loss, grad)
    null_table = []
    for family, cases in FAMILIES.items():
        out_cases = []
        for name, variant, params, source, fn in cases:
            loss, grad = loss_and_grad(fn, pred, target)
            for r in check_rows:
                l1, g1 = loss_and_grad(fn, pred[r:r + 1], target[r:r + 1])
                if not (close(l1, loss[r:r + 1]) and close(g1, grad[r:r + 1])):
                    print(f"WARNING {name}/{variant} {params}: row {r} differs single vs batch: "
                          f"{l1.tolist()} {loss[r].item()} {g1.tolist()} {grad[r].tolist()}", file=sys.stderr)
            results[(name, variant, json.dumps(params, sort_keys=True))] = (loss, grad)
            loss_l, grad_l = to_json_lists(loss, grad)
            null_edges_l = [EDGE_CASES[i - N_RANDOM][0] for i in range(N_RANDOM, n_total) if loss_l[i] is None]
            null_edges_g = [EDGE_CASES[i - N_RANDOM][0] for i in range(N_RANDOM, n_total)
                            if grad_l[i] is None and loss_l[i] is not None]
            null_table.append((family, name, variant, params,
                               sum(v is None for v in loss_l[:N_RANDOM]), sum(v is None for v in grad_l[:N_RANDOM]),
                               sum(v is None for v in loss_l[N_RANDOM:]), sum(v is None for v in grad_l[N_RANDOM:]),
                               null_edges_l, null_edges_g))
            out_cases.append({"name": name, "variant": variant, "params": params, "source": source,
                              "loss": loss_l, "grad": grad_l})
        fname = f"box_{family}.json"
        sizes[fname] = dump(OUT / fname, {"generated_by": GENERATED_BY, "versions": VERSIONS,
                                          "n_random": N_RANDOM, "n_total": n_total, "cases": out_cases})

    # ---- report -------------------------------------------------------------
    print("versions:", VERSIONS)
    print("\nfiles:")
    for k, v in sizes.items():
        print(f"  tests/golden/{k:24s} {v / 1e6:8.2f} MB")
    print(f"  total {sum(sizes.values()) / 1e6:.2f} MB")

    iou_r = 1 - results[("iou", "torchvision", json.dumps({"eps": 1e-7}))][0][:N_RANDOM]
    print(f"\nrandom pairs: IoU == 0 for {int((iou_r <= 0).sum())}, 0 < IoU <= 0.5 for "
          f"{int(((iou_r > 0) & (iou_r <= 0.5)).sum())}, IoU > 0.5 for {int((iou_r > 0.5).sum())}")
    print(f"\nnull counts (random rows of {N_RANDOM} | edge rows of {len(EDGE_CASES)}):")
    print(f"  {'case':38s} {'loss':>6s} {'grad':>6s} | {'loss':>5s} {'grad':>5s}")
    for fam, name, variant, params, lr, gr, le, ge, nel, neg in null_table:
        label = f"{name}/{variant} {json.dumps(params) if params else ''}"
        print(f"  {label[:38]:38s} {lr:6d} {gr:6d} | {le:5d} {ge:5d}")
        for w in nel:
            print(f"      loss+grad null: {w}")
        for w in neg:
            print(f"      grad null only: {w}")

    # ---- hand table -----------------------------------------------------------
    print("\nhand table check (tolerance 5e-7 = table rounding):")
    bad = 0
    for what, expected in HAND_TABLE.items():
        r = what_index[what]
        got = []
        for (name, variant), exp in zip(HAND_COLS, expected):
            key = next(k for k in results if k[0] == name and k[1] == variant)
            val = results[key][0][r].item()
            got.append(val)
            if not (abs(val - exp) <= 5e-7):
                bad += 1
                print(f"  MISMATCH {what}: {name}/{variant} got {val!r}, table {exp}")
        print(f"  {what[:46]:46s} " + " ".join(f"{g:.6f}" for g in got))
    print(f"  columns: {', '.join(n + '/' + v for n, v in HAND_COLS)}")
    print(f"  {'all agree' if bad == 0 else str(bad) + ' disagreements'}")

    # ---- library vs paper formula (information only) ------------------------
    paper = paper_losses(pred_np, target_np)
    print("\nmax |library - paper formula (no eps, ungated alpha)| over random rows "
          "(edge rows listed where > 1e-6):")
    for (name, variant, _), (loss, _g) in results.items():
        base = name.split("_")[0]
        if base not in paper or name in ("iou_log", "iou_square"):
            continue
        d = np.abs(loss.numpy() - paper[base])
        dr = np.nanmax(d[:N_RANDOM])
        print(f"  {name + '/' + variant:22s} random max {dr:.3e}  (argmax row {int(np.nanargmax(d[:N_RANDOM]))})")
        for k in range(len(EDGE_CASES)):
            x = d[N_RANDOM + k]
            if not (x <= 1e-6):
                print(f"      {EDGE_CASES[k][0][:52]:52s} lib {loss[N_RANDOM + k].item():.6g} "
                      f"paper {paper[base][N_RANDOM + k]:.6g}")
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
