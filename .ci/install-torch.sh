#!/usr/bin/env bash
# Installs Debian's PyTorch (CPU), numpy and pillow for the torch engine's tests, when missing and we may.
# Never fails the build: under TIME_MERGE_REQUIRE_TORCH=1 the tests themselves report a missing torch.
set -uo pipefail

python="${TIME_MERGE_PYTHON:-/usr/bin/python3}"
if "$python" -c 'import torch, numpy, PIL' >/dev/null 2>&1; then
  echo "install-torch: $python already has torch $("$python" -c 'import torch; print(torch.__version__)')"
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "install-torch: torch missing and not root; skipping (the torch tests will fail under TIME_MERGE_REQUIRE_TORCH=1)"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-torch: torch missing and no apt-get; skipping"
  exit 0
fi

limit="${TORCH_INSTALL_TIMEOUT:-900}"
echo "install-torch: installing python3-torch python3-numpy python3-pil with apt-get (timeout ${limit}s)"
export DEBIAN_FRONTEND=noninteractive
if timeout "$limit" apt-get update -qq >/dev/null \
  && timeout "$limit" apt-get install -y -qq --no-install-recommends python3-torch python3-numpy python3-pil >/dev/null; then
  echo "install-torch: installed torch $("$python" -c 'import torch; print(torch.__version__)' 2>/dev/null || echo '(import failed)')"
else
  echo "install-torch: apt-get failed or timed out; the torch tests will report it"
fi
exit 0
