#!/usr/bin/env bash
# Run benchmarks/gpu_check.py against THIS tree's code: bash benchmarks/gpu_check.sh OUT_DIR [gpu_check.py options]
#
# Interpreter: .venv/bin/python when it runs here and imports torch, else python3 (on the lent GPU
# machines, the image's Python that holds a CUDA torch). Wheels carried in .whl/ (what that image
# lacks: libcst, av, pydantic) are installed into a temporary directory first. temporalkit is made
# importable from this tree through a staging directory of symlinks on PYTHONPATH (the editable
# install in .venv names absolute /work/main paths, and the package maps validators/ and
# reference_models/ into temporalkit.*). PYTHONSAFEPATH=1 keeps `python -m temporalkit.cli` run
# from the tree root from importing ./temporalkit without its mapped subpackages.
#
# .venv cannot travel to a lent GPU machine (5.7 GB with the CUDA torch; 64 MiB may travel, and its
# python links to /root/.pyenv/versions/3.11.7). The image there has python3 3.12 with torch and
# torchvision; make .whl/ once here and carry it (about 40 MB):
#   echo /.whl/ >> .git/info/exclude
#   .venv/bin/python -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 -d .whl \
#     libcst==1.9.0 av==18.1.0 pydantic==2.14.4 pydantic_core==2.50.5 annotated-types==0.8.0 \
#     typing-inspection==0.4.5 typing_extensions==4.16.0
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
ROOT=$PWD
OUT=${1:-outputs/gpu_check}
shift $(( $# > 0 ? 1 : 0 ))
mkdir -p "$OUT" || exit 2

if [ -x .venv/bin/python ] && .venv/bin/python -c "import torch" >/dev/null 2>&1; then
  PY=$ROOT/.venv/bin/python
else
  PY=$(command -v python3) || { echo "gpu_check.sh: neither .venv/bin/python nor python3 runs here" >&2; exit 2; }
  [ -e .venv/bin/python ] && echo "gpu_check.sh: .venv/bin/python does not run here (its interpreter: $(readlink .venv/bin/python3.11 2>/dev/null || readlink .venv/bin/python)); using $PY"
fi

STAGE=$(mktemp -d "${TMPDIR:-/tmp}/gpu_check-path.XXXXXX")
if ! "$PY" -c "import libcst, av" >/dev/null 2>&1 && compgen -G ".whl/*.whl" >/dev/null; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$STAGE/site" .whl/*.whl \
    || echo "gpu_check.sh: installing .whl/*.whl failed; going on without them"
fi
mkdir -p "$STAGE/pkg/temporalkit" "$STAGE/bin"
for entry in temporalkit/*; do ln -s "$ROOT/$entry" "$STAGE/pkg/temporalkit/"; done
for sub in validators reference_models prompts skills; do ln -s "$ROOT/$sub" "$STAGE/pkg/temporalkit/$sub"; done
printf '#!/bin/sh\nexec "%s" -m temporalkit.cli "$@"\n' "$PY" >"$STAGE/bin/temporalkit"
printf '#!/bin/sh\nexec "%s" -m torch.distributed.run "$@"\n' "$PY" >"$STAGE/bin/torchrun"
chmod +x "$STAGE/bin/temporalkit" "$STAGE/bin/torchrun"

export PYTHONPATH="$STAGE/pkg:$STAGE/site${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONSAFEPATH=1 PYTHONUNBUFFERED=1 PATH="$STAGE/bin:$PATH"

"$PY" -c 'import os, sys, temporalkit, temporalkit.validators.dynamic, temporalkit.reference_models.registry as r
real = os.path.realpath(temporalkit.__file__)
try:
    import torch
    found = f"torch {torch.__version__} (CUDA build {torch.version.cuda}, available {torch.cuda.is_available()})"
except ImportError as exc:
    found = f"NO torch ({exc})"
print(f"gpu_check.sh: python {sys.version.split()[0]} at {sys.executable}, {found}; temporalkit -> {real}")
sys.exit(0 if real.startswith(os.path.realpath(sys.argv[1]) + os.sep) else 1)' "$ROOT" \
  || { echo "gpu_check.sh: temporalkit does not import from $ROOT" >&2; exit 2; }

"$PY" benchmarks/gpu_check.py --out "$OUT" "$@"
status=$?
rm -rf "$STAGE"
exit $status
