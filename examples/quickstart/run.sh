#!/usr/bin/env bash
# The whole pipeline on a toy task that the project generates itself (no download), on CPU:
# make data -> preprocess -> build-vocab -> train -> translate -> score.
#
#   bash examples/quickstart/run.sh [WORK_DIR]      (default: runs/quickstart)
#
# Finds the tools itself: the repository's own .venv (the README's set-up) when it has
# nmtkit, else whatever nmtkit and python are on PATH. No activated venv is needed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
if [[ -x $repo/.venv/bin/nmtkit ]]; then
  # An absolute path: the script changes directory below.
  PATH="$repo/.venv/bin:$PATH"
  export PATH
  py=$repo/.venv/bin/python
elif command -v python >/dev/null 2>&1; then
  py=python
else
  py=python3  # a plain machine may have only python3
fi
if ! command -v nmtkit >/dev/null 2>&1; then
  echo 'quickstart: nmtkit is not installed; run: python3 -m venv .venv && .venv/bin/pip install -c constraints.txt -e ".[test]"' >&2
  exit 2
fi
work=${1:-$repo/runs/quickstart}
mkdir -p "$work"
cd "$work"
set -x
"$py" "$here/make_data.py" toy
nmtkit preprocess --src toy/train.src --tgt toy/train.tgt \
  --valid-src toy/valid.src --valid-tgt toy/valid.tgt --out data --spm-vocab-size 300 --overwrite
nmtkit build-vocab data
nmtkit train --config "$here/config.yaml" --data data --model-dir model --overwrite
nmtkit translate --model-dir model --beam 5 < toy/test.src > test.hyp
nmtkit score --ref toy/test.tgt < test.hyp
{ set +x; } 2>/dev/null
echo "quickstart: translations in $work/test.hyp; first lines, source / output / reference:"
paste -d '\n' <(head -3 toy/test.src) <(head -3 test.hyp) <(head -3 toy/test.tgt) <(printf '\n\n\n')
