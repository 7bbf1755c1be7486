#!/usr/bin/env bash
# Train pieces of notebook 02's `paper` runs on a machine lent with a GPU for a few minutes.
#
# The machine runs a copy of this working tree with its own python3 (PyTorch with CUDA,
# torch_geometric, timm, numba: no project virtual environment, no papermill). The WBC data travel
# in the git-ignored folder .devdata/ (copy them there first; see README, "Notebook 02 in pieces").
# Every finished piece is one result-cache entry written atomically under $OUT/runs, so what was
# finished comes back even if the command is stopped at its time limit; copy the entries into this
# machine's cache folder (.cache/runs) and the notebook loads them.
#
# usage: tools/device_pieces.sh RUN [options of python -m medgraph.pieces]
#   e.g. tools/device_pieces.sh 02_smgnn_vs_baselines_wbc1 --models unet --seeds 0 1 2 --budget-s 420
set -euo pipefail
run="${1:?usage: tools/device_pieces.sh RUN [options of python -m medgraph.pieces]}"
shift
out="${OUT:?OUT must name the folder whose files come back}"
export PYTHONPATH="$PWD/lib${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
export MEDGRAPH_DATA="${MEDGRAPH_DATA:-$PWD/.devdata}"
export MEDGRAPH_RESULT_CACHE="$out/runs"
mkdir -p "$MEDGRAPH_RESULT_CACHE"
(nvidia-smi -L 2>/dev/null || echo "no nvidia-smi") | tee "$out/pieces.log"
python3 -m medgraph.pieces --profile paper --device "${PIECES_DEVICE:-cuda}" --run "$run" "$@" \
    2>&1 | tee -a "$out/pieces.log"
