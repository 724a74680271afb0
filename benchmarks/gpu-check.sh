#!/usr/bin/env bash
# The torch engine's GPU check, for a machine with python3 + torch + numpy + pillow and CUDA (node optional).
# ViT-B/16 from random weights, bf16 autocast: training images/s of a plain PyTorch loop and of the worker
# (JSON-lines interface) at batch 256 and 512 on varied-size images prepared as `time-merge clip prepare`
# does, decoded each time; the loader's images/s alone; evaluation images/s without the weights' load; the
# fixture's parity; the overhead per TIME step (store + merge + deploy, measured by node when present, plus
# the weights' exchange) against 1420 training steps; the projected hours of a full ema_paint run with
# evaluation. Fits 8 minutes, start-up included; the JSON is rewritten after every stage.
#
#   bash benchmarks/gpu-check.sh            # the GPU check (needs CUDA: exit 2 without it)
#   bash benchmarks/gpu-check.sh --tiny     # the same stages with the tiny CLIP on any device (about a minute)
#   bash benchmarks/gpu-check.sh --cpu-vit  # one ViT-B/16 step of each stage on any device (minutes on a CPU)
# Figures go to $OUT (if set) or results/bench/, as torch-gpu-check[-tiny|-cpu-vit].json and .log.
# The interpreter: TIME_MERGE_PYTHON, else the first python3 on PATH that imports torch (gpu-check-python.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
# GPU_CHECK_BUDGET (seconds) lifts the 8-minute budget, for tests on slow shared machines.
budget=${GPU_CHECK_BUDGET:-480}
start=$SECONDS
out="${OUT:-results/bench}"
mkdir -p "$out"
# shellcheck source=benchmarks/gpu-check-python.sh
. benchmarks/gpu-check-python.sh
IFS=$'\t' read -r py source < <(pick_python)
name=torch-gpu-check
cuda=(--require-cuda)
case "${1:-}" in
  --tiny)
    name=torch-gpu-check-tiny
    cuda=()
    args=(--size tiny --batches 8,16 --steps 3 --worker-steps 4 --images 64 --eval-images 64) ;;
  --cpu-vit)
    name=torch-gpu-check-cpu-vit
    cuda=()
    args=(--size vit-b-16 --batches 2 --steps 1 --warmup 0 --worker-steps 2 --images 16 --eval-images 8) ;;
  "")
    args=(--size vit-b-16 --batches 256,512 --steps 20 --worker-steps 20 --images 4096 --eval-images 4096) ;;
  *)
    echo "gpu-check: unknown option $1 (--tiny or --cpu-vit)" >&2
    exit 2 ;;
esac
json="$out/$name.json"
log="$out/$name.log"
# A failed or cut run must not leave an older run's figures looking current.
rm -f "$json" "$json.tmp" "$log"
{
  echo "gpu-check: $(date -u +%FT%TZ) on $(hostname), $(nproc) cores; python: $py ($source)"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
} 2>&1 | tee "$log"
if ! probe=$("$py" -c 'import torch, numpy, PIL; print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())' 2>&1); then
  echo "gpu-check: needs python3 with torch, numpy and pillow; $py failed: $(echo "$probe" | tail -1)" | tee -a "$log" >&2
  exit 2
fi
echo "$probe" | tee -a "$log"
if [ ${#cuda[@]} -gt 0 ] && [[ "$probe" == *"available False"* ]]; then
  echo "gpu-check: $py ($probe) sees no CUDA GPU; the GPU check needs one (set TIME_MERGE_PYTHON to an interpreter with CUDA torch; --tiny or --cpu-vit run without)" | tee -a "$log" >&2
  exit 2
fi
pipeline=()
if command -v node >/dev/null && [ -d node_modules/tsx ]; then
  echo "gpu-check: node $(node --version): store + merge + deploy per TIME step at ViT-B/16 size" | tee -a "$log"
  line=$(timeout $((budget / 4)) node --import tsx benchmarks/gpu-time-step.ts --pipeline 2>>"$log" | tail -1)
  echo "$line" | tee -a "$log"
  s=$(echo "$line" | sed -n 's/.*"pipeline_step_s":\([0-9.e+-]*\).*/\1/p')
  if [ -n "$s" ]; then
    pipeline=(--pipeline-seconds "$s")
  else
    echo "gpu-check: the node step gave no figure (failed, or past $((budget / 4)) s); the overhead counts the weights' exchange only" | tee -a "$log"
  fi
else
  echo "gpu-check: node or node_modules not found; the overhead counts the weights' exchange only" | tee -a "$log"
fi
# The bench stops starting stages 60 s before the budget ends, keeping time to write its figures.
left=$((budget - (SECONDS - start)))
PYTHONPATH=engines/torch timeout $((left - 10)) "$py" -m time_merge_torch.bench "${args[@]}" "${cuda[@]}" \
  "${pipeline[@]}" --deadline $((left - 70)) --fixture test/fixtures/open_clip/tiny-a --out "$json" 2>&1 | tee -a "$log"
rc=${PIPESTATUS[0]}
echo "gpu-check: $((SECONDS - start)) s in all, exit $rc; figures in $json" | tee -a "$log"
exit "$rc"
