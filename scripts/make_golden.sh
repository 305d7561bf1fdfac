#!/usr/bin/env bash
# Regenerate the golden reference values in tests/golden/ (box_pairs.json,
# box_{torchvision,mmdet,ultralytics,elementwise}.json,
# cls_{elementwise,softmax}.json and box_recent.json).
#
# Usage:  bash scripts/make_golden.sh            (from anywhere)
#         PYTHON=python3.12 bash scripts/make_golden.sh
#         CROSSCHECK=1 bash scripts/make_golden.sh   (also runs
#             scripts/golden_crosscheck_sources.py and
#             scripts/golden_cls_losses.py --crosscheck, see there)
#
# What it does
#   1. creates a venv at <repo>/.venv-golden (gitignored) unless it already has
#      the pinned torch/torchvision;
#   2. installs torch==2.14.1 + torchvision==0.29.2 from PyPI;
#   3. runs scripts/golden_box_losses.py, which writes tests/golden/box_*.json,
#      and scripts/golden_cls_losses.py, which writes tests/golden/cls_*.json
#      (the classification losses: bce, focal, qfl, vfl, logistic, hinge,
#      exponential, ce, kd, dfl);
#   4. runs scripts/golden_recent_losses.py, which reads box_pairs.json (step 3
#      wrote it) and writes tests/golden/box_recent.json: the newer box losses
#      (Wise-IoU v1/v2/v3 and its running mean, MPDIoU, Inner-IoU, Shape-IoU,
#      Focaler-IoU, NWD) transcribed from their authors' code, with one image
#      size per row for MPDIoU (tests/golden_recent.rs checks them).
#
# Notes on the torch install (findings when this script was written):
#   * Only PyPI is reachable (download.pytorch.org is not), so there is no
#     "+cpu" wheel.  The PyPI Linux x86_64 torch wheel is the CUDA build
#     (torch 2.14.1+cu130, 555 MB wheel).
#   * torchvision 0.29.2 declares `torch>=2.14.0`; it is the release built for
#     the torch 2.14 series.  torch 2.15.0 is already on PyPI, so torch MUST be
#     pinned explicitly or pip picks 2.15 (ABI mismatch for torchvision's _C).
#   * Tried: `pip install --no-deps torch torchvision` + only the pure-Python
#     deps (filelock, typing-extensions, sympy, networkx, jinja2, fsspec, numpy,
#     pillow).  `import torch` then FAILS: libtorch_global_deps.so / libtorch_cpu
#     are linked against libcudart.so.13, libcublasLt, cudnn, nccl, ... and
#     torch/__init__.py raises "libcublasLt.so.*[0-9] not found".  So the CUDA
#     runtime wheels cannot be dropped.
#   * The full `pip install torch==2.14.1 torchvision==0.29.2` (with all the
#     nvidia-*/cuda-toolkit/triton deps) took ~73 s here with an empty pip cache
#     (--no-cache-dir) and the venv is ~5.5 GB (nvidia/ 3.2 GB, triton 0.9 GB).
#     No GPU is needed at run time: everything runs on CPU, torch.cuda is
#     simply unavailable.
#   * golden_recent_losses.py needs no extra package: the authors' code of
#     those six losses is plain torch, written out in the script with its
#     repository, file and commit in each case's `source`.
#   * mmdet 3.3.0 and ultralytics 8.4.x are NOT installed (mmdet needs mmcv);
#     their formulas are re-implemented in golden_box_losses.py from the
#     package sources (`pip download mmdet==3.3.0 --no-deps`,
#     `pip download ultralytics --no-deps`, read the .whl).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv-golden"
PYTHON="${PYTHON:-python3}"
TORCH_VERSION="2.14.1"
TORCHVISION_VERSION="0.29.2"

have_pinned() {
    [ -x "$VENV/bin/python" ] && "$VENV/bin/python" - "$TORCH_VERSION" "$TORCHVISION_VERSION" <<'EOF' 2>/dev/null
import sys
import torch, torchvision
ok = (torch.__version__.split("+")[0] == sys.argv[1]
      and torchvision.__version__.split("+")[0] == sys.argv[2]
      and float(torch.ones(2, dtype=torch.float64).sum()) == 2.0)
sys.exit(0 if ok else 1)
EOF
}

if ! have_pinned; then
    echo "[make_golden] creating venv $VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --disable-pip-version-check --quiet --upgrade pip
    echo "[make_golden] installing torch==$TORCH_VERSION torchvision==$TORCHVISION_VERSION (~3.5 GB download, ~1-2 min)"
    start=$(date +%s)
    "$VENV/bin/python" -m pip install --disable-pip-version-check \
        "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION" numpy
    echo "[make_golden] install took $(( $(date +%s) - start )) s"
    have_pinned || { echo "[make_golden] torch import check failed" >&2; exit 1; }
fi

cd "$ROOT"
"$VENV/bin/python" scripts/golden_box_losses.py "$@"
"$VENV/bin/python" scripts/golden_cls_losses.py
"$VENV/bin/python" scripts/golden_recent_losses.py

# Optional: re-run the mmdet/ultralytics functions from their own wheels'
# source and require bit-identical loss/grad (downloads two small wheels).
if [ "${CROSSCHECK:-0}" = "1" ]; then
    echo "[make_golden] cross-checking transcriptions against mmdet/ultralytics source"
    "$VENV/bin/python" scripts/golden_crosscheck_sources.py
    "$VENV/bin/python" scripts/golden_cls_losses.py --crosscheck
fi
