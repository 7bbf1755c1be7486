#!/usr/bin/env bash
# Train pieces of a declared `paper` run (notebooks 02, 03) on a machine lent with a GPU for a few minutes.
#
# The machine runs a copy of this working tree with its own python3 (PyTorch with CUDA,
# torch_geometric, timm, numba: no project virtual environment, no papermill). The WBC data travel
# in the git-ignored folder .devdata/ (copy them there first; see README, "Trained runs: the store and training in pieces").
# Every finished piece is one result-cache entry written atomically under $OUT/runs, so what was
# finished comes back even if the command is stopped at its time limit; copy the entries into this
# machine's cache folder (.cache/runs) and the notebook loads them.
#
# PIECES_JOBS=N (default 1) runs N processes, each training every N-th piece (--shard), so that
# small models, which leave a large GPU mostly idle, train side by side; their CPU threads are
# divided between them.
#
# usage: tools/device_pieces.sh RUN [options of python -m medgraph.pieces]
#   e.g. PIECES_JOBS=3 tools/device_pieces.sh 02_smgnn_vs_baselines_wbc1 --models unet --budget-s 420
set -euo pipefail
run="${1:?usage: tools/device_pieces.sh RUN [options of python -m medgraph.pieces]}"
shift
out="${OUT:?OUT must name the folder whose files come back}"
jobs="${PIECES_JOBS:-1}"
export PYTHONPATH="$PWD/lib${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
export MEDGRAPH_DATA="${MEDGRAPH_DATA:-$PWD/.devdata}"
export MEDGRAPH_RESULT_CACHE="$out/runs"
mkdir -p "$MEDGRAPH_RESULT_CACHE"
log="$out/pieces.log"
(nvidia-smi -L 2>/dev/null || echo "no nvidia-smi") | tee "$log"
cores=$(nproc)
threads=$(( cores / jobs > 0 ? cores / jobs : 1 ))
status=0
pids=()
for i in $(seq 1 "$jobs"); do
    OMP_NUM_THREADS=$threads python3 -m medgraph.pieces --profile paper \
        --device "${PIECES_DEVICE:-cuda}" --run "$run" --shard "$i/$jobs" "$@" 2>&1 \
        | sed -u "s/^/[$i\/$jobs] /" | tee -a "$log" &
    pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit $status
