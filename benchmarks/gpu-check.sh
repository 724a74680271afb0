#!/usr/bin/env bash
# The torch engine's GPU check, for a machine with python3 + torch (+ CUDA), maybe without node:
# ViT-B/16 from random weights, training images/s at batch 256 and 512 (bf16 autocast) of a plain PyTorch
# loop and of the worker driven through its JSON-lines interface on generated images, their ratio,
# evaluation images/s, the weights' round trip, and the fixture's parity on both attention paths.
# With node and node_modules present it also runs one full TIME step through `time-merge clip`.
#
#   bash benchmarks/gpu-check.sh          # the GPU check (a few minutes on an H100/H200)
#   bash benchmarks/gpu-check.sh --tiny   # the same steps with the tiny CLIP, seconds on a CPU
# Figures go to $OUT (if set) or results/bench/, as torch-gpu-check.json and .log.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-results/bench}"
mkdir -p "$out"
py="${TIME_MERGE_PYTHON:-python3}"
name=torch-gpu-check
if [ "${1:-}" = "--tiny" ]; then
  name=torch-gpu-check-tiny
  args=(--size tiny --batches 8,16 --steps 5 --worker-steps 5 --images 64 --eval-images 64)
else
  args=(--size vit-b-16 --batches 256,512 --steps 20 --worker-steps 20 --images 2048 --eval-images 2048)
fi
log="$out/$name.log"
{
  echo "gpu-check: $(date -u +%FT%TZ) on $(hostname), $(nproc) cores"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  "$py" -c 'import torch, numpy, PIL; print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())'
} 2>&1 | tee "$log"
PYTHONPATH=engines/torch timeout 420 "$py" -m time_merge_torch.bench "${args[@]}" \
  --fixture test/fixtures/open_clip/tiny-a --out "$out/$name.json" 2>&1 | tee -a "$log"
rc=${PIPESTATUS[0]}
if command -v node >/dev/null && [ -d node_modules/tsx ]; then
  echo "gpu-check: node $(node --version) found; one TIME step through time-merge clip (tiny tree)" | tee -a "$log"
  timeout 120 node --import tsx benchmarks/gpu-time-step.ts 2>&1 | tee -a "$log"
else
  echo "gpu-check: node or node_modules not found; the worker ran standalone through its JSON-lines interface" | tee -a "$log"
fi
exit "$rc"
