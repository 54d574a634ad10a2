#!/usr/bin/env bash
# Runs ON the GPU machine, from the repository root: builds the CUDA op tests (and the ingot
# binary) for sm_90, runs the CUDA-vs-CPU op parity tests, then model parity through
# `ingot eval --backend cuda` against tests/reference/models/*/logits_1.npy, `ingot run` and
# `ingot bench` on cuda and cpu, then compute-sanitizer if time is left; tables last.
# The machine lacks the cpp-httplib, pcre2 and brotli headers (cpp-httplib's pkg-config file
# requires brotli) and the cpp-httplib library: their Debian packages are expected in
# .device-carry/debs/ (git-ignored; carried along with the call) and are unpacked with dpkg -x
# into a temporary prefix that CMake finds through pkg-config. Logs go to $OUT (or ./gpu-check-out).
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-$PWD/gpu-check-out}
mkdir -p "$out"
build=${INGOT_GPU_BUILD:-build/gpu-check}
jobs=$(nproc)
script_start=$(date +%s)
budget=${INGOT_GPU_BUDGET_S:-390}  # the lease's command limit, minus a margin for the table
left() { echo $((budget - ($(date +%s) - script_start))); }
log() { echo "gpu-check: $*" | tee -a "$out/summary.txt"; }

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader >"$out/gpu.txt" 2>&1
log "device: $(head -1 "$out/gpu.txt")"
nvcc_path=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
log "nvcc: $("$nvcc_path" --version | tail -2 | head -1)"

# --- headers the machine lacks, from Debian packages ---
prefix=$(mktemp -d /tmp/ingot-debs.XXXXXX)
for deb in .device-carry/debs/libpcre2-*.deb .device-carry/debs/libcpp-httplib*.deb \
  .device-carry/debs/libbrotli*.deb; do
  [ -f "$deb" ] && dpkg -x "$deb" "$prefix"
done
pcdir="$prefix/usr/lib/x86_64-linux-gnu/pkgconfig"
if [ -d "$pcdir" ]; then
  # The .pc files say prefix=/usr: point them at the unpacked tree.
  sed -i "s|^prefix=/usr|prefix=$prefix/usr|" "$pcdir"/*.pc
  export PKG_CONFIG_PATH="$pcdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
else
  log "no .device-carry/debs: relying on system pcre2 / cpp-httplib headers"
fi
export LD_LIBRARY_PATH="$prefix/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# --- configure and build ---
start=$(date +%s)
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DINGOT_CUDA=ON \
  -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_CUDA_COMPILER="$nvcc_path" -DINGOT_BENCH=OFF \
  -DCMAKE_PREFIX_PATH="$prefix/usr" \
  >"$out/configure.log" 2>&1
rc=$?
log "configure: rc=$rc ($(($(date +%s) - start)) s)"
if [ $rc -ne 0 ]; then tail -30 "$out/configure.log"; exit 1; fi
start=$(date +%s)
cmake --build "$build" --target ingot_gpu_tests -j "$jobs" >"$out/build-tests.log" 2>&1
rc=$?
log "build ingot_gpu_tests: rc=$rc ($(($(date +%s) - start)) s)"
if [ $rc -ne 0 ]; then
  grep -E "error|warning|FAILED" "$out/build-tests.log" | head -40 | tee -a "$out/summary.txt"
  # A compiler newer than CI's may warn where CI's does not: record it above, then build once
  # more without -Werror (a launcher drops it) so the tests still run on this lease.
  cat >"$prefix/no-werror" <<'WRAP'
#!/usr/bin/env bash
args=()
for a in "$@"; do
  case "$a" in
    -Werror | --Werror=all-warnings) ;;
    -Xcompiler=*) args+=("${a//,-Werror/}") ;;
    *) args+=("$a") ;;
  esac
done
exec "${args[@]}"
WRAP
  chmod +x "$prefix/no-werror"
  cmake -S . -B "$build" -DCMAKE_CXX_COMPILER_LAUNCHER="$prefix/no-werror" \
    -DCMAKE_CUDA_COMPILER_LAUNCHER="$prefix/no-werror" >>"$out/configure.log" 2>&1
  start=$(date +%s)
  cmake --build "$build" --target ingot_gpu_tests -j "$jobs" >"$out/build-tests-no-werror.log" 2>&1
  rc=$?
  log "build ingot_gpu_tests WITHOUT -Werror (warnings above): rc=$rc ($(($(date +%s) - start)) s)"
  if [ $rc -ne 0 ]; then grep -E "error|FAILED" "$out/build-tests-no-werror.log" | head -40; exit 1; fi
fi

# --- the op parity tests ---
start=$(date +%s)
test_bin=$(find "$build" -name ingot_gpu_tests -type f -perm -u+x | head -1)
INGOT_GPU_TABLE="$out/table.txt" timeout $(($(left) - 20)) "$test_bin" --gtest_color=no >"$out/gpu-tests.log" 2>&1
test_rc=$?
log "ingot_gpu_tests: rc=$test_rc ($(($(date +%s) - start)) s); $(grep -E '^\[  (PASSED|FAILED)  \]' "$out/gpu-tests.log" | tr '\n' ' ')"
grep -E '^\[  FAILED  \]|Failure|error' "$out/gpu-tests.log" | head -30 | tee -a "$out/summary.txt"

# --- the binary (after the tests, so a link problem cannot cost the test results) ---
start=$(date +%s)
if [ "$(left)" -gt 40 ]; then
  timeout $(($(left) - 10)) cmake --build "$build" --target ingot -j "$jobs" >"$out/build-ingot.log" 2>&1
  rc=$?
else
  rc=skipped
fi
log "build ingot: rc=$rc ($(($(date +%s) - start)) s)"
[ "$rc" != 0 ] && [ -f "$out/build-ingot.log" ] && grep -E "error|FAILED" "$out/build-ingot.log" | head -20
if [ "$rc" = 0 ]; then "$build/bin/ingot" --help >"$out/ingot-help.txt" 2>&1; log "ingot --help: rc=$?"; fi

# --- model parity and speed on the GPU, through the ingot binary (--backend cuda) ---
models_table="$out/models.txt"
: >"$models_table"
ingot_bin="$build/bin/ingot"
if [ "$rc" = 0 ]; then
  for name in llama3 smollm qwen2 qwen3; do
    dir=tests/reference/models/$name
    [ -d "$dir" ] || continue
    if [ "$(left)" -lt 90 ]; then log "parity $name: skipped (time)"; continue; fi
    gguf=/tmp/ingot-$name.gguf
    npy=/tmp/ingot-$name.npy
    ids=$(python3 -c "import json,sys; print(' '.join(map(str, json.load(open(sys.argv[1]))['prompts'][1])))" "$dir/prompts.json")
    timeout 60 "$ingot_bin" convert "$dir" "$gguf" --type F32 >"$out/convert-$name.log" 2>&1
    crc=$?
    timeout 60 "$ingot_bin" eval -m "$gguf" --backend cuda --prompt-ids "$ids" --logits "$npy" >"$out/eval-$name.log" 2>&1
    erc=$?
    result=$(python3 - "$npy" "$dir/logits_1.npy" <<'PY' 2>&1
import sys
import numpy as np
try:
    ours = np.load(sys.argv[1]).astype(np.float64)
    ref = np.load(sys.argv[2]).astype(np.float64)
    ref = ref.reshape(ours.shape)
    per_pos = np.abs(ours - ref).max(axis=1) / np.abs(ref).max(axis=1)
    worst = per_pos.max()
    same_argmax = (ours.argmax(axis=1) == ref.argmax(axis=1)).mean()
    print(f"{worst:.2e} | {per_pos.mean():.2e} | {len(per_pos)} | {same_argmax * 100:.0f}% | {'ok' if worst < 1e-4 else 'FAIL'}")
except Exception as e:
    print(f"- | - | - | - | error: {e}")
PY
)
    log "parity $name: convert rc=$crc, eval rc=$erc: $result"
    [ $erc -ne 0 ] && tail -5 "$out/eval-$name.log" | tee -a "$out/summary.txt"
    echo "| $name | F32 | $result |" >>"$models_table"
  done
  if [ "$(left)" -gt 60 ]; then
    start=$(date +%s)
    timeout 60 "$ingot_bin" run --backend cuda -p "Once upon a time" -n 32 >"$out/run-cuda.txt" 2>"$out/run-cuda.log"
    log "run --backend cuda: rc=$? ($(($(date +%s) - start)) s): $(head -c 300 "$out/run-cuda.txt" | tr '\n' ' ')"
    grep -E "^backend:" "$out/run-cuda.log" | head -1 | tee -a "$out/summary.txt"
  fi
  for b in cuda cpu; do
    if [ "$(left)" -lt 70 ]; then log "bench $b: skipped (time)"; continue; fi
    start=$(date +%s)
    timeout 90 "$ingot_bin" bench -m models/ingot-tiny/ingot-tiny-q8_0.gguf --backend $b >"$out/bench-$b.txt" 2>"$out/bench-$b.log"
    log "bench --backend $b: rc=$? ($(($(date +%s) - start)) s)"
  done
fi

# --- compute-sanitizer on the op tests (the 67 MB weight test is left out: slow under memcheck) ---
sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
for tool in memcheck racecheck; do
  if [ ! -x "$sanitizer" ] || [ "$(left)" -lt 60 ]; then log "$tool: skipped"; continue; fi
  filter='-*LargerThanOneDequantizedChunk*:*DeviceMemoryReturnsToBaseline*'
  [ $tool = racecheck ] && filter='GpuRowwise.*:Shapes/GpuAttention.*:GpuMatmul.Logits*'
  start=$(date +%s)
  timeout $(($(left) - 30)) "$sanitizer" --tool $tool --error-exitcode 3 "$test_bin" \
    --gtest_color=no --gtest_filter="$filter" >"$out/$tool.log" 2>&1
  rc=$?
  log "$tool: rc=$rc ($(($(date +%s) - start)) s); $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$out/$tool.log" | tail -1)"
done

echo
echo "=== CUDA vs CPU op parity (rel. error = ||gpu - cpu|| / ||cpu||; quantized rows pass when"
echo "    every element is within the CPU matmul's own tolerance of the exact product) ==="
[ -f "$out/table.txt" ] && cat "$out/table.txt"
echo
cat "$out/summary.txt"
echo
echo "=== model parity on the GPU: ingot eval --backend cuda vs logits_1.npy (F32 GGUF from ingot convert;"
echo "    max|ours - ref| / max|ref| per position; threshold 1e-4) ==="
echo "| model | type | worst | mean | positions | same argmax | verdict |"
echo "| --- | --- | ---: | ---: | ---: | ---: | --- |"
[ -f "$out/models.txt" ] && cat "$out/models.txt"
for b in cuda cpu; do
  if [ -f "$out/bench-$b.txt" ]; then echo; echo "=== ingot bench --backend $b (ingot-tiny Q8_0) ==="; cat "$out/bench-$b.txt"; fi
done
exit $test_rc
