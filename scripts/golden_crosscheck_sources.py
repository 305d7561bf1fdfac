#!/usr/bin/env python3
"""Optional check that the mmdet / ultralytics formulas transcribed in
golden_box_losses.py match the libraries' own source, bit for bit.

It does not import mmdet (needs mmcv) or ultralytics: it `pip download`s the
wheels (no deps), pulls the needed functions out of the .py files with `ast`
(decorators dropped: mmdet's @weighted_loss is only reduction/weighting),
executes them, recomputes loss + autograd gradient on tests/golden/box_pairs.json
and compares with tests/golden/box_{mmdet,ultralytics}.json.

Run with:  CROSSCHECK=1 bash scripts/make_golden.sh
"""
from __future__ import annotations

import ast
import json
import math
import subprocess
import sys
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import golden_box_losses as G  # noqa: E402

torch.set_default_dtype(torch.float64)
WHEELS = {"mmdet": f"mmdet=={G.MMDET_VERSION}", "ultralytics": f"ultralytics=={G.ULTRALYTICS_VERSION}"}
FILES = {
    "mmdet/structures/bbox/bbox_overlaps.py": {"fp16_clamp", "bbox_overlaps"},
    "mmdet/models/losses/iou_loss.py": {"iou_loss", "giou_loss", "diou_loss", "ciou_loss"},
    "mmdet/models/losses/balanced_l1_loss.py": {"balanced_l1_loss"},
    "ultralytics/utils/metrics.py": {"bbox_iou"},
}


def load_functions(tmp: Path) -> dict:
    for spec in WHEELS.values():
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--disable-pip-version-check", spec, "-d", str(tmp)], check=True)
    ns = {"torch": torch, "math": math, "np": np, "Tensor": torch.Tensor, "warnings": warnings}
    for whl in tmp.glob("*.whl"):
        with zipfile.ZipFile(whl) as z:
            for path, names in FILES.items():
                if path not in z.namelist():
                    continue
                src = z.read(path).decode()
                tree = ast.parse(src)
                body = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in names]
                for n in body:
                    n.decorator_list = []
                assert {n.name for n in body} == names, (path, names)
                exec(compile(ast.Module(body=body, type_ignores=[]), path, "exec"), ns)
    return ns


def main() -> int:
    with tempfile.TemporaryDirectory() as d:
        ns = load_functions(Path(d))
    real = {
        ("iou", "mmdet"): lambda p, t: ns["iou_loss"](p, t, mode="linear", eps=1e-6),
        ("iou_log", "mmdet"): lambda p, t: ns["iou_loss"](p, t, mode="log", eps=1e-6),
        ("iou_square", "mmdet"): lambda p, t: ns["iou_loss"](p, t, mode="square", eps=1e-6),
        ("giou", "mmdet"): lambda p, t: ns["giou_loss"](p, t, eps=1e-6),
        ("diou", "mmdet"): lambda p, t: ns["diou_loss"](p, t, eps=1e-6),
        ("ciou", "mmdet"): lambda p, t: ns["ciou_loss"](p, t, eps=1e-6),
        ("balanced_l1", "mmdet"): lambda p, t: ns["balanced_l1_loss"](p, t, beta=1.0, alpha=0.5, gamma=1.5).sum(-1),
        ("giou", "ultralytics"): lambda p, t: 1 - ns["bbox_iou"](p, t, xywh=False, GIoU=True, eps=1e-7).squeeze(-1),
        ("diou", "ultralytics"): lambda p, t: 1 - ns["bbox_iou"](p, t, xywh=False, DIoU=True, eps=1e-7).squeeze(-1),
        ("ciou", "ultralytics"): lambda p, t: 1 - ns["bbox_iou"](p, t, xywh=False, CIoU=True, eps=1e-7).squeeze(-1),
    }
    pairs = json.loads((G.OUT / "box_pairs.json").read_text())
    pred = torch.tensor(pairs["pred"])
    target = torch.tensor(pairs["target"])
    bad = 0
    for fam in ("mmdet", "ultralytics"):
        doc = json.loads((G.OUT / f"box_{fam}.json").read_text())
        for c in doc["cases"]:
            loss, grad = G.loss_and_grad(real[(c["name"], c["variant"])], pred, target)
            ll, gl = G.to_json_lists(loss, grad)
            ok = ll == c["loss"] and gl == c["grad"]
            bad += not ok
            print(f"  {c['name'] + '/' + c['variant']:22s} {'identical to library source' if ok else 'DIFFERS'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
