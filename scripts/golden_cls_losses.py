#!/usr/bin/env python3
"""Independent golden values for the classification losses of `detloss`.

Run through scripts/make_golden.sh (it builds the venv with torch 2.14.1 +
torchvision 0.29.2), or directly:
    .venv-golden/bin/python scripts/golden_cls_losses.py
Everything is float64 and the seed is fixed, so a rerun with the same
versions reproduces the files byte for byte.

Writes (compact JSON, floats in Python repr precision, non-finite -> null):
  tests/golden/cls_elementwise.json  N = 4,000 logits (3,912 random + an
        88-row edge grid), binary and soft targets; sigmoid/margin losses
        bce, focal, qfl, vfl, logistic, hinge, exponential.
  tests/golden/cls_softmax.json      R = 1,000 rows x C = 10 logits, class ids
        (50 ignored = -100), teacher logits; ce, kd (Hinton T=4, T=1 and the
        mmdet form T=10); plus dfl_logits (R x 17) / dfl_target for dfl.

For every case: per-element (per-row) loss with reduction none and the
autograd gradient d loss_i / d logits_i (a scalar per element, or C values per
row), from logits.requires_grad_() and loss.sum().backward() over the batch
(rows are independent; checked against one-row-at-a-time evaluation).  A
non-finite loss is written as null; a gradient with a non-finite component is
written as null (loss and grad judged separately).

mmdet 3.3.0 is not importable here (needs mmcv): quality_focal_loss,
varifocal_loss, knowledge_distillation_kl_div_loss and distribution_focal_loss
are transcribed below from mmdet/models/losses/{gfocal_loss,varifocal_loss,
kd_loss}.py of mmdet-3.3.0-py3-none-any.whl.
    .venv-golden/bin/python scripts/golden_cls_losses.py --crosscheck
(or CROSSCHECK=1 bash scripts/make_golden.sh) downloads that wheel (no deps),
execs the four functions from its source and requires loss and grad to be
identical, bit for bit, to the files written here.  It writes nothing.

What mmdet 3.3.0 detaches (the Rust side must match):
  * QFL: nothing.  The modulating factor sigmoid(x)^beta (negatives) /
    |y - sigmoid(x)|^beta (positives) carries gradient.
  * VFL: nothing.  focal_weight = q*[q>0] + alpha*|sigmoid(x) - q|^gamma*[q<=0]
    is built from pred.sigmoid() without .detach(), so the negatives'
    alpha*sigmoid(x)^gamma carries gradient (the positives' weight q is a
    constant anyway).
  * KD: only the teacher: target = softmax(soft_label / T) is .detach()ed
    (detach_target=True, the default, not exposed by the module).
  torchvision sigmoid_focal_loss: nothing detached either.

Gradient conventions that are torch's (the Rust side must know them):
  * |d| at d == 0: gradient 0 (QFL when y == sigmoid(x) exactly).
  * clamp(z, min=0) at z == 0: gradient 0 (hinge at the kink y*f == 1).
  * u ** 0 (focal gamma = 0): gradient exactly 0, even where u == 0.
  * u ** 0.5 at u == 0 (focal gamma = 0.5, saturated logits): d/du = inf and
    inf * 0 = nan, so those grads are null (torchvision's real behaviour).
  * F.soft_margin_loss = log1p(exp(-y*f)) is NOT overflow-safe: loss inf and
    grad nan for y*f = -1e4 (null); BCE-with-logits with the same binary
    targets is the same function computed stably (the `bce` binary case).

Accuracy of torch's own BCE-with-logits (found while writing this; compare
with an absolute floor, as tests/golden_box.rs does with max(|a|,|b|,1)):
    torch computes (1 - y)*x - log_sigmoid(x).  For x << 0 and y = 0 the two
    terms cancel: at x = -30, y = 0 the true loss log1p(e^-30) = 9.3576e-14
    comes out as 9.2371e-14 (1.3 % relative, ~ulp(30) absolute), and at
    x = -80, y = 0 it is exactly 0 (true 1.8e-35).  (x >> 0 with y = 1 is
    accurate: -log_sigmoid(x) = log1p(e^-x).)  The error is ~1e-16*|x|
    absolute, not relative.
    Every case built on BCE-with-logits (bce, focal, qfl, vfl) inherits it.
    The script prints the max abs/rel error of the bce binary case against an
    mpmath (50 digit) evaluation.
The batched and the one-row evaluations of torch differ in the last bit for a
few rows (vectorised vs scalar exp/log/pow kernels); they are checked to
rtol 1e-13 and the batched values are written.
"""
from __future__ import annotations

import argparse
import ast
import json
import math
import platform
import subprocess
import sys
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from torchvision.ops import sigmoid_focal_loss

torch.set_default_dtype(torch.float64)
DT = torch.float64

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "golden"
GENERATED_BY = "scripts/golden_cls_losses.py"
SEED = 20240611

N_TOTAL = 4_000
R = 1_000
C = 10
REG_MAX = 16
N_IGNORED = 49  # + 1 structured ignored row = 50 rows with target -100
IGNORE = -100

MMDET_VERSION = "3.3.0"  # source read from mmdet-3.3.0-py3-none-any.whl

VERSIONS = {
    "python": platform.python_version(),
    "torch": torch.__version__,
    "torchvision": torchvision.__version__,
    "numpy": np.__version__,
    "mmdet_source": MMDET_VERSION,
}

# ----------------------------------------------------------------------------
# Inputs: element-wise
# ----------------------------------------------------------------------------
# 11 x 2 x 4 = 88 edge rows at the end: every logit with every
# (binary, soft) pair, logit-major, then binary, then soft.
EDGE_LOGITS = [0.0, 1.0, -1.0, 2.0, -2.0, 30.0, -30.0, 80.0, -80.0, 1e4, -1e4]
EDGE_BINARY = [0, 1]
EDGE_SOFT = [0.0, 1.0, 0.5, 0.8]
N_EDGE = len(EDGE_LOGITS) * len(EDGE_BINARY) * len(EDGE_SOFT)
N_RANDOM = N_TOTAL - N_EDGE
ELEM_RECIPE = (
    "numpy default_rng(seed), random values rounded to 15 significant digits: rows 0..n_random-1: logits ~ N(0, 3) (std 3); target_binary ~ "
    "Bernoulli(0.5) (ints 0/1); target_soft: u ~ U(0,1), then with prob 0.5 exactly 0, with prob 0.05 "
    "exactly 1, else u.  Rows n_random..n-1: edge grid, every logit in edge_grid.logits x binary in "
    "edge_grid.binary x soft in edge_grid.soft, logit-major (row = n_random + (i_logit*2 + i_binary)*4 "
    "+ i_soft)."
)


def short(a: np.ndarray) -> np.ndarray:
    """Round to 15 significant digits.  serde_json 1.0 without the
    `float_roundtrip` feature misreads ~10 % of 17-digit reprs by 1 ulp, but
    a decimal with <= 15 significant digits (and a small exponent) it reads
    exactly, so the Rust side sees bit-for-bit the inputs torch saw."""
    return np.array([float(f"{v:.15g}") for v in np.asarray(a, dtype=np.float64).ravel()]).reshape(np.shape(a))


def elementwise_inputs(seed: int):
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 3.0, N_RANDOM)
    tb = rng.integers(0, 2, N_RANDOM)
    u = rng.uniform(0.0, 1.0, N_RANDOM)
    kind = rng.uniform(0.0, 1.0, N_RANDOM)
    ts = np.where(kind < 0.5, 0.0, np.where(kind < 0.55, 1.0, u))
    x, ts = short(x), short(ts)
    ex, eb, es = [], [], []
    for xv in EDGE_LOGITS:
        for bv in EDGE_BINARY:
            for sv in EDGE_SOFT:
                ex.append(xv)
                eb.append(bv)
                es.append(sv)
    x = np.concatenate([x, np.array(ex)])
    tb = np.concatenate([tb, np.array(eb)]).astype(np.int64)
    ts = np.concatenate([ts, np.array(es)])
    return x, tb, ts


def edge_row(x: float, b: int, s: float) -> int:
    return N_RANDOM + (EDGE_LOGITS.index(x) * len(EDGE_BINARY) + EDGE_BINARY.index(b)) * len(EDGE_SOFT) \
        + EDGE_SOFT.index(s)


# ----------------------------------------------------------------------------
# Inputs: softmax
# ----------------------------------------------------------------------------
SOFTMAX_RECIPE = (
    "numpy default_rng(seed+1), random values rounded to 15 significant digits: rows 0..899 logits and teacher_logits ~ N(0, 3) (std 3); rows 900..929 "
    "~ N(0, 30); rows 930..959 ~ N(0, 80); rows 960..999 structured (listed in softmax_special_rows; "
    "the unlisted ones are further N(0, 3) rows with random targets); target ~ U{0..9} for random rows, then 49 distinct rows drawn from 0..959 set to -100 (ignored), plus one "
    "structured ignored row (50 ignored rows in all, listed in ignored_rows).  dfl: "
    "dfl_logits rows ~ N(0, 3), rows 900..929 ~ N(0, 30); dfl_target ~ U[0, 16) for rows "
    "0..R-len(dfl_special_targets)-1, the remaining rows take dfl_special_targets in order."
)


def softmax_inputs(seed: int):
    rng = np.random.default_rng(seed + 1)
    x = rng.normal(0.0, 3.0, (R, C))
    t = rng.normal(0.0, 3.0, (R, C))
    x[900:930] = rng.normal(0.0, 30.0, (30, C))
    t[900:930] = rng.normal(0.0, 30.0, (30, C))
    x[930:960] = rng.normal(0.0, 80.0, (30, C))
    t[930:960] = rng.normal(0.0, 80.0, (30, C))
    y = rng.integers(0, C, R)
    x, t = short(x), short(t)
    ignored = np.sort(rng.choice(960, N_IGNORED, replace=False))
    y[ignored] = IGNORE

    special = []  # (what, student row, teacher row, target)
    ar = np.arange(C, dtype=np.float64)
    onehot = lambda k, v: np.where(ar == k, v, 0.0)  # noqa: E731
    special += [
        ("all logits 0 (uniform softmax), teacher all 0", np.zeros(C), np.zeros(C), 3),
        ("all logits 80 (uniform), teacher all -80", np.full(C, 80.0), np.full(C, -80.0), 0),
        ("target logit +80, rest 0; teacher the same", onehot(2, 80.0), onehot(2, 80.0), 2),
        ("target logit -80, rest 0; teacher target +80", onehot(5, -80.0), onehot(5, 80.0), 5),
        ("non-target logit +80, rest 0; teacher uniform", onehot(7, 80.0), np.zeros(C), 1),
        ("target logit +30, rest -30; teacher reversed", np.where(ar == 4, 30.0, -30.0),
         np.where(ar == 4, -30.0, 30.0), 4),
        ("alternating +-30; teacher alternating -+30", np.where(ar % 2 == 0, 30.0, -30.0),
         np.where(ar % 2 == 0, -30.0, 30.0), 9),
        ("alternating +-80; teacher = student", np.where(ar % 2 == 0, 80.0, -80.0),
         np.where(ar % 2 == 0, 80.0, -80.0), 0),
        ("ramp -80..80 (linspace); teacher ramp reversed", np.linspace(-80.0, 80.0, C),
         np.linspace(80.0, -80.0, C), 9),
        ("ramp -80..80 (linspace), target = lowest; teacher ramp", np.linspace(-80.0, 80.0, C),
         np.linspace(-80.0, 80.0, C), 0),
        ("two tied maxima at 30, rest 0; teacher 0 with one 30", np.where(ar < 2, 30.0, 0.0), onehot(0, 30.0), 1),
        ("one logit 1e4, rest 0; teacher one logit 1e4 elsewhere", onehot(3, 1e4), onehot(6, 1e4), 6),
        ("one logit -1e4, rest 0; teacher all 0", onehot(3, -1e4), np.zeros(C), 3),
        ("student = teacher (N(0,3) row)", None, None, 8),
        ("ignored row (-100), logits +-80 alternating", np.where(ar % 2 == 0, -80.0, 80.0), np.zeros(C), IGNORE),
    ]
    n_special = R - 960
    rows = []
    for k in range(n_special):
        r = 960 + k
        if k < len(special):
            what, xs, ts, ys = special[k]
            if xs is None:  # student == teacher, random row
                xs = short(rng.normal(0.0, 3.0, C))
                ts = xs.copy()
            x[r], t[r], y[r] = xs, ts, ys
            rows.append({"row": r, "what": what})
        else:  # extra plain N(0,3) rows with fixed-seed draws
            x[r] = short(rng.normal(0.0, 3.0, C))
            t[r] = short(rng.normal(0.0, 3.0, C))
            y[r] = rng.integers(0, C)
    # dfl
    dx = rng.normal(0.0, 3.0, (R, REG_MAX + 1))
    dx[900:930] = rng.normal(0.0, 30.0, (30, REG_MAX + 1))
    dspecial = [float(k) for k in range(REG_MAX)]                       # exact integers 0..15
    dspecial += [k + 1e-10 for k in range(REG_MAX)]                     # just above k
    dspecial += [k - 1e-10 for k in range(1, REG_MAX + 1)]              # just below k (16-1e-10 -> bins 15,16)
    dspecial += [k + 9e-10 for k in range(0, REG_MAX, 3)]
    dspecial += [k - 9e-10 for k in range(1, REG_MAX + 1, 3)]
    dspecial += [math.nextafter(16.0, 0.0), 5e-324, 0.5, 15.5]
    dt = rng.uniform(0.0, float(REG_MAX), R)
    dx, dt = short(dx), short(dt)
    dt[R - len(dspecial):] = dspecial
    assert (dt >= 0).all() and (dt < REG_MAX).all()
    return x, t, y, rows, dx, dt, dspecial


# ----------------------------------------------------------------------------
# Loss definitions
# ----------------------------------------------------------------------------
def pm1(t):
    return 2.0 * t - 1.0


def bce(x, y, pos_weight=None):
    pw = None if pos_weight is None else torch.tensor(pos_weight, dtype=DT)
    return F.binary_cross_entropy_with_logits(x, y, reduction="none", pos_weight=pw)


def focal(alpha, gamma):
    return lambda x, y: sigmoid_focal_loss(x, y, alpha=alpha, gamma=gamma, reduction="none")


# --- mmdet 3.3.0 mmdet/models/losses/gfocal_loss.py quality_focal_loss (body
#     verbatim; @weighted_loss with weight=None, reduction='none' is identity)
def mm_quality_focal_loss(pred, target, beta=2.0):
    assert len(target) == 2
    label, score = target
    pred_sigmoid = pred.sigmoid()
    scale_factor = pred_sigmoid
    zerolabel = scale_factor.new_zeros(pred.shape)
    loss = F.binary_cross_entropy_with_logits(pred, zerolabel, reduction="none") * scale_factor.pow(beta)
    bg_class_ind = pred.size(1)
    pos = ((label >= 0) & (label < bg_class_ind)).nonzero().squeeze(1)
    pos_label = label[pos].long()
    scale_factor = score[pos] - pred_sigmoid[pos, pos_label]
    loss[pos, pos_label] = F.binary_cross_entropy_with_logits(
        pred[pos, pos_label], score[pos], reduction="none") * scale_factor.abs().pow(beta)
    loss = loss.sum(dim=1, keepdim=False)
    return loss


def qfl_mmdet_column(x, y, beta=2.0, all_positive=False):
    """One class column (C = 1): label 0 (positive) where y > 0, else
    label 1 == num_classes (background)."""
    if all_positive:
        label = torch.zeros(x.shape[0], dtype=torch.long)
    else:
        label = torch.where(y > 0, 0, 1).long()
    return mm_quality_focal_loss(x[:, None], (label, y), beta=beta)


def qfl_elementwise(x, y, beta=2.0):
    return F.binary_cross_entropy_with_logits(x, y, reduction="none") * (y - x.sigmoid()).abs().pow(beta)


# --- mmdet 3.3.0 mmdet/models/losses/varifocal_loss.py varifocal_loss (body
#     verbatim, weight=None, reduction='none' -> weight_reduce_loss identity)
def mm_varifocal_loss(pred, target, alpha=0.75, gamma=2.0, iou_weighted=True):
    assert pred.size() == target.size()
    pred_sigmoid = pred.sigmoid()
    target = target.type_as(pred)
    if iou_weighted:
        focal_weight = target * (target > 0.0).float() + \
            alpha * (pred_sigmoid - target).abs().pow(gamma) * \
            (target <= 0.0).float()
    else:
        focal_weight = (target > 0.0).float() + \
            alpha * (pred_sigmoid - target).abs().pow(gamma) * \
            (target <= 0.0).float()
    loss = F.binary_cross_entropy_with_logits(pred, target, reduction="none") * focal_weight
    return loss


# --- mmdet 3.3.0 mmdet/models/losses/kd_loss.py knowledge_distillation_kl_div_loss
def mm_kd_loss(pred, soft_label, T, detach_target=True):
    assert pred.size() == soft_label.size()
    target = F.softmax(soft_label / T, dim=1)
    if detach_target:
        target = target.detach()
    kd_loss = F.kl_div(F.log_softmax(pred / T, dim=1), target, reduction="none").mean(1) * (T * T)
    return kd_loss


# --- mmdet 3.3.0 mmdet/models/losses/gfocal_loss.py distribution_focal_loss
def mm_distribution_focal_loss(pred, label):
    dis_left = label.long()
    dis_right = dis_left + 1
    weight_left = dis_right.float() - label
    weight_right = label - dis_left.float()
    loss = F.cross_entropy(pred, dis_left, reduction="none") * weight_left \
        + F.cross_entropy(pred, dis_right, reduction="none") * weight_right
    return loss


def kd_hinton(T):
    def f(s, t):
        return F.kl_div(F.log_softmax(s / T, -1), F.softmax(t / T, -1).detach(), reduction="none").sum(-1) * T * T
    return f


CE_WEIGHT = torch.linspace(0.5, 2.0, C, dtype=DT)

EXP_MAX_ABS = 30.0

MM_GF = "mmdet 3.3.0 mmdet/models/losses/gfocal_loss.py"
TV_FOCAL = "torchvision 0.29.2 torchvision.ops.sigmoid_focal_loss(x, y, alpha={a}, gamma={g}, reduction='none')"

# (name, params, target kind, source, fn(x, y_binary_or_soft))
ELEM_CASES = [
    ("bce", {}, "binary",
     "torch.nn.functional.binary_cross_entropy_with_logits(x, y, reduction='none')", lambda x, y: bce(x, y)),
    ("bce", {}, "soft",
     "torch.nn.functional.binary_cross_entropy_with_logits(x, y, reduction='none'), y = target_soft",
     lambda x, y: bce(x, y)),
    ("bce", {"pos_weight": 3.0}, "binary",
     "torch.nn.functional.binary_cross_entropy_with_logits(x, y, reduction='none', pos_weight=tensor(3.0)) "
     "= -(3*y*log sigmoid(x) + (1-y)*log(1-sigmoid(x)))",
     lambda x, y: bce(x, y, 3.0)),
]
for _a, _g, _note in [(0.25, 2.0, "torchvision/mmdet default"), (-1.0, 2.0, "fvcore default, alpha off"),
                      (0.25, 1.5, "ultralytics FocalLoss default"), (0.5, 0.5, ""), (0.75, 5.0, ""),
                      (-1.0, 0.0, "alpha off, gamma 0 = plain BCE")]:
    ELEM_CASES.append(("focal", {"alpha": _a, "gamma": _g}, "binary",
                       TV_FOCAL.format(a=_a, g=_g) + (f" ({_note})" if _note else "")
                       + "; nothing detached", focal(_a, _g)))
ELEM_CASES.append(("focal", {"alpha": 0.25, "gamma": 2.0}, "soft",
                   TV_FOCAL.format(a=0.25, g=2.0) + " with y = target_soft (p_t and alpha_t linear in y); "
                   "nothing detached", focal(0.25, 2.0)))
ELEM_CASES += [
    ("qfl", {"beta": 2.0}, "soft",
     MM_GF + " quality_focal_loss(pred[N,1], (label, score=y), beta=2.0), one class column, label 0 "
     "(positive) where y > 0 else background: y>0: BCE_with_logits(x, y)*|y - sigmoid(x)|^2; y==0: "
     "BCE_with_logits(x, 0)*sigmoid(x)^2 (the same expression at y=0; verified bit-identical, loss and "
     "grad, to the all-positive labelling and to BCE(x,y)*(y-sigmoid(x)).abs().pow(2)).  The scale factor "
     "is NOT detached: gradient flows through sigmoid(x)^beta and |y-sigmoid(x)|^beta.  abs'(0)=0.",
     lambda x, y: qfl_mmdet_column(x, y)),
    ("vfl", {"alpha": 0.75, "gamma": 2.0, "iou_weighted": True}, "soft",
     "mmdet 3.3.0 mmdet/models/losses/varifocal_loss.py varifocal_loss(pred, target=q, alpha=0.75, "
     "gamma=2.0, iou_weighted=True, reduction='none'): focal_weight = q*[q>0] + 0.75*|sigmoid(x)-q|^2*[q<=0] "
     "(masks as float multipliers); loss = BCE_with_logits(x, q)*focal_weight.  focal_weight is NOT "
     "detached (built from pred.sigmoid()), so negatives get d/dx of 0.75*sigmoid(x)^2 too.",
     lambda x, y: mm_varifocal_loss(x, y)),
    ("logistic", {}, "binary",
     "torch.nn.functional.soft_margin_loss(x, y, reduction='none') with y = 2*t-1 (= softplus(-y*f) = "
     "log1p(exp(-y*f)) as torch computes it, NOT overflow-safe: y*f = -1e4 gives loss inf, grad nan -> "
     "null; the stable value equals the bce binary case)",
     lambda x, t: F.soft_margin_loss(x, pm1(t), reduction="none")),
    ("hinge", {"margin": 1.0}, "binary",
     "torch.clamp(1 - y*f, min=0) with y = 2*t-1, autograd (gradient -y where y*f < 1, 0 where y*f >= 1, "
     "including exactly at the kink y*f == 1)",
     lambda x, t: torch.clamp(1.0 - pm1(t) * x, min=0.0)),
    ("exponential", {}, "binary",
     "torch.exp(-y*f) with y = 2*t-1, autograd (grad = -y*exp(-y*f)); rows with |f| > 30 are null by "
     "construction (listed in `null_rows`), although only |f| = 1e4 actually overflows in float64",
     lambda x, t: torch.exp(-pm1(t) * x)),
]

CE_SRC = "torch.nn.functional.cross_entropy(x, y, reduction='none', ignore_index=-100{extra})"
SM_CASES = [
    ("ce", {"label_smoothing": 0.0, "ignore_index": IGNORE}, ["logits", "target"],
     CE_SRC.format(extra=", label_smoothing=0.0") + "; ignored rows: loss 0, grad 0",
     lambda x, y, t: F.cross_entropy(x, y, reduction="none", ignore_index=IGNORE, label_smoothing=0.0)),
    ("ce", {"label_smoothing": 0.1, "ignore_index": IGNORE}, ["logits", "target"],
     CE_SRC.format(extra=", label_smoothing=0.1")
     + " = 0.9*(-log p_y) + 0.1*mean_c(-log p_c); ignored rows: loss 0, grad 0",
     lambda x, y, t: F.cross_entropy(x, y, reduction="none", ignore_index=IGNORE, label_smoothing=0.1)),
    ("ce", {"weight": CE_WEIGHT.tolist(), "label_smoothing": 0.0, "ignore_index": IGNORE}, ["logits", "target"],
     CE_SRC.format(extra=", weight=torch.linspace(0.5, 2, 10) (values in params.weight)")
     + " = weight[y]*(-log p_y) per row (no normalisation with reduction none); ignored rows: loss 0, grad 0",
     lambda x, y, t: F.cross_entropy(x, y, reduction="none", ignore_index=IGNORE, weight=CE_WEIGHT)),
    ("kd", {"T": 4.0, "form": "hinton"}, ["logits", "teacher_logits"],
     "F.kl_div(F.log_softmax(s/T,-1), F.softmax(t/T,-1).detach(), reduction='none').sum(-1)*T*T, T=4; "
     "s = logits (grad), t = teacher_logits (detached)",
     lambda x, y, t: kd_hinton(4.0)(x, t)),
    ("kd", {"T": 1.0, "form": "hinton"}, ["logits", "teacher_logits"],
     "F.kl_div(F.log_softmax(s/T,-1), F.softmax(t/T,-1).detach(), reduction='none').sum(-1)*T*T, T=1; "
     "s = logits (grad), t = teacher_logits (detached)",
     lambda x, y, t: kd_hinton(1.0)(x, t)),
    ("kd", {"T": 10, "form": "mmdet"}, ["logits", "teacher_logits"],
     "mmdet 3.3.0 mmdet/models/losses/kd_loss.py knowledge_distillation_kl_div_loss(pred=logits, "
     "soft_label=teacher_logits, T=10, detach_target=True): F.kl_div(F.log_softmax(pred/T, 1), "
     "F.softmax(soft_label/T, 1).detach(), reduction='none').mean(1)*(T*T) -- MEAN over the C classes "
     "(= Hinton form / C); only the teacher target is detached",
     lambda x, y, t: mm_kd_loss(x, t, 10)),
    ("dfl", {"reg_max": REG_MAX}, ["dfl_logits", "dfl_target"],
     MM_GF + " distribution_focal_loss(pred=dfl_logits[R,17], label=dfl_target): left = label.long() "
     "(= floor for label >= 0), right = left+1, loss = CE(x, left)*(right - label) + CE(x, right)*(label - "
     "left); grad w.r.t. the 17 logits, target not differentiated",
     None),
]


# ----------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------
def loss_and_grad(fn, x: torch.Tensor, *others):
    p = x.detach().clone().requires_grad_()
    loss = fn(p, *[o.detach().clone() for o in others])
    assert loss.shape == (x.shape[0],), loss.shape
    assert loss.dtype == DT, loss.dtype
    loss.sum().backward()
    grad = p.grad if p.grad is not None else torch.zeros_like(p)
    return loss.detach(), grad.detach()


def to_json_lists(loss: torch.Tensor, grad: torch.Tensor):
    lf = torch.isfinite(loss)
    gf = torch.isfinite(grad) if grad.dim() == 1 else torch.isfinite(grad).all(-1)
    loss_l = [v if ok else None for v, ok in zip(loss.tolist(), lf.tolist())]
    grad_l = [g if ok else None for g, ok in zip(grad.tolist(), gf.tolist())]
    return loss_l, grad_l


def close(a: torch.Tensor, b: torch.Tensor, rtol=1e-13, atol=1e-300) -> bool:
    both_nan = torch.isnan(a) & torch.isnan(b)
    same = (a == b) | both_nan | ((a - b).abs() <= atol + rtol * b.abs())
    return bool(same.all())


def identical(a: torch.Tensor, b: torch.Tensor) -> bool:
    """bitwise equality, nan == nan"""
    return bool(((a == b) | (torch.isnan(a) & torch.isnan(b))).all()) and a.shape == b.shape


def dump(path: Path, obj) -> int:
    text = json.dumps(obj, separators=(",", ":"), allow_nan=False)
    path.write_text(text + "\n")
    return path.stat().st_size


BATCH_BITS: list = []  # (case, rows not bit-identical single vs batch, rows checked)

# Hand table: forward values computed by hand (six decimals), independently of
# the library code: sigmoid focal loss (Lin et al., arXiv 1708.02002) with
# alpha 0.25, gamma 2 (torchvision, mmdet), alpha -1, gamma 2 (fvcore) and
# alpha 0.25, gamma 1.5 (ultralytics); QFL with beta 2 (GFL, arXiv 2006.04388).
HAND_FOCAL = {  # (x, t): ((0.25,2), (-1,2), (0.25,1.5))
    (2.0, 1): (0.000451, 0.001804, 0.001306),
    (-2.0, 1): (0.412520, 1.650078, 0.439548),
    (2.0, 0): (1.237559, 1.650078, 1.318645),
    (0.0, 1): (0.043322, 0.173287, 0.061266),
}
HAND_FOCAL_COLS = [(0.25, 2.0), (-1.0, 2.0), (0.25, 1.5)]
HAND_QFL = {(0.0, 0.0): 0.173287, (0.0, 0.8): 0.062383, (2.0, 0.5): 0.163412}


# ----------------------------------------------------------------------------
# Generation
# ----------------------------------------------------------------------------
def build_elementwise():
    x_np, tb_np, ts_np = elementwise_inputs(SEED)
    x = torch.from_numpy(x_np).to(DT)
    tb = torch.from_numpy(tb_np).to(DT)
    ts = torch.from_numpy(ts_np).to(DT)
    rng = np.random.default_rng(SEED + 2)
    check_rows = list(range(N_RANDOM, N_TOTAL)) + sorted(rng.choice(N_RANDOM, 100, replace=False).tolist())

    exp_null = [i for i in range(N_TOTAL) if abs(x_np[i]) > EXP_MAX_ABS]
    cases, results, nulls = [], {}, []
    for name, params, tkind, source, fn in ELEM_CASES:
        y = tb if tkind == "binary" else ts
        loss, grad = loss_and_grad(fn, x, y)
        n_bits = 0
        for r in check_rows:
            l1, g1 = loss_and_grad(fn, x[r:r + 1], y[r:r + 1])
            n_bits += not (identical(l1, loss[r:r + 1]) and identical(g1, grad[r:r + 1]))
            if not (close(l1, loss[r:r + 1]) and close(g1, grad[r:r + 1])):
                print(f"WARNING {name} {params} {tkind}: row {r} single vs batch differ beyond 1e-13: "
                      f"{l1.item()!r} {loss[r].item()!r} {g1.item()!r} {grad[r].item()!r}", file=sys.stderr)
        BATCH_BITS.append((f"{name} {json.dumps(params)} {tkind}", n_bits, len(check_rows)))
        if name == "exponential":
            mask = torch.from_numpy(np.abs(x_np) > EXP_MAX_ABS)
            loss = torch.where(mask, torch.full_like(loss, math.nan), loss)
            grad = torch.where(mask, torch.full_like(grad, math.nan), grad)
        results[(name, json.dumps(params, sort_keys=True), tkind)] = (loss, grad)
        ll, gl = to_json_lists(loss, grad)
        case = {"name": name, "params": params, "target": tkind, "source": source, "loss": ll, "grad": gl}
        if name == "exponential":
            case["null_rows"] = exp_null
            case["rows"] = f"all rows with |logit| <= {EXP_MAX_ABS:g}; rows with |logit| > {EXP_MAX_ABS:g} are null"
        cases.append(case)
        nl = [i for i, v in enumerate(ll) if v is None]
        ng = [i for i, v in enumerate(gl) if v is None]
        nulls.append((f"{name} {json.dumps(params)} {tkind}", nl, ng))

    doc = {
        "generated_by": GENERATED_BY,
        "versions": VERSIONS,
        "seed": SEED,
        "n": N_TOTAL,
        "n_random": N_RANDOM,
        "recipe": ELEM_RECIPE,
        "edge_grid": {"first_row": N_RANDOM, "logits": EDGE_LOGITS, "binary": EDGE_BINARY, "soft": EDGE_SOFT},
        "grad_note": "grad[i] = d loss[i] / d logits[i] (autograd, reduction none); null = non-finite",
        "numerics_note": "torch's binary_cross_entropy_with_logits computes (1-y)*x - log_sigmoid(x); for "
                         "large |x| on the correct side the result has ~1e-16*|x| ABSOLUTE error (x=-30, y=0: "
                         "9.2371e-14 vs true 9.3576e-14; x=-80, y=0: exactly 0 vs true 1.8e-35).  bce, focal, "
                         "qfl and vfl inherit it; compare with an absolute floor.",
        "logits": x_np.tolist(),
        "target_binary": tb_np.tolist(),
        "target_soft": ts_np.tolist(),
        "cases": cases,
    }
    return doc, results, nulls, (x, tb, ts), x_np


def build_softmax():
    x_np, t_np, y_np, special_rows, dx_np, dt_np, dspecial = softmax_inputs(SEED)
    x = torch.from_numpy(x_np).to(DT)
    t = torch.from_numpy(t_np).to(DT)
    y = torch.from_numpy(y_np).long()
    dx = torch.from_numpy(dx_np).to(DT)
    dt = torch.from_numpy(dt_np).to(DT)
    rng = np.random.default_rng(SEED + 3)
    check_rows = list(range(900, R)) + sorted(rng.choice(900, 60, replace=False).tolist())

    cases, results, nulls = [], {}, []
    for name, params, inputs, source, fn in SM_CASES:
        if name == "dfl":
            loss, grad = loss_and_grad(mm_distribution_focal_loss, dx, dt)
            single = lambda r: loss_and_grad(mm_distribution_focal_loss, dx[r:r + 1], dt[r:r + 1])  # noqa: E731
        else:
            loss, grad = loss_and_grad(fn, x, y, t)
            single = lambda r: loss_and_grad(fn, x[r:r + 1], y[r:r + 1], t[r:r + 1])  # noqa: E731
        n_bits = 0
        for r in check_rows:
            l1, g1 = single(r)
            n_bits += not (identical(l1, loss[r:r + 1]) and identical(g1, grad[r:r + 1]))
            if not (close(l1, loss[r:r + 1]) and close(g1, grad[r:r + 1])):
                d = (l1 - loss[r:r + 1]).abs().max().item(), (g1 - grad[r:r + 1]).abs().max().item()
                print(f"WARNING {name} {params}: row {r} single vs batch differ by {d}", file=sys.stderr)
        BATCH_BITS.append((f"{name} {json.dumps({k: v for k, v in params.items() if k != 'weight'})}",
                           n_bits, len(check_rows)))
        results[(name, json.dumps({k: v for k, v in params.items() if k != "weight"}, sort_keys=True))] = (loss, grad)
        ll, gl = to_json_lists(loss, grad)
        cases.append({"name": name, "params": params, "inputs": inputs, "source": source, "loss": ll, "grad": gl})
        nulls.append((f"{name} {json.dumps({k: v for k, v in params.items() if k != 'weight'})}",
                      [i for i, v in enumerate(ll) if v is None], [i for i, v in enumerate(gl) if v is None]))

    doc = {
        "generated_by": GENERATED_BY,
        "versions": VERSIONS,
        "seed": SEED,
        "rows": R,
        "classes": C,
        "reg_max": REG_MAX,
        "recipe": SOFTMAX_RECIPE,
        "ignore_index": IGNORE,
        "ignored_rows": [i for i in range(R) if y_np[i] == IGNORE],
        "softmax_special_rows": special_rows,
        "dfl_special_targets": dspecial,
        "grad_note": "grad[r] = d loss[r] / d logits[r, :] (C values; for dfl d loss[r] / d dfl_logits[r, :], "
                     "17 values); autograd, reduction none; null = some component non-finite",
        "logits": x_np.tolist(),
        "target": y_np.tolist(),
        "teacher_logits": t_np.tolist(),
        "dfl_logits": dx_np.tolist(),
        "dfl_target": dt_np.tolist(),
        "cases": cases,
    }
    return doc, results, nulls, (x, y, t, dx, dt)


def self_checks(eres, sres, elem_inputs, sm_inputs) -> int:
    x, tb, ts = elem_inputs
    sx, sy, st, dx, dt = sm_inputs
    bad = 0
    print("\nself-checks:")
    # QFL: three formulations bit-identical
    q = eres[("qfl", json.dumps({"beta": 2.0}), "soft")]
    for label, fn in [("mmdet, all rows labelled positive", lambda a, b: qfl_mmdet_column(a, b, all_positive=True)),
                      ("element-wise BCE(x,y)*|y-sigmoid(x)|^2", qfl_elementwise)]:
        l2, g2 = loss_and_grad(fn, x, ts)
        ok = identical(l2, q[0]) and identical(g2, q[1])
        bad += not ok
        print(f"  qfl (mmdet, label bg where y==0) vs {label}: {'bit-identical' if ok else 'DIFFER'}"
              + ("" if ok else f" max|dloss| {(l2 - q[0]).abs().nan_to_num().max().item():.3e} "
                                f"max|dgrad| {(g2 - q[1]).abs().nan_to_num().max().item():.3e}"))
    # QFL with a detached factor would differ (information for the Rust side)
    def qfl_det(a, b):
        return F.binary_cross_entropy_with_logits(a, b, reduction="none") * (b - a.sigmoid()).abs().pow(2.0).detach()
    _, gd = loss_and_grad(qfl_det, x, ts)
    print(f"  (info) qfl with the factor detached: max |grad diff| = {(gd - q[1]).abs().nan_to_num().max().item():.3e}")
    v = eres[("vfl", json.dumps({"alpha": 0.75, "gamma": 2.0, "iou_weighted": True}), "soft")]

    def vfl_det(a, b):
        w = (b * (b > 0).to(DT) + 0.75 * (a.sigmoid() - b).abs().pow(2.0) * (b <= 0).to(DT)).detach()
        return F.binary_cross_entropy_with_logits(a, b, reduction="none") * w
    _, gd = loss_and_grad(vfl_det, x, ts)
    print(f"  (info) vfl with focal_weight detached: max |grad diff| = {(gd - v[1]).abs().nan_to_num().max().item():.3e}")
    # focal gamma 0 alpha -1 == bce
    f0 = eres[("focal", json.dumps({"alpha": -1.0, "gamma": 0.0}), "binary")]
    b0 = eres[("bce", json.dumps({}), "binary")]
    ok = identical(f0[0], b0[0]) and identical(f0[1], b0[1])
    print(f"  focal(alpha=-1, gamma=0) vs bce binary: {'bit-identical' if ok else 'differ (max |d| loss %.3e grad %.3e)' % ((f0[0]-b0[0]).abs().max().item(), (f0[1]-b0[1]).abs().max().item())}")
    # logistic (soft_margin_loss) vs bce binary / softplus
    lg = eres[("logistic", json.dumps({}), "binary")]
    fin = torch.isfinite(lg[0])
    gfin = torch.isfinite(lg[1])
    print(f"  (info) logistic=soft_margin_loss vs bce binary on {int(fin.sum())} finite rows: max |loss diff| "
          f"{(lg[0] - b0[0])[fin].abs().max().item():.3e}, max |grad diff| "
          f"{(lg[1] - b0[1])[gfin].abs().max().item():.3e}")
    # accuracy of torch's bce-with-logits against 50-digit mpmath
    import mpmath
    mpmath.mp.dps = 50
    xs, tbs = x.tolist(), tb.tolist()
    ref_l = [float(mpmath.log1p(mpmath.exp(-(2 * t - 1) * mpmath.mpf(v)))) for v, t in zip(xs, tbs)]
    ref_g = [float(1 / (1 + mpmath.exp(-mpmath.mpf(v))) - t) for v, t in zip(xs, tbs)]
    rl, rg = torch.tensor(ref_l), torch.tensor(ref_g)
    ae = (b0[0] - rl).abs()
    re = ae / rl.abs().clamp(min=1e-300)
    worst = int(re.argmax())
    print(f"  (info) torch bce binary vs mpmath: max |loss err| {ae.max().item():.3e}, max |loss err|/max(1,|x|) "
          f"{(ae / x.abs().clamp(min=1.0)).max().item():.3e}, max rel err {re.max().item():.3e} "
          f"(x={xs[worst]:g}, t={int(tbs[worst])}: torch {b0[0][worst].item()!r} vs {ref_l[worst]!r}); "
          f"max |grad err| {(b0[1] - rg).abs().max().item():.3e}")
    n_rel = int((re > 1e-12).sum())
    print(f"         rows with rel loss err > 1e-12: {n_rel} (all have loss < "
          f"{rl[re > 1e-12].max().item() if n_rel else 0:.3e})")
    # ce label smoothing formula
    ls = sres[("ce", json.dumps({"ignore_index": IGNORE, "label_smoothing": 0.1}, sort_keys=True))][0]
    lsm = F.log_softmax(sx, -1)
    keep = sy != IGNORE
    yy = sy.clamp(min=0)
    manual = -(0.9 * lsm.gather(1, yy[:, None])[:, 0] + 0.1 * lsm.mean(-1))
    manual = torch.where(keep, manual, torch.zeros_like(manual))
    d = ((ls - manual).abs() / manual.abs().clamp(min=1e-300)).max().item()
    print(f"  (info) ce ls=0.1 vs 0.9*nll + 0.1*mean_c(-log p_c): max rel diff {d:.3e}")
    # kd: mmdet form == hinton / C at T = 10
    kh = kd_hinton(10.0)
    lh, gh = loss_and_grad(lambda a, b: kh(a, b), sx, st)
    km = sres[("kd", json.dumps({"T": 10, "form": "mmdet"}, sort_keys=True))]
    print(f"  (info) kd mmdet T=10 vs hinton T=10 / C: max rel loss diff "
          f"{((km[0] - lh / C).abs() / (lh / C).abs().clamp(min=1e-300)).max().item():.3e}, "
          f"max |grad diff| {(km[1] - gh / C).abs().max().item():.3e}")
    # dfl: two-hot CE identity
    sl = F.log_softmax(dx, -1)
    left = torch.floor(dt).long()
    man = -(sl.gather(1, left[:, None])[:, 0] * (left + 1 - dt) + sl.gather(1, (left + 1)[:, None])[:, 0] * (dt - left))
    dd = sres[("dfl", json.dumps({"reg_max": REG_MAX}))][0]
    print(f"  (info) dfl vs -(w_l*logsoftmax[floor] + w_r*logsoftmax[floor+1]): max rel diff "
          f"{((dd - man).abs() / man.abs().clamp(min=1e-300)).max().item():.3e}")
    return bad


def hand_table_check(eres) -> int:
    print("\nhand table check (tolerance 5e-7 = table rounding):")
    bad = 0
    x_idx = lambda xv, b, s: edge_row(xv, b, s)  # noqa: E731
    for (xv, t), expected in HAND_FOCAL.items():
        r = x_idx(xv, t, 0.0)
        got = []
        for (a, g), exp in zip(HAND_FOCAL_COLS, expected):
            val = eres[("focal", json.dumps({"alpha": a, "gamma": g}), "binary")][0][r].item()
            got.append(val)
            if not abs(val - exp) <= 5e-7:
                bad += 1
                print(f"  MISMATCH focal x={xv:g} t={t} alpha={a} gamma={g}: got {val!r}, table {exp}")
        print(f"  focal x={xv:+g} t={t}: " + "  ".join(f"{v:.9f}" for v in got)
              + "   table " + "  ".join(f"{v:.6f}" for v in expected))
    for (xv, s), exp in HAND_QFL.items():
        r = x_idx(xv, 0, s)
        val = eres[("qfl", json.dumps({"beta": 2.0}), "soft")][0][r].item()
        flag = "" if abs(val - exp) <= 5e-7 else "   <-- MISMATCH"
        bad += bool(flag)
        print(f"  qfl x={xv:g} y={s:g}: {val:.9f}   table {exp:.6f}{flag}")
    print(f"  columns (focal): (alpha,gamma) = {HAND_FOCAL_COLS}")
    print(f"  {'all agree' if bad == 0 else str(bad) + ' disagreement(s)'}")
    return bad


def main_generate() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    edoc, eres, enulls, einp, ex_np = build_elementwise()
    sdoc, sres, snulls, sinp = build_softmax()
    sizes = {"cls_elementwise.json": dump(OUT / "cls_elementwise.json", edoc),
             "cls_softmax.json": dump(OUT / "cls_softmax.json", sdoc)}

    print("versions:", VERSIONS)
    print("\nfiles:")
    for k, v in sizes.items():
        print(f"  tests/golden/{k:24s} {v / 1e6:8.2f} MB ({v} bytes)")

    def desc_rows(rows, xs):
        return ", ".join(sorted({f"{xs[i]:g}" for i in rows})) if rows else ""

    print(f"\nnull counts, cls_elementwise.json (n = {N_TOTAL}; logit values of the null rows):")
    for label, nl, ng in enulls:
        print(f"  {label:58s} loss {len(nl):4d}  grad {len(ng):4d}"
              + (f"   loss-null logits {{{desc_rows(nl, ex_np)}}}" if nl else "")
              + (f"   grad-null logits {{{desc_rows(ng, ex_np)}}}" if ng else ""))
    print(f"\nnull counts, cls_softmax.json (R = {R}):")
    for label, nl, ng in snulls:
        print(f"  {label:58s} loss {len(nl):4d}  grad {len(ng):4d}")

    print("\nbatched vs one-row evaluation (all within rtol 1e-13 unless a WARNING was printed); "
          "rows not bit-identical:")
    print("  " + "; ".join(f"{c}: {n}/{m}" for c, n, m in BATCH_BITS if n))
    bad = self_checks(eres, sres, einp, sinp)
    bad += hand_table_check(eres)
    return 0 if bad == 0 else 1


# ----------------------------------------------------------------------------
# Optional: recompute the mmdet cases with the functions from the wheel itself
# ----------------------------------------------------------------------------
MM_FILES = {
    "mmdet/models/losses/utils.py": {"reduce_loss", "weight_reduce_loss"},
    "mmdet/models/losses/gfocal_loss.py": {"quality_focal_loss", "distribution_focal_loss"},
    "mmdet/models/losses/varifocal_loss.py": {"varifocal_loss"},
    "mmdet/models/losses/kd_loss.py": {"knowledge_distillation_kl_div_loss"},
}


def main_crosscheck() -> int:
    ns = {"torch": torch, "F": F, "math": math, "np": np, "Tensor": torch.Tensor, "warnings": warnings,
          "Optional": __import__("typing").Optional, "Callable": __import__("typing").Callable}
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--disable-pip-version-check", f"mmdet=={MMDET_VERSION}", "-d", d], check=True)
        whl = next(Path(d).glob("mmdet-*.whl"))
        with zipfile.ZipFile(whl) as z:
            for path, names in MM_FILES.items():
                tree = ast.parse(z.read(path).decode())
                body = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in names]
                for n in body:
                    n.decorator_list = []  # @weighted_loss: weight/reduction wrapper only
                assert {n.name for n in body} == names, (path, names)
                exec(compile(ast.Module(body=body, type_ignores=[]), path, "exec"), ns)
    e = json.loads((OUT / "cls_elementwise.json").read_text())
    s = json.loads((OUT / "cls_softmax.json").read_text())
    x = torch.tensor(e["logits"], dtype=DT)
    ts = torch.tensor(e["target_soft"], dtype=DT)
    sx = torch.tensor(s["logits"], dtype=DT)
    st = torch.tensor(s["teacher_logits"], dtype=DT)
    dx = torch.tensor(s["dfl_logits"], dtype=DT)
    dt = torch.tensor(s["dfl_target"], dtype=DT)

    def qfl(a, b):
        label = torch.where(b > 0, 0, 1).long()
        return ns["quality_focal_loss"](a[:, None], (label, b), beta=2.0)

    real = {
        ("qfl", "e"): (lambda: loss_and_grad(qfl, x, ts)),
        ("vfl", "e"): (lambda: loss_and_grad(lambda a, b: ns["varifocal_loss"](
            a, b, alpha=0.75, gamma=2.0, iou_weighted=True, reduction="none"), x, ts)),
        ("kd", "s"): (lambda: loss_and_grad(lambda a, b: ns["knowledge_distillation_kl_div_loss"](
            a, b, T=10), sx, st)),
        ("dfl", "s"): (lambda: loss_and_grad(ns["distribution_focal_loss"], dx, dt)),
    }
    bad = 0
    for (name, f), run in real.items():
        doc = e if f == "e" else s
        cs = [c for c in doc["cases"] if c["name"] == name and (name != "kd" or c["params"].get("form") == "mmdet")]
        assert len(cs) == 1, (name, len(cs))
        ll, gl = to_json_lists(*run())
        ok = ll == cs[0]["loss"] and gl == cs[0]["grad"]
        bad += not ok
        print(f"  {name:4s} {'identical to mmdet ' + MMDET_VERSION + ' source' if ok else 'DIFFERS'}")
    return 1 if bad else 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--crosscheck", action="store_true",
                    help="recompute the mmdet cases from the mmdet wheel's own source and compare; writes nothing")
    args = ap.parse_args()
    sys.exit(main_crosscheck() if args.crosscheck else main_generate())
