#!/usr/bin/env bash
# The whole pipeline on a toy task that the project generates itself (no download), on CPU:
# make data -> preprocess -> build-vocab -> train -> translate -> score.
#
#   bash examples/quickstart/run.sh [WORK_DIR]      (default: runs/quickstart)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${1:-$(cd "$here/../.." && pwd)/runs/quickstart}
mkdir -p "$work"
cd "$work"
set -x
python "$here/make_data.py" toy
nmtkit preprocess --src toy/train.src --tgt toy/train.tgt \
  --valid-src toy/valid.src --valid-tgt toy/valid.tgt --out data --spm-vocab-size 300 --overwrite
nmtkit build-vocab data
rm -rf model
nmtkit train --config "$here/config.yaml" --data data --model-dir model
nmtkit translate --model-dir model --beam 5 < toy/test.src > test.hyp
nmtkit score --ref toy/test.tgt < test.hyp
{ set +x; } 2>/dev/null
echo "quickstart: translations in $work/test.hyp; first lines, source / output / reference:"
paste -d '\n' <(head -3 toy/test.src) <(head -3 test.hyp) <(head -3 toy/test.tgt) <(printf '\n\n\n')
