#!/usr/bin/env bash
# Runs ON the GPU machine, from the repository root: builds the CUDA op tests (and the ingot
# binary) for sm_90, runs the CUDA-vs-CPU op parity tests, then model parity through
# `ingot eval --backend cuda` against tests/reference/models/*/logits_1.npy, `ingot run` and
# `ingot bench` on cuda and cpu, then compute-sanitizer if time is left; tables last.
# The machine lacks the cpp-httplib, pcre2 and brotli headers (cpp-httplib's pkg-config file
# requires brotli) and the cpp-httplib library: their Debian packages are expected in
# .device-carry/debs/ (git-ignored; carried along with the call) and are unpacked with dpkg -x
# into a temporary prefix that CMake finds through pkg-config. Logs go to $OUT (or ./gpu-check-out).
# INGOT_GPU_STEPS picks the steps (default "tests parity tiny sanitizers"); "large" synthesizes
# the issue-8 benchmark files (8B Q4_K_M / Q8_0 / F16, 1B untied Q4_K_M; INGOT_GPU_LARGE lists a
# subset as preset:type[:untied]) and benches them beside llama.cpp's recorded numbers.
# INGOT_GPU_TESTS is a gtest filter for the tests step (default: all), INGOT_GPU_SANITIZE_TESTS
# one for the sanitizers (default: their lists; timings, INGOT_GPU_SPEED, never run under them);
# INGOT_GPU_BINARY=0 skips building the ingot binary when no step needs it.
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
steps=" ${INGOT_GPU_STEPS:-tests parity tiny sanitizers} "
has_step() { [[ "$steps" == *" $1 "* ]]; }

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
if has_step tests || has_step sanitizers; then
  cmake --build "$build" --target ingot_gpu_tests -j "$jobs" >"$out/build-tests.log" 2>&1
  rc=$?
else
  cmake --build "$build" --target ingot -j "$jobs" >"$out/build-tests.log" 2>&1
  rc=$?
fi
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
test_rc=0
if has_step tests; then
  INGOT_GPU_TABLE="$out/table.txt" timeout $(($(left) - 20)) "$test_bin" --gtest_color=no \
    --gtest_filter="${INGOT_GPU_TESTS:-*}" >"$out/gpu-tests.log" 2>&1
  test_rc=$?
  log "ingot_gpu_tests: rc=$test_rc ($(($(date +%s) - start)) s); $(grep -E '^\[  (PASSED|FAILED)  \]' "$out/gpu-tests.log" | tr '\n' ' ')"
  grep -E '^\[  FAILED  \]|Failure|error' "$out/gpu-tests.log" | head -30 | tee -a "$out/summary.txt"
fi

# --- the binary (after the tests, so a link problem cannot cost the test results) ---
start=$(date +%s)
if [ "${INGOT_GPU_BINARY:-1}" = 0 ] && ! has_step parity && ! has_step tiny && ! has_step large; then
  rc=skipped
elif [ "$(left)" -gt 40 ]; then
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
if [ "$rc" = 0 ] && has_step parity; then
  bash scripts/gpu-parity.sh "$ingot_bin" "$out" $(($(left) - 60)) >>"$models_table"
  cat "$out/parity-log.txt" >>"$out/summary.txt"
fi
if [ "$rc" = 0 ] && has_step tiny; then
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

# --- issue 8's benchmark files: synthesize, bench on cuda, compare with llama.cpp's numbers ---
large_table="$out/large.txt"
if [ "$rc" = 0 ] && has_step large; then
  synth_dir=${INGOT_SYNTH_DIR:-/tmp/ingot-synth}
  mkdir -p "$synth_dir"
  # Copy bandwidth (read + write bytes per second of a 4 GiB device-to-device copy), for the
  # fraction of it that tg128 achieves.
  bw=$(python3 - <<'PY' 2>"$out/bandwidth.log"
import torch
n = 4 << 30
a = torch.empty(n, dtype=torch.uint8, device="cuda"); b = torch.empty_like(a)
for _ in range(3): b.copy_(a)
s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
torch.cuda.synchronize(); s.record()
for _ in range(10): b.copy_(a)
e.record(); torch.cuda.synchronize()
print(f"{2 * n * 10 / (s.elapsed_time(e) / 1e3) / 1e9:.0f}")
PY
)
  log "device copy bandwidth: ${bw:-?} GB/s (read + write)"
  for spec in ${INGOT_GPU_LARGE:-llama3.1-8b:Q4_K_M llama3.1-8b:Q8_0 llama3.1-8b:F16 llama3.2-1b:Q4_K_M:untied}; do
    IFS=: read -r preset type untied <<<"$spec"
    if [ "$(left)" -lt 120 ]; then log "large $spec: skipped (time)"; continue; fi
    file="$synth_dir/$preset-$type${untied:+-untied}.gguf"
    start=$(date +%s)
    [ -f "$file" ] || timeout $(($(left) - 60)) "$ingot_bin" synth --preset "$preset" --type "$type" \
      ${untied:+--untied} "$file" >"$out/synth.log" 2>&1
    log "synth $spec: rc=$? ($(($(date +%s) - start)) s)"
    start=$(date +%s)
    timeout $(($(left) - 30)) "$ingot_bin" bench -m "$file" --backend cuda -r 3 \
      >"$out/bench-$preset-$type.txt" 2>"$out/bench-$preset-$type.log"
    log "bench $spec: rc=$? ($(($(date +%s) - start)) s)"
    tail -3 "$out/bench-$preset-$type.log" | tee -a "$out/summary.txt"
    python3 - "$out/bench-$preset-$type.txt" "$preset" "$type" "${untied:-}" "${bw:-0}" >>"$large_table" <<'PY'
import re, sys
path, preset, typ, untied, bw = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
peer = {("llama3.1-8b", "Q4_K_M"): (9776, 260.1), ("llama3.1-8b", "Q8_0"): (10953, 226.4),
        ("llama3.1-8b", "F16"): (20093, 167.7), ("llama3.2-1b", "Q4_K_M"): (42193, 880.8)}
pp = tg = gib = None
for line in open(path):
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) < 7 or not cells[6][:1].isdigit():
        continue
    gib = float(cells[1].split()[0])
    rate = float(cells[6].split()[0])
    if cells[5].startswith("pp"): pp = rate
    if cells[5].startswith("tg"): tg = rate
ref = peer.get((preset, typ), (None, None))
def f(x): return "-" if x is None else f"{x:,.1f}"
def r(a, b): return "-" if a is None or b is None else f"{a / b:.2f}x"
frac = "-" if tg is None or gib is None or bw <= 0 else f"{gib * 1.073741824 * tg / bw * 100:.0f}%"
print(f"| {preset}{' untied' if untied else ''} {typ} | {f(gib)} GiB | {f(pp)} | {f(ref[0])} | {r(pp, ref[0])} | {f(tg)} | {f(ref[1])} | {r(tg, ref[1])} | {frac} |")
PY
  done
fi

# --- compute-sanitizer on the op tests (the 67 MB weight test and the engine tests are left out: slow under memcheck) ---
sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
for tool in memcheck racecheck; do
  has_step sanitizers || continue
  if [ ! -x "$sanitizer" ] || [ "$(left)" -lt 60 ]; then log "$tool: skipped"; continue; fi
  filter='-*LargerThanOneDequantizedChunk*:*DeviceMemoryReturnsToBaseline*:*GpuEngine*'
  [ $tool = racecheck ] && filter='GpuRowwise.*:Shapes/GpuAttention.*:Shapes/GpuAttentionLong.*:GpuMatmul.Logits*:GpuFused.*:GpuMatvec.StagedEveryTypeFullAndPartialTiles'
  [ -n "${INGOT_GPU_SANITIZE_TESTS:-}" ] && filter=$INGOT_GPU_SANITIZE_TESTS
  start=$(date +%s)
  timeout $(($(left) - 30)) env -u INGOT_GPU_SPEED "$sanitizer" --tool $tool --error-exitcode 3 "$test_bin" \
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
echo "=== model parity on the GPU: ingot eval --backend cuda vs logits_1.npy (GGUF from ingot convert --type T;"
echo "    max|ours - ref| / max|ref| per position; threshold 1e-4 for F32, 1e-2 for F16/BF16) ==="
echo "| model | type | worst | mean | positions | same argmax | threshold | verdict |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"
[ -f "$out/models.txt" ] && cat "$out/models.txt"
if [ -s "$large_table" ]; then
  echo
  echo "=== ingot bench --backend cuda on synth files vs llama.cpp (CUDA, FA on, H100, numbers from issue 8);"
  echo "    bw = weight bytes x tg128 / device copy bandwidth (${bw:-?} GB/s) ==="
  echo "| model | size | ingot pp512 | llama.cpp pp512 | ratio | ingot tg128 | llama.cpp tg128 | ratio | bw |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  cat "$large_table"
fi
for b in cuda cpu; do
  if [ -f "$out/bench-$b.txt" ]; then echo; echo "=== ingot bench --backend $b (ingot-tiny Q8_0) ==="; cat "$out/bench-$b.txt"; fi
done
exit $test_rc
