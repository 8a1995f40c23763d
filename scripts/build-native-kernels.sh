#!/usr/bin/env bash
# Compiles the kernels in src/backends/native/csrc/ into the two WebAssembly modules the app ships (both
# committed, so neither CI nor a user needs a compiler): training.wasm imports an ordinary memory
# (tfjs' single-threaded SIMD build), training-shared.wasm a shared one (its threaded build).
# Needs Debian's clang and lld: apt-get install -y clang lld
# Usage: npm run build:kernels [-- <output folder>] (default: next to the source).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(realpath "${1:-$root/src/backends/native}")"
cd "$root/src/backends/native/csrc"
# Every kernel file, in a fixed order (the modules are committed, and a test checks they are what these compile to).
sources=(batch_norm.c max_pool.c conv2d_filter_grad.c conv2d.c bias_relu.c rmsprop.c)
command -v clang >/dev/null && command -v wasm-ld >/dev/null || { echo "needs clang and wasm-ld: apt-get install -y clang lld" >&2; exit 1; }
flags=(--target=wasm32 -O3 -msimd128 -mbulk-memory -ffreestanding -fno-builtin -nostdlib -Wall -Wextra -Werror
  -Wl,--no-entry -Wl,--import-memory -Wl,--strip-all)
clang "${flags[@]}" -o "$out/training.wasm" "${sources[@]}"
clang "${flags[@]}" -matomics -Wl,--shared-memory -Wl,--max-memory=4294967296 -o "$out/training-shared.wasm" "${sources[@]}"
# No stack: it would live in tfjs' heap (csrc/kernels.h). Locals that spill (a local array, say) make clang use one.
for f in "$out/training.wasm" "$out/training-shared.wasm"; do
  if llvm-objdump -d "$f" | grep -q 'global\.[gs]et'; then echo "$f: uses the stack pointer (a local array or spill in a kernel); keep scratch in the caller's buffers" >&2; exit 1; fi
done
(cd "$root" && npx tsx scripts/check-native-kernels.ts "$out/training.wasm" "$out/training-shared.wasm")
