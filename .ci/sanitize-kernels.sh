#!/usr/bin/env bash
# The native kernels' tests once more under AddressSanitizer and UBSan: the addon is built with
# -fsanitize=address,undefined (any report aborts) into a temporary folder, and the kernel tests load
# that build (TIME_MERGE_NATIVE_ADDON) in a node with libasan preloaded. About half a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(mktemp -d -t tm-sanitize-XXXXXX)
trap 'rm -rf "$dir"' EXIT
node src/params/kernels/native/build.mjs --sanitize "$dir" >"$dir/build.log" 2>&1 || { tail -30 "$dir/build.log"; exit 1; }
libasan=$(${CC:-gcc} -print-file-name=libasan.so)
[ -e "$libasan" ] || { echo "no libasan.so for ${CC:-gcc}"; exit 1; }
# V8 keeps memory until exit by design: leak reports would be noise.
LD_PRELOAD="$libasan" ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 \
  TIME_MERGE_NATIVE_ADDON="$dir/build/Release/time_merge_kernels.node" TIME_MERGE_KERNELS=native \
  npx vitest run test/kernels.test.ts test/kernels-simd.test.ts test/merge-mapped.test.ts
