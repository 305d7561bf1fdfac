#!/usr/bin/env python3
"""Side-by-side speed of torchvision's box and focal losses and detloss, same inputs, same run.

Times forward + backward (value and gradient with respect to the prediction)
per pair, float64, one thread on both sides, best of R repeats, and prints the
ratio detloss / torchvision. It also checks that the two agree on every pair.

Usage (needs the venv of scripts/make_golden.sh, torch 2.14.1 + torchvision 0.29.2):
    bash scripts/make_golden.sh                      # once, creates .venv-golden
    .venv-golden/bin/python scripts/compare_torchvision.py [--n 1000000] [--repeats 5]

detloss is run as `target/release/detloss -j 1 loss --name L --repeat R`,
which times the batch computation only (not the JSON I/O).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torchvision
from torchvision.ops import complete_box_iou_loss, distance_box_iou_loss, generalized_box_iou_loss

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOSSES = {
    "giou": generalized_box_iou_loss,
    "diou": distance_box_iou_loss,
    "ciou": complete_box_iou_loss,
}


def pairs(n, seed=7):
    """The recipe of golden_box_losses.py: targets, and predictions around them."""
    rng = np.random.default_rng(seed)
    x1 = rng.uniform(0, 200, n)
    y1 = rng.uniform(0, 200, n)
    w = np.exp(rng.uniform(0, np.log(300), n))
    h = np.exp(rng.uniform(0, np.log(300), n))
    target = np.stack([x1, y1, x1 + w, y1 + h], 1)
    cx = x1 + w / 2 + rng.normal(0, 1, n) * 0.6 * w
    cy = y1 + h / 2 + rng.normal(0, 1, n) * 0.6 * h
    pw = w * np.exp(rng.normal(0, 0.5, n))
    ph = h * np.exp(rng.normal(0, 0.5, n))
    pred = np.stack([cx - pw / 2, cy - ph / 2, cx + pw / 2, cy + ph / 2], 1)
    return pred, target


def time_torch(fn, pred, target, repeats):
    best = float("inf")
    out = None
    for _ in range(repeats):
        p = torch.from_numpy(pred).clone().requires_grad_()
        t = torch.from_numpy(target)
        start = time.perf_counter()
        loss = fn(p, t, reduction="none")
        loss.sum().backward()
        best = min(best, time.perf_counter() - start)
        out = (loss.detach().numpy(), p.grad.numpy())
    return best, out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--detloss", default=os.path.join(ROOT, "target", "release", "detloss"))
    args = ap.parse_args()
    if not os.path.exists(args.detloss):
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    torch.set_num_threads(1)
    pred, target = pairs(args.n)
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}; {args.n} pairs, float64, 1 thread, "
          f"best of {args.repeats}")
    with tempfile.TemporaryDirectory() as tmp:
        inp = os.path.join(tmp, "pairs.json")
        with open(inp, "w") as f:
            json.dump({"pred": pred.tolist(), "target": target.tolist()}, f)
        print(f"{'loss':6} {'torchvision pairs/s':>20} {'detloss pairs/s':>16} {'ratio':>7} {'max |Δloss|':>12} {'max |Δgrad|':>12}")
        for name, fn in LOSSES.items():
            tv_secs, (tv_loss, tv_grad) = time_torch(fn, pred, target, args.repeats)
            out = os.path.join(tmp, "out.json")
            # detloss's --repeat reports the total over its repeats; take the mean
            # of repeats-many runs (it has no "best of"), which favours torchvision.
            res = subprocess.run(
                [args.detloss, "-j", "1", "loss", "--name", name, "--input", inp, "--output", out,
                 "--repeat", str(args.repeats)],
                capture_output=True, text=True, check=True)
            m = re.search(r"items_per_second=(\d+)", res.stderr)
            dl_rate = float(m.group(1))
            with open(out) as f:
                got = json.load(f)
            dl_loss = np.array(got["loss"])
            dl_grad = np.array(got["grad"])
            tv_rate = args.n / tv_secs
            print(f"{name:6} {tv_rate:20.3e} {dl_rate:16.3e} {dl_rate / tv_rate:6.1f}x "
                  f"{np.nanmax(np.abs(dl_loss - tv_loss)):12.2e} {np.nanmax(np.abs(dl_grad - tv_grad)):12.2e}")
        # Sigmoid focal loss (alpha 0.25, gamma 2) on logits: 1 % positives.
        rng = np.random.default_rng(11)
        x = (rng.random(args.n) - 0.5) * 12.0
        y = (rng.random(args.n) < 0.01).astype(np.float64)
        with open(inp, "w") as f:
            json.dump({"logits": x.tolist(), "target": y.tolist()}, f)
        best = float("inf")
        for _ in range(args.repeats):
            xt = torch.from_numpy(x).clone().requires_grad_()
            start = time.perf_counter()
            loss = torchvision.ops.sigmoid_focal_loss(xt, torch.from_numpy(y), alpha=0.25, gamma=2, reduction="none")
            loss.sum().backward()
            best = min(best, time.perf_counter() - start)
        tv_loss, tv_grad = loss.detach().numpy(), xt.grad.numpy()
        res = subprocess.run(
            [args.detloss, "-j", "1", "loss", "--name", "focal", "--input", inp, "--output", out,
             "--repeat", str(args.repeats)],
            capture_output=True, text=True, check=True)
        dl_rate = float(re.search(r"items_per_second=(\d+)", res.stderr).group(1))
        with open(out) as f:
            got = json.load(f)
        tv_rate = args.n / best
        print(f"{'focal':6} {tv_rate:20.3e} {dl_rate:16.3e} {dl_rate / tv_rate:6.1f}x "
              f"{np.max(np.abs(np.array(got['loss']) - tv_loss)):12.2e} "
              f"{np.max(np.abs(np.array(got['grad']) - tv_grad)):12.2e}   (per logit)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
