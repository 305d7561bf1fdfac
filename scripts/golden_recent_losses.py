#!/usr/bin/env python3
"""Independent golden values for six newer box-regression losses of `detloss`:
Wise-IoU (v1/v2/v3), MPDIoU, Inner-IoU, Shape-IoU, Focaler-IoU and NWD.

Run through scripts/make_golden.sh (after golden_box_losses.py, whose inputs
this script reads).  Everything is float64 and the seed is fixed, so a rerun
with the same versions reproduces the file byte for byte.

Reads   tests/golden/box_pairs.json    (pred/target xyxy rows, never rewritten here)
Writes  tests/golden/box_recent.json   {generated_by, versions, seed, image_recipe,
        n_random, n_total, image: [[W, H], ...], wiou_running: {...},
        cases: [{spec, source, loss: [...], grad: [[4], ...]}]}

Each loss is written in torch following its authors' code operation for
operation (the note /work/notes/newer_losses.md quotes that code; each case's
`source` names repository, file and commit).  `spec` is the detloss spec
string.  For every case: the per-row loss and the autograd gradient
d loss_i / d pred_i in xyxy (pred.requires_grad_(), loss.sum().backward(); the
rows are independent, checked row by row below).  Where the authors' function
takes (cx, cy, w, h) the xyxy rows are converted inside the graph
(cx = (x1 + x2)/2, w = x2 - x1, ...), so the gradient is still w.r.t. xyxy.
A non-finite loss is null; a gradient with any non-finite component is null.

`image` holds one image size per row for MPDIoU's normaliser W^2 + H^2: W, H
are integers drawn uniformly in [lo, lo + 640] (numpy default_rng(IMAGE_SEED),
W for all rows first, then H), lo = ceil(max(64, largest x (resp. y)
coordinate of both boxes)), so the image contains both boxes wherever their
coordinates are positive.

`wiou_running` replays the Wise-IoU authors' running mean in train mode
(iou_mean starts at 1.0, momentum 0.01, updated BEFORE beta in each forward)
over 5 consecutive batches of 1000 random rows (0-999, ..., 4000-4999), with
v3 (alpha 1.9, delta 3): the mean after each forward and the batch's loss sum.

Gradient conventions are torch's (measured with torch 2.14.1): clamp(min=a)
and clamp(a, b) pass the gradient only strictly inside (0 at x == a or b);
relu gives 0 at 0; torch.max/min/maximum/minimum of two tensors split 1/2 : 1/2
at ties; abs gives 0 at 0; every `.detach()` / `no_grad` of the authors' code
is kept.  Gradients are written rounded to 12 significant digits (relative
error <= 5e-13, far inside the 1e-9 test tolerance) to keep the file under
~25 MB with all 28 cases; losses keep full repr precision.
"""
from __future__ import annotations

import json
import math
import platform
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from golden_box_losses import ul_bbox_iou  # noqa: E402  (ultralytics 8.4 transcription, for self-checks)

torch.set_default_dtype(torch.float64)
DT = torch.float64

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
GENERATED_BY = "scripts/golden_recent_losses.py"
IMAGE_SEED = 20240611
GRAD_DIGITS = 12

VERSIONS = {
    "python": platform.python_version(),
    "torch": torch.__version__,
    "numpy": np.__version__,
}

EPS = 1e-7  # the eps default of every ultralytics-style function below

# ----------------------------------------------------------------------------
# Sources
# ----------------------------------------------------------------------------
WIOU_SRC = ("Instinct323/wiou iou.py @02e30666a5801fa49387db451058c8ccd3fb3b35 "
            "IouLoss(ltype='WIoU'), pred/target xyxy, float64, no eps: "
            "L = exp(l2_center / l2_box.detach()) * (1 - s_inter/s_union), relu on the intersection wh")
MPD_UL_SRC = ("ultralytics-fork bbox_mpdiou(box1=pred, box2=target, xywh=False, mpdiou_hw=W^2+H^2, eps=1e-7) "
              "(stored index id 68657792520; no official MPDIoU repository): h = y2 - y1 + eps for both boxes, "
              "union = w1*h1 + w2*h2 - inter + eps, loss = 1 - MPDIoU")
MPD_PAPER_SRC = ("Ma & Xu, arXiv 2307.07662 (MPDIoU paper formula, no eps): "
                 "1 - I/U + (d1^2 + d2^2)/(W^2 + H^2), W, H = image size of the row")
INNER_CIOU_SRC = ("malagoutou/Inner-IoU innerciou.py @f684f1a6d206657455f0c6bd960af55cdb533999 "
                  "inner_ciou(box1=pred xywh, box2=target xywh, ratio, eps=1e-7); loss = 1 - returned value")
INNER_SIOU_SRC = ("malagoutou/Inner-IoU innersiou.py @056a0cb369e2dd04667a8ddb1fb34461d11fdd39 "
                  "inner_siou(box1=pred xywh, box2=target xywh, ratio, eps=1e-7); loss = 1 - returned value")
INNER_OTHER_SRC = ("malagoutou/Inner-IoU innerciou.py @f684f1a6d206657455f0c6bd960af55cdb533999 construction "
                   "(xywh input, union + eps, inner_union + eps, cw/ch of the ORIGINAL boxes), returning "
                   "inner_iou - penalty on the original boxes: ")
INNER_PAPER_SRC = ("Zhang, Xu, Zhang, arXiv 2311.02877 (Inner-IoU paper, no eps): L_Inner-CIoU = L_CIoU + IoU - "
                   "IoU_inner, L_CIoU = 1 - IoU + rho^2/c^2 + alpha*v, alpha = v/(1 - IoU + v) of the original "
                   "IoU (detached, 0 where 1 - IoU + v = 0)")
SHAPE_SRC = ("malagoutou/Shape-IoU shapeiou.py @6cc086ef3960783e0d782e3bdd77ce5ecd14bb02 "
             "shape_iou(box1=pred xywh, box2=target xywh, scale, eps=1e-7); loss = 1 - returned value")
SHAPE_PAPER_SRC = ("Zhang & Zhang, arXiv 2312.17663 (Shape-IoU), the authors' shapeiou.py formula "
                   "(@6cc086ef) without eps, on xyxy directly")
FOCALER_SRC = ("malagoutou/Focaler-IoU focaleriou.py @a0807cb7f709abc7271cf971aa072308b5f186d4: "
               "`iou = ((iou - d) / (u - d)).clamp(0, 1)` pasted after `iou = inter / union` in ultralytics "
               "8.4.190 ultralytics/utils/metrics.py bbox_iou(box1=pred, box2=target, xywh=False, eps=1e-7), "
               "so every penalty and CIoU's alpha see the remapped IoU; loss = 1 - returned value; base: ")
FOCALER_PAPER_SRC = ("Zhang & Zhang, arXiv 2401.10525 (Focaler-IoU paper, no eps): L = L_CIoU + IoU - IoU_f, "
                     "IoU_f = clamp((IoU - d)/(u - d), 0, 1), L_CIoU = 1 - IoU + rho^2/c^2 + alpha*v with alpha "
                     "from the ORIGINAL IoU (detached, 0 where 1 - IoU + v = 0)")
NWD_SRC = ("jwwangchn/NWD mmdet/models/losses/iou_loss.py @b8168016ec0ecc925cdc4346aff7869696508f83 "
           "wasserstein_loss(pred, target, eps=1e-6 (WassersteinLoss module default), mode='exp', constant=C)")
NWD_PAPER_SRC = ("Wang, Xu, Yang, Yu, arXiv 2110.13389 (NWD paper, no eps): "
                 "1 - exp(-sqrt(dc^2 + (dw^2 + dh^2)/4) / C)")
SIOU_TEXT = ("SIoU penalty as in innersiou.py @056a0cb3: s_cw = (b2_x1 + b2_x2 - b1_x1 - b1_x2)*0.5 + eps, "
             "s_ch likewise, sigma = (s_cw^2 + s_ch^2)^0.5, sin_alpha = where(|s_cw|/sigma > sqrt(2)/2, "
             "|s_ch|/sigma, |s_cw|/sigma), angle_cost = cos(2*arcsin(sin_alpha) - pi/2), gamma = angle_cost - 2, "
             "distance_cost = 2 - exp(gamma*(s_cw/cw)^2) - exp(gamma*(s_ch/ch)^2), shape_cost = "
             "sum (1 - exp(-|w1 - w2|/max(w1, w2)))^4 over w and h; value - 0.5*(distance_cost + shape_cost) "
             "(no trailing + eps)")
EIOU_TEXT = ("ultralytics-fork EIoU (index id 68657792520): value - (rho2/c2 + rho_w2/(cw^2 + eps) + "
             "rho_h2/(ch^2 + eps)), rho_w2 = (w2 - w1)^2, rho_h2 = (h2 - h1)^2")


# ----------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------
def xyxy_to_xywh(b):
    """(x1, y1, x2, y2) -> (cx, cy, w, h) inside the autograd graph."""
    x1, y1, x2, y2 = b.unbind(-1)
    return torch.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], -1)


def siou_penalty(b1_x1, b1_x2, b1_y1, b1_y2, b2_x1, b2_x2, b2_y1, b2_y2, w1, h1, w2, h2, cw, ch, eps):
    """The SIoU term of malagoutou/Inner-IoU innersiou.py @056a0cb3, operation
    for operation: returns 0.5 * (distance_cost + shape_cost)."""
    s_cw = (b2_x1 + b2_x2 - b1_x1 - b1_x2) * 0.5 + eps
    s_ch = (b2_y1 + b2_y2 - b1_y1 - b1_y2) * 0.5 + eps
    sigma = torch.pow(s_cw ** 2 + s_ch ** 2, 0.5)
    sin_alpha_1 = torch.abs(s_cw) / sigma
    sin_alpha_2 = torch.abs(s_ch) / sigma
    threshold = pow(2, 0.5) / 2
    sin_alpha = torch.where(sin_alpha_1 > threshold, sin_alpha_2, sin_alpha_1)
    angle_cost = torch.cos(torch.arcsin(sin_alpha) * 2 - math.pi / 2)
    rho_x = (s_cw / cw) ** 2
    rho_y = (s_ch / ch) ** 2
    gamma = angle_cost - 2
    distance_cost = 2 - torch.exp(gamma * rho_x) - torch.exp(gamma * rho_y)
    omiga_w = torch.abs(w1 - w2) / torch.max(w1, w2)
    omiga_h = torch.abs(h1 - h2) / torch.max(h1, h2)
    shape_cost = torch.pow(1 - torch.exp(-1 * omiga_w), 4) + torch.pow(1 - torch.exp(-1 * omiga_h), 4)
    return 0.5 * (distance_cost + shape_cost)


def paper_ciou_parts(p, t):
    """Plain xyxy geometry, no eps: IoU, rho^2/c^2, v (atan(w/h), GT first)."""
    px1, py1, px2, py2 = p.unbind(-1)
    tx1, ty1, tx2, ty2 = t.unbind(-1)
    iw = (torch.min(px2, tx2) - torch.max(px1, tx1)).clamp(0)
    ih = (torch.min(py2, ty2) - torch.max(py1, ty1)).clamp(0)
    inter = iw * ih
    w1, h1, w2, h2 = px2 - px1, py2 - py1, tx2 - tx1, ty2 - ty1
    union = w1 * h1 + w2 * h2 - inter
    iou = inter / union
    cw = torch.max(px2, tx2) - torch.min(px1, tx1)
    ch = torch.max(py2, ty2) - torch.min(py1, ty1)
    c2 = cw ** 2 + ch ** 2
    rho2 = ((tx1 + tx2 - px1 - px2) ** 2 + (ty1 + ty2 - py1 - py2) ** 2) / 4
    v = (4 / math.pi ** 2) * torch.pow(torch.atan(w2 / h2) - torch.atan(w1 / h1), 2)
    return iou, rho2 / c2, v


def paper_ciou_loss(p, t):
    iou, dist, v = paper_ciou_parts(p, t)
    with torch.no_grad():
        den = 1 - iou + v
        alpha = torch.where(den == 0, torch.zeros_like(v), v / den)
    return 1 - iou + dist + alpha * v, iou


# ----------------------------------------------------------------------------
# 1. Wise-IoU: Instinct323/wiou iou.py @02e30666 (IouLoss, ltype='WIoU')
# ----------------------------------------------------------------------------
def wiou_parts(pred, target):
    """The authors' `_fget` table for xyxy pred/target: returns (L_IoU, v1)."""
    pred_xy = (pred[..., :2] + pred[..., 2:4]) / 2
    pred_wh = pred[..., 2:4] - pred[..., :2]
    target_xy = (target[..., :2] + target[..., 2:4]) / 2
    target_wh = target[..., 2:4] - target[..., :2]
    min_coord = torch.minimum(pred[..., :4], target[..., :4])
    max_coord = torch.maximum(pred[..., :4], target[..., :4])
    wh_inter = torch.relu(min_coord[..., 2:4] - max_coord[..., :2])
    s_inter = torch.prod(wh_inter, dim=-1)
    s_union = torch.prod(pred_wh, dim=-1) + torch.prod(target_wh, dim=-1) - s_inter
    wh_box = max_coord[..., 2:4] - min_coord[..., :2]
    l2_box = torch.square(wh_box).sum(dim=-1)
    d_center = pred_xy - target_xy
    l2_center = torch.square(d_center).sum(dim=-1)
    iou = 1 - s_inter / s_union  # the authors' `iou` is the loss 1 - IoU
    dist = torch.exp(l2_center / l2_box.detach())  # _WIoU
    return iou, dist * iou


def wiou_scaled(loss, iou, iou_mean, monotonous, alpha=1.9, delta=3.0):
    """IouLoss._scaled_loss with beta = iou.detach() / iou_mean."""
    if monotonous is None:
        return loss
    beta = iou.detach() / iou_mean
    if monotonous:
        return loss * beta.sqrt()
    divisor = delta * torch.pow(alpha, beta - delta)
    return loss * (beta / divisor)


def wiou_loss(monotonous, mean=None, alpha=1.9, delta=3.0):
    def f(p, t, img):
        iou, v1 = wiou_parts(p, t)
        m = None if mean is None else torch.tensor(mean, dtype=DT)
        return wiou_scaled(v1, iou, m, monotonous, alpha, delta)
    return f


def wiou_running(pred, target, n_batches=5, batch=1000, momentum=1e-2, alpha=1.9, delta=3.0):
    """Train-mode forward of IouLoss(ltype='WIoU', monotonous=False) on
    consecutive batches: iou_mean.mul_(1 - m); iou_mean.add_(m * iou.mean())
    before _scaled_loss."""
    iou_mean = torch.tensor(1.0, dtype=DT)
    means, sums = [], []
    for k in range(n_batches):
        p, t = pred[k * batch:(k + 1) * batch], target[k * batch:(k + 1) * batch]
        iou, v1 = wiou_parts(p, t)
        iou_mean.mul_(1 - momentum)
        iou_mean.add_(momentum * iou.detach().mean())
        loss = wiou_scaled(v1, iou, iou_mean, False, alpha, delta)
        means.append(iou_mean.item())
        sums.append(loss.sum().item())
    return {"momentum": momentum, "initial_mean": 1.0, "alpha": alpha, "delta": delta,
            "batches": [[k * batch, (k + 1) * batch] for k in range(n_batches)],
            "mean": means, "loss_sum": sums,
            "source": WIOU_SRC + "; train mode, monotonous=False, iou_mean buffer float64, "
                                 "update (mul_(1 - m), add_(m * iou.detach().mean())) before beta"}


# ----------------------------------------------------------------------------
# 2. MPDIoU
# ----------------------------------------------------------------------------
def bbox_mpdiou(box1, box2, mpdiou_hw, eps=EPS):
    """ultralytics-fork bbox_mpdiou, xywh=False branch."""
    b1_x1, b1_y1, b1_x2, b1_y2 = box1.chunk(4, -1)
    b2_x1, b2_y1, b2_x2, b2_y2 = box2.chunk(4, -1)
    w1, h1 = b1_x2 - b1_x1, b1_y2 - b1_y1 + eps
    w2, h2 = b2_x2 - b2_x1, b2_y2 - b2_y1 + eps
    inter = (torch.min(b1_x2, b2_x2) - torch.max(b1_x1, b2_x1)).clamp(0) * \
            (torch.min(b1_y2, b2_y2) - torch.max(b1_y1, b2_y1)).clamp(0)
    union = w1 * h1 + w2 * h2 - inter + eps
    iou = inter / union
    d1 = (b2_x1 - b1_x1) ** 2 + (b2_y1 - b1_y1) ** 2
    d2 = (b2_x2 - b1_x2) ** 2 + (b2_y2 - b1_y2) ** 2
    return iou - d1 / mpdiou_hw - d2 / mpdiou_hw


def mpdiou_ultralytics(p, t, img):
    hw = (img[:, 0] ** 2 + img[:, 1] ** 2).unsqueeze(-1)
    return 1 - bbox_mpdiou(p, t, hw).squeeze(-1)


def mpdiou_paper(p, t, img):
    px1, py1, px2, py2 = p.unbind(-1)
    tx1, ty1, tx2, ty2 = t.unbind(-1)
    inter = (torch.min(px2, tx2) - torch.max(px1, tx1)).clamp(0) * \
            (torch.min(py2, ty2) - torch.max(py1, ty1)).clamp(0)
    union = (px2 - px1) * (py2 - py1) + (tx2 - tx1) * (ty2 - ty1) - inter
    d1 = (tx1 - px1) ** 2 + (ty1 - py1) ** 2
    d2 = (tx2 - px2) ** 2 + (ty2 - py2) ** 2
    hw = img[:, 0] ** 2 + img[:, 1] ** 2
    return 1 - inter / union + (d1 + d2) / hw


# ----------------------------------------------------------------------------
# 3. Inner-IoU: malagoutou/Inner-IoU innerciou.py / innersiou.py
# ----------------------------------------------------------------------------
def inner_authors(box1, box2, ratio, base, eps=EPS):
    """inner_ciou (innerciou.py @f684f1a6) / inner_siou (innersiou.py
    @056a0cb3) on (cx, cy, w, h) rows; base iou/giou/diou/eiou reuse the same
    inner IoU and swap the penalty (computed on the original boxes)."""
    (x1, y1, w1, h1), (x2, y2, w2, h2) = box1.chunk(4, -1), box2.chunk(4, -1)
    w1_, h1_, w2_, h2_ = w1 / 2, h1 / 2, w2 / 2, h2 / 2
    b1_x1, b1_x2, b1_y1, b1_y2 = x1 - w1_, x1 + w1_, y1 - h1_, y1 + h1_
    b2_x1, b2_x2, b2_y1, b2_y2 = x2 - w2_, x2 + w2_, y2 - h2_, y2 + h2_
    inter = (torch.min(b1_x2, b2_x2) - torch.max(b1_x1, b2_x1)).clamp(0) * \
            (torch.min(b1_y2, b2_y2) - torch.max(b1_y1, b2_y1)).clamp(0)
    union = w1 * h1 + w2 * h2 - inter + eps
    iou = inter / union
    inner_b1_x1, inner_b1_x2, inner_b1_y1, inner_b1_y2 = x1 - w1_ * ratio, x1 + w1_ * ratio, \
        y1 - h1_ * ratio, y1 + h1_ * ratio
    inner_b2_x1, inner_b2_x2, inner_b2_y1, inner_b2_y2 = x2 - w2_ * ratio, x2 + w2_ * ratio, \
        y2 - h2_ * ratio, y2 + h2_ * ratio
    inner_inter = (torch.min(inner_b1_x2, inner_b2_x2) - torch.max(inner_b1_x1, inner_b2_x1)).clamp(0) * \
                  (torch.min(inner_b1_y2, inner_b2_y2) - torch.max(inner_b1_y1, inner_b2_y1)).clamp(0)
    inner_union = w1 * ratio * h1 * ratio + w2 * ratio * h2 * ratio - inner_inter + eps
    inner_iou = inner_inter / inner_union
    if base == "iou":
        return inner_iou
    cw = torch.max(b1_x2, b2_x2) - torch.min(b1_x1, b2_x1)  # convex width
    ch = torch.max(b1_y2, b2_y2) - torch.min(b1_y1, b2_y1)  # convex height
    if base == "giou":
        c_area = cw * ch + eps
        return inner_iou - (c_area - union) / c_area
    if base == "siou":
        return inner_iou - siou_penalty(b1_x1, b1_x2, b1_y1, b1_y2, b2_x1, b2_x2, b2_y1, b2_y2,
                                        w1, h1, w2, h2, cw, ch, eps)
    c2 = cw ** 2 + ch ** 2 + eps  # convex diagonal squared
    rho2 = ((b2_x1 + b2_x2 - b1_x1 - b1_x2) ** 2 + (b2_y1 + b2_y2 - b1_y1 - b1_y2) ** 2) / 4
    if base == "diou":
        return inner_iou - rho2 / c2
    if base == "eiou":
        rho_w2 = (w1 - w2) ** 2
        rho_h2 = (h1 - h2) ** 2
        return inner_iou - (rho2 / c2 + rho_w2 / (cw ** 2 + eps) + rho_h2 / (ch ** 2 + eps))
    assert base == "ciou", base
    v = (4 / math.pi ** 2) * torch.pow(torch.atan(w2 / h2) - torch.atan(w1 / h1), 2)
    with torch.no_grad():
        alpha = v / (v - iou + (1 + eps))
    return inner_iou - (rho2 / c2 + v * alpha)


def inner_loss(ratio, base):
    def f(p, t, img):
        return 1 - inner_authors(xyxy_to_xywh(p), xyxy_to_xywh(t), ratio, base).squeeze(-1)
    return f


def inner_iou_paper(p, t, ratio):
    """IoU of the auxiliary boxes (centre kept, sides times ratio), no eps."""
    def inner(b):
        x1, y1, x2, y2 = b.unbind(-1)
        cx, cy, w, h = (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1
        return cx - w * ratio / 2, cy - h * ratio / 2, cx + w * ratio / 2, cy + h * ratio / 2, w, h
    px1, py1, px2, py2, pw, ph = inner(p)
    tx1, ty1, tx2, ty2, tw, th = inner(t)
    inter = (torch.min(px2, tx2) - torch.max(px1, tx1)).clamp(0) * \
            (torch.min(py2, ty2) - torch.max(py1, ty1)).clamp(0)
    union = pw * ph * ratio ** 2 + tw * th * ratio ** 2 - inter
    return inter / union


def inner_ciou_paper(ratio):
    def f(p, t, img):
        l_ciou, iou = paper_ciou_loss(p, t)
        return l_ciou + iou - inner_iou_paper(p, t, ratio)
    return f


# ----------------------------------------------------------------------------
# 4. Shape-IoU: malagoutou/Shape-IoU shapeiou.py @6cc086ef
# ----------------------------------------------------------------------------
def shape_iou(box1, box2, scale=0, eps=EPS):
    (x1, y1, w1, h1), (x2, y2, w2, h2) = box1.chunk(4, -1), box2.chunk(4, -1)
    w1_, h1_, w2_, h2_ = w1 / 2, h1 / 2, w2 / 2, h2 / 2
    b1_x1, b1_x2, b1_y1, b1_y2 = x1 - w1_, x1 + w1_, y1 - h1_, y1 + h1_
    b2_x1, b2_x2, b2_y1, b2_y2 = x2 - w2_, x2 + w2_, y2 - h2_, y2 + h2_
    inter = (torch.min(b1_x2, b2_x2) - torch.max(b1_x1, b2_x1)).clamp(0) * \
            (torch.min(b1_y2, b2_y2) - torch.max(b1_y1, b2_y1)).clamp(0)
    union = w1 * h1 + w2 * h2 - inter + eps
    iou = inter / union
    ww = 2 * torch.pow(w2, scale) / (torch.pow(w2, scale) + torch.pow(h2, scale))
    hh = 2 * torch.pow(h2, scale) / (torch.pow(w2, scale) + torch.pow(h2, scale))
    cw = torch.max(b1_x2, b2_x2) - torch.min(b1_x1, b2_x1)
    ch = torch.max(b1_y2, b2_y2) - torch.min(b1_y1, b2_y1)
    c2 = cw ** 2 + ch ** 2 + eps
    center_distance_x = ((b2_x1 + b2_x2 - b1_x1 - b1_x2) ** 2) / 4
    center_distance_y = ((b2_y1 + b2_y2 - b1_y1 - b1_y2) ** 2) / 4
    center_distance = hh * center_distance_x + ww * center_distance_y
    distance = center_distance / c2
    omiga_w = hh * torch.abs(w1 - w2) / torch.max(w1, w2)
    omiga_h = ww * torch.abs(h1 - h2) / torch.max(h1, h2)
    shape_cost = torch.pow(1 - torch.exp(-1 * omiga_w), 4) + torch.pow(1 - torch.exp(-1 * omiga_h), 4)
    iou = iou - distance - 0.5 * (shape_cost)
    return iou


def shape_loss(scale):
    def f(p, t, img):
        return 1 - shape_iou(xyxy_to_xywh(p), xyxy_to_xywh(t), scale).squeeze(-1)
    return f


def shape_paper(scale):
    def f(p, t, img):
        px1, py1, px2, py2 = p.unbind(-1)
        tx1, ty1, tx2, ty2 = t.unbind(-1)
        w1, h1, w2, h2 = px2 - px1, py2 - py1, tx2 - tx1, ty2 - ty1
        inter = (torch.min(px2, tx2) - torch.max(px1, tx1)).clamp(0) * \
                (torch.min(py2, ty2) - torch.max(py1, ty1)).clamp(0)
        iou = inter / (w1 * h1 + w2 * h2 - inter)
        ww = 2 * torch.pow(w2, scale) / (torch.pow(w2, scale) + torch.pow(h2, scale))
        hh = 2 * torch.pow(h2, scale) / (torch.pow(w2, scale) + torch.pow(h2, scale))
        cw = torch.max(px2, tx2) - torch.min(px1, tx1)
        ch = torch.max(py2, ty2) - torch.min(py1, ty1)
        dist = (hh * (tx1 + tx2 - px1 - px2) ** 2 / 4 + ww * (ty1 + ty2 - py1 - py2) ** 2 / 4) / (cw ** 2 + ch ** 2)
        om_w = hh * torch.abs(w1 - w2) / torch.max(w1, w2)
        om_h = ww * torch.abs(h1 - h2) / torch.max(h1, h2)
        shape = torch.pow(1 - torch.exp(-om_w), 4) + torch.pow(1 - torch.exp(-om_h), 4)
        return 1 - iou + dist + 0.5 * shape
    return f


# ----------------------------------------------------------------------------
# 5. Focaler-IoU: the authors' line inside ultralytics 8.4 bbox_iou (xyxy)
# ----------------------------------------------------------------------------
def focaler_bbox_iou(box1, box2, d, u, base, eps=EPS):
    """ul_bbox_iou (golden_box_losses.py, ultralytics 8.4.190) xywh=False
    branch with `iou = ((iou - d) / (u - d)).clamp(0, 1)` right after
    `iou = inter / union`; plus the fork's EIoU and innersiou's SIoU."""
    b1_x1, b1_y1, b1_x2, b1_y2 = box1.chunk(4, -1)
    b2_x1, b2_y1, b2_x2, b2_y2 = box2.chunk(4, -1)
    w1, h1 = b1_x2 - b1_x1, b1_y2 - b1_y1 + eps
    w2, h2 = b2_x2 - b2_x1, b2_y2 - b2_y1 + eps
    inter = (b1_x2.minimum(b2_x2) - b1_x1.maximum(b2_x1)).clamp_(0) * (
        b1_y2.minimum(b2_y2) - b1_y1.maximum(b2_y1)
    ).clamp_(0)
    union = w1 * h1 + w2 * h2 - inter + eps
    iou = inter / union
    iou = ((iou - d) / (u - d)).clamp(0, 1)  # Focaler-IoU (authors' line)
    if base == "iou":
        return iou
    cw = b1_x2.maximum(b2_x2) - b1_x1.minimum(b2_x1)
    ch = b1_y2.maximum(b2_y2) - b1_y1.minimum(b2_y1)
    if base == "giou":
        c_area = cw * ch + eps
        return iou - (c_area - union) / c_area
    if base == "siou":
        return iou - siou_penalty(b1_x1, b1_x2, b1_y1, b1_y2, b2_x1, b2_x2, b2_y1, b2_y2,
                                  w1, h1, w2, h2, cw, ch, eps)
    c2 = cw.pow(2) + ch.pow(2) + eps
    rho2 = ((b2_x1 + b2_x2 - b1_x1 - b1_x2).pow(2) + (b2_y1 + b2_y2 - b1_y1 - b1_y2).pow(2)) / 4
    if base == "diou":
        return iou - rho2 / c2
    if base == "eiou":
        rho_w2 = ((b2_x2 - b2_x1) - (b1_x2 - b1_x1)) ** 2
        rho_h2 = ((b2_y2 - b2_y1) - (b1_y2 - b1_y1)) ** 2
        cw2 = cw ** 2 + eps
        ch2 = ch ** 2 + eps
        return iou - (rho2 / c2 + rho_w2 / cw2 + rho_h2 / ch2)
    assert base == "ciou", base
    v = (4 / math.pi**2) * ((w2 / h2).atan() - (w1 / h1).atan()).pow(2)
    with torch.no_grad():
        alpha = v / (1 - iou + v + eps)
    return iou - (rho2 / c2 + v * alpha)


def focaler_loss(d, u, base):
    def f(p, t, img):
        return 1 - focaler_bbox_iou(p, t, d, u, base).squeeze(-1)
    return f


def focaler_ciou_paper(d, u):
    def f(p, t, img):
        l_ciou, iou = paper_ciou_loss(p, t)
        iou_f = ((iou - d) / (u - d)).clamp(0, 1)
        return l_ciou + iou - iou_f
    return f


# ----------------------------------------------------------------------------
# 6. NWD: jwwangchn/NWD wasserstein_loss @b8168016 (mode 'exp')
# ----------------------------------------------------------------------------
def wasserstein_loss(pred, target, eps=1e-6, constant=12.8):
    center1 = (pred[:, :2] + pred[:, 2:]) / 2
    center2 = (target[:, :2] + target[:, 2:]) / 2
    whs = center1[:, :2] - center2[:, :2]
    center_distance = whs[:, 0] * whs[:, 0] + whs[:, 1] * whs[:, 1] + eps
    w1 = pred[:, 2] - pred[:, 0] + eps
    h1 = pred[:, 3] - pred[:, 1] + eps
    w2 = target[:, 2] - target[:, 0] + eps
    h2 = target[:, 3] - target[:, 1] + eps
    wh_distance = ((w1 - w2) ** 2 + (h1 - h2) ** 2) / 4
    wasserstein_2 = center_distance + wh_distance
    normalized_wasserstein = torch.exp(-torch.sqrt(wasserstein_2) / constant)
    return 1 - normalized_wasserstein


def nwd_paper(constant):
    def f(p, t, img):
        dc = (p[:, :2] + p[:, 2:]) / 2 - (t[:, :2] + t[:, 2:]) / 2
        dwh = (p[:, 2:] - p[:, :2]) - (t[:, 2:] - t[:, :2])
        w2 = (dc ** 2).sum(-1) + (dwh ** 2).sum(-1) / 4
        return 1 - torch.exp(-torch.sqrt(w2) / constant)
    return f


# ----------------------------------------------------------------------------
# Case table: (detloss spec, source, fn(pred, target, image))
# ----------------------------------------------------------------------------
def cases():
    out = [
        ("wiou(version=1)", WIOU_SRC + "; monotonous=None", wiou_loss(None)),
        ("wiou(version=2, mean=0.6)",
         WIOU_SRC + "; monotonous=True, eval mode, iou_mean = 0.6: L_v1 * sqrt(L_IoU.detach()/0.6)",
         wiou_loss(True, 0.6)),
        ("wiou(version=3, mean=0.6)",
         WIOU_SRC + "; monotonous=False, alpha=1.9, delta=3, eval mode, iou_mean = 0.6: "
                    "L_v1 * beta/(delta*alpha**(beta - delta)), beta = L_IoU.detach()/0.6",
         wiou_loss(False, 0.6)),
        ("wiou(version=3, alpha=1.7, delta=2.7, mean=0.35)",
         WIOU_SRC + "; monotonous=False, alpha=1.7, delta=2.7 (class attributes overridden), eval mode, "
                    "iou_mean = 0.35",
         wiou_loss(False, 0.35, 1.7, 2.7)),
        ("mpdiou(variant=ultralytics)", MPD_UL_SRC, mpdiou_ultralytics),
        ("mpdiou(variant=paper)", MPD_PAPER_SRC, mpdiou_paper),
        ("inner_iou(ratio=0.75, base=ciou, variant=authors)", INNER_CIOU_SRC + ", ratio=0.75", inner_loss(0.75, "ciou")),
        ("inner_iou(ratio=1.25, base=ciou, variant=authors)", INNER_CIOU_SRC + ", ratio=1.25", inner_loss(1.25, "ciou")),
        ("inner_iou(ratio=0.75, base=siou, variant=authors)", INNER_SIOU_SRC + ", ratio=0.75; " + SIOU_TEXT,
         inner_loss(0.75, "siou")),
        ("inner_iou(ratio=0.75, base=iou, variant=authors)", INNER_OTHER_SRC + "iou: no penalty; ratio=0.75",
         inner_loss(0.75, "iou")),
        ("inner_iou(ratio=0.75, base=giou, variant=authors)",
         INNER_OTHER_SRC + "giou: c_area = cw*ch + eps; (c_area - union)/c_area (union + eps); ratio=0.75",
         inner_loss(0.75, "giou")),
        ("inner_iou(ratio=0.75, base=diou, variant=authors)",
         INNER_OTHER_SRC + "diou: rho2/c2, c2 = cw^2 + ch^2 + eps; ratio=0.75", inner_loss(0.75, "diou")),
        ("inner_iou(ratio=0.75, base=eiou, variant=authors)",
         INNER_OTHER_SRC + "eiou: " + EIOU_TEXT + " (w, h of the xywh input); ratio=0.75",
         inner_loss(0.75, "eiou")),
        ("inner_iou(ratio=0.75, base=ciou, variant=paper)", INNER_PAPER_SRC + ", ratio=0.75", inner_ciou_paper(0.75)),
        ("shape_iou(scale=0, variant=authors)", SHAPE_SRC + ", scale=0", shape_loss(0)),
        ("shape_iou(scale=0.5, variant=authors)", SHAPE_SRC + ", scale=0.5", shape_loss(0.5)),
        ("shape_iou(scale=0, variant=paper)", SHAPE_PAPER_SRC + ", scale=0", shape_paper(0)),
    ]
    for base in ["iou", "giou", "diou", "ciou", "siou", "eiou"]:
        extra = {"iou": "IoU (returns the remapped iou)", "giou": "GIoU", "diou": "DIoU",
                 "ciou": "CIoU (alpha = v/(1 - iou_f + v + eps) under no_grad)",
                 "siou": SIOU_TEXT + " on the xyxy branch's w, h (h + eps)", "eiou": EIOU_TEXT}[base]
        out.append((f"focaler_iou(d=0, u=0.95, base={base}, variant=authors)",
                    FOCALER_SRC + extra + "; d=0, u=0.95", focaler_loss(0.0, 0.95, base)))
    out += [
        ("focaler_iou(d=0.2, u=0.8, base=ciou, variant=authors)",
         FOCALER_SRC + "CIoU (alpha = v/(1 - iou_f + v + eps) under no_grad); d=0.2, u=0.8",
         focaler_loss(0.2, 0.8, "ciou")),
        ("focaler_iou(d=0, u=0.95, base=ciou, variant=paper)", FOCALER_PAPER_SRC + "; d=0, u=0.95",
         focaler_ciou_paper(0.0, 0.95)),
        ("nwd(c=12.8, variant=authors)", NWD_SRC.replace("constant=C", "constant=12.8"),
         lambda p, t, img: wasserstein_loss(p, t, eps=1e-6, constant=12.8)),
        ("nwd(c=4, variant=authors)", NWD_SRC.replace("constant=C", "constant=4"),
         lambda p, t, img: wasserstein_loss(p, t, eps=1e-6, constant=4.0)),
        ("nwd(c=12.8, variant=paper)", NWD_PAPER_SRC + ", C = 12.8", nwd_paper(12.8)),
    ]
    return out


# ----------------------------------------------------------------------------
# machinery (as golden_box_losses.py)
# ----------------------------------------------------------------------------
def loss_and_grad(fn, pred, target, img):
    p = pred.detach().clone().requires_grad_()
    t = target.detach().clone()
    loss = fn(p, t, img)
    assert loss.shape == (pred.shape[0],), loss.shape
    assert loss.dtype == DT, loss.dtype
    loss.sum().backward()
    grad = p.grad if p.grad is not None else torch.zeros_like(p)
    return loss.detach(), grad.detach()


def round_sig(x: float, digits: int) -> float:
    return float(f"{x:.{digits - 1}e}")


def to_json_lists(loss, grad):
    lf = torch.isfinite(loss)
    gf = torch.isfinite(grad).all(-1)
    loss_l = [v if ok else None for v, ok in zip(loss.tolist(), lf.tolist())]
    grad_l = [[round_sig(x, GRAD_DIGITS) for x in g] if ok else None for g, ok in zip(grad.tolist(), gf.tolist())]
    return loss_l, grad_l


def close(a, b, rtol=1e-13, atol=1e-300):
    both_nan = torch.isnan(a) & torch.isnan(b)
    same = (a == b) | both_nan | ((a - b).abs() <= atol + rtol * b.abs())
    return bool(same.all())


def maxdiff(a, b):
    d = (a - b).abs()
    d = d[torch.isfinite(d)]
    return d.max().item() if d.numel() else 0.0


def main() -> int:
    pairs = json.loads((GOLDEN / "box_pairs.json").read_text())
    pred_np = np.array(pairs["pred"], dtype=np.float64)
    target_np = np.array(pairs["target"], dtype=np.float64)
    n_random, n_total = pairs["n_random"], pairs["n_total"]
    assert pred_np.shape == (n_total, 4) and target_np.shape == (n_total, 4)
    edge_what = {e["index"]: e["what"] for e in pairs["edge_cases"]}

    # image sizes
    rng = np.random.default_rng(IMAGE_SEED)
    lo_w = np.ceil(np.maximum(64.0, np.max(np.concatenate([pred_np[:, 0::2], target_np[:, 0::2]], 1), 1)))
    lo_h = np.ceil(np.maximum(64.0, np.max(np.concatenate([pred_np[:, 1::2], target_np[:, 1::2]], 1), 1)))
    img_w = rng.integers(lo_w.astype(np.int64), lo_w.astype(np.int64) + 640, endpoint=True)
    img_h = rng.integers(lo_h.astype(np.int64), lo_h.astype(np.int64) + 640, endpoint=True)
    image_np = np.stack([img_w, img_h], 1).astype(np.float64)

    pred = torch.from_numpy(pred_np)
    target = torch.from_numpy(target_np)
    image = torch.from_numpy(image_np)

    rng_rows = np.random.default_rng(IMAGE_SEED + 1)
    check_rows = list(range(n_random, n_total)) + sorted(rng_rows.choice(n_random, 200, replace=False).tolist())

    results, out_cases, null_table, single_warn = {}, [], [], 0
    for spec, source, fn in cases():
        loss, grad = loss_and_grad(fn, pred, target, image)
        for r in check_rows:
            l1, g1 = loss_and_grad(fn, pred[r:r + 1], target[r:r + 1], image[r:r + 1])
            if not (close(l1, loss[r:r + 1]) and close(g1, grad[r:r + 1])):
                single_warn += 1
                print(f"WARNING {spec}: row {r} differs single vs batch: {l1.tolist()} {loss[r].item()} "
                      f"{g1.tolist()} {grad[r].tolist()}", file=sys.stderr)
        results[spec] = (loss, grad)
        loss_l, grad_l = to_json_lists(loss, grad)
        nel = [edge_what[i] for i in range(n_random, n_total) if loss_l[i] is None]
        neg = [edge_what[i] for i in range(n_random, n_total) if grad_l[i] is None and loss_l[i] is not None]
        null_table.append((spec, sum(v is None for v in loss_l[:n_random]), sum(v is None for v in grad_l[:n_random]),
                           sum(v is None for v in loss_l[n_random:]), sum(v is None for v in grad_l[n_random:]),
                           nel, neg))
        out_cases.append({"spec": spec, "source": source, "loss": loss_l, "grad": grad_l})

    running = wiou_running(pred[:n_random], target[:n_random])

    doc = {
        "generated_by": GENERATED_BY,
        "versions": VERSIONS,
        "inputs": "tests/golden/box_pairs.json (pred, target xyxy; edge_cases[].what)",
        "seed": IMAGE_SEED,
        "image_recipe": "numpy default_rng(seed); per row lo = ceil(max(64, largest x (y) coordinate of pred and "
                        "target)); W = integers(lo_w, lo_w + 640, endpoint=True) for all rows, then H likewise",
        "grad_note": f"gradients d loss_i / d pred_i (xyxy), rounded to {GRAD_DIGITS} significant digits; "
                     "losses in full precision; null = non-finite",
        "n_random": n_random,
        "n_total": n_total,
        "image": image_np.astype(np.int64).tolist(),
        "wiou_running": running,
        "cases": out_cases,
    }
    text = json.dumps(doc, separators=(",", ":"), allow_nan=False)
    (GOLDEN / "box_recent.json").write_text(text + "\n")
    size = (GOLDEN / "box_recent.json").stat().st_size

    # ---- report -------------------------------------------------------------
    print("versions:", VERSIONS)
    print(f"tests/golden/box_recent.json {size / 1e6:.2f} MB, {len(out_cases)} cases")
    print(f"single-row vs batch: {'all agree (rtol 1e-13)' if single_warn == 0 else str(single_warn) + ' rows differ'}"
          f" on {len(check_rows)} rows per case")
    print(f"\nnull counts (random rows of {n_random} | edge rows of {n_total - n_random}):")
    print(f"  {'case':56s} {'loss':>5s} {'grad':>5s} | {'loss':>5s} {'grad':>5s}")
    for spec, lr, gr, le, ge, nel, neg in null_table:
        print(f"  {spec:56s} {lr:5d} {gr:5d} | {le:5d} {ge:5d}")
        for w in nel:
            print(f"      loss+grad null: {w}")
        for w in neg:
            print(f"      grad null only: {w}")

    print("\nwiou_running (momentum 0.01, v3 alpha 1.9 delta 3):")
    for k in range(5):
        print(f"  batch {k}: mean {running['mean'][k]!r}  loss sum {running['loss_sum'][k]!r}")

    # ---- self-checks ----------------------------------------------------------
    bad = 0
    print("\nself-check: inner_iou(ratio=1, authors) == ultralytics bbox_iou(xywh=True) on the same xywh rows")
    for base, flags in [("ciou", dict(CIoU=True)), ("diou", dict(DIoU=True)), ("giou", dict(GIoU=True)),
                        ("iou", {})]:
        fa = inner_loss(1.0, base)
        fb = (lambda fl: lambda p, t, img: 1 - ul_bbox_iou(xyxy_to_xywh(p), xyxy_to_xywh(t), xywh=True, eps=EPS,
                                                              **fl).squeeze(-1))(flags)
        la, ga = loss_and_grad(fa, pred, target, image)
        lb, gb = loss_and_grad(fb, pred, target, image)
        dl, dg = maxdiff(la, lb), maxdiff(ga, gb)
        nan_same = bool((torch.isnan(la) == torch.isnan(lb)).all())
        ok = dl <= 1e-15 and nan_same
        bad += not ok
        print(f"  {base:5s} max |dloss| {dl:.3e}  max |dgrad| {dg:.3e}  NaN pattern same: {nan_same}  "
              f"{'OK' if ok else 'FAIL'}")

    print("\nself-check: focaler_iou(d=0, u=1, authors) == ultralytics 8.4 bbox_iou(xywh=False) loss")
    for base, flags in [("iou", {}), ("giou", dict(GIoU=True)), ("diou", dict(DIoU=True)), ("ciou", dict(CIoU=True))]:
        fa = focaler_loss(0.0, 1.0, base)
        fb = (lambda fl: lambda p, t, img: 1 - ul_bbox_iou(p, t, xywh=False, eps=EPS, **fl).squeeze(-1))(flags)
        la, ga = loss_and_grad(fa, pred, target, image)
        lb, gb = loss_and_grad(fb, pred, target, image)
        keep = torch.ones(n_total, dtype=torch.bool)
        dl, dg = maxdiff(la[keep], lb[keep]), maxdiff(ga[keep], gb[keep])
        ok = dl <= 1e-15
        bad += not ok
        print(f"  {base:5s} max |dloss| {dl:.3e}  max |dgrad| {dg:.3e}  {'OK' if ok else 'FAIL'}")

    print("\nself-check: paper vs authors, max |dloss| over the random rows (and max |dgrad|):")
    for a, b in [("mpdiou(variant=ultralytics)", "mpdiou(variant=paper)"),
                 ("inner_iou(ratio=0.75, base=ciou, variant=authors)", "inner_iou(ratio=0.75, base=ciou, variant=paper)"),
                 ("shape_iou(scale=0, variant=authors)", "shape_iou(scale=0, variant=paper)"),
                 ("focaler_iou(d=0, u=0.95, base=ciou, variant=authors)",
                  "focaler_iou(d=0, u=0.95, base=ciou, variant=paper)"),
                 ("nwd(c=12.8, variant=authors)", "nwd(c=12.8, variant=paper)")]:
        la, ga = results[a]
        lb, gb = results[b]
        dl = (la[:n_random] - lb[:n_random]).abs()
        dg = (ga[:n_random] - gb[:n_random]).abs()
        print(f"  {b.split('(')[0]:12s} loss {maxdiff(la[:n_random], lb[:n_random]):.3e} "
              f"(row {int(torch.nan_to_num(dl, 0).argmax())})  grad {maxdiff(ga[:n_random], gb[:n_random]):.3e}  "
              f"rows with |dloss| > 1e-6: {int((dl > 1e-6).sum())}")
    # Focaler CIoU: the authors' alpha sees IoU_f, the paper's the original IoU; isolate that.
    fa = focaler_ciou_paper(0.0, 0.95)
    la, _ = results["focaler_iou(d=0, u=0.95, base=ciou, variant=authors)"]
    _, iou_o = paper_ciou_loss(pred, target)
    iou_f = (iou_o / 0.95).clamp(0, 1)
    _, _, v = paper_ciou_parts(pred, target)
    with torch.no_grad():
        alpha_o = torch.where(1 - iou_o + v == 0, torch.zeros_like(v), v / (1 - iou_o + v))
        alpha_f = torch.where(1 - iou_f + v == 0, torch.zeros_like(v), v / (1 - iou_f + v))
    lb, _ = loss_and_grad(fa, pred, target, image)
    adj = lb + (alpha_f - alpha_o) * v
    dl = (la[:n_random] - adj[:n_random]).abs()
    print(f"  focaler ciou, paper with its alpha swapped for alpha(IoU_f): loss {maxdiff(la[:n_random], adj[:n_random]):.3e}")
    print(f"\nself-checks: {'all OK' if bad == 0 else str(bad) + ' FAILED'}")
    return 0 if bad == 0 and single_warn == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
