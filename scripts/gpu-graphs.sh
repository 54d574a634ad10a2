#!/usr/bin/env bash
# Runs ON the GPU machine, from the repository root: decode-step CUDA graphs and device
# sampling (issue 8). Builds ingot_gpu_tests and ingot for sm_90, runs the graph and sampler
# tests (and the engine-on-GPU tests, which now sample on the device), synthesizes the 1B untied
# and 8B Q4_K_M benchmark files and benches pp512 + tg128 with graphs on, tg128 with graphs off
# (INGOT_CUDA_GRAPHS=0). Headers the machine lacks come from .device-carry/debs as in
# gpu-check.sh. Logs and the summary go to $OUT. Every step has a timeout.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-$PWD/gpu-graphs-out}
mkdir -p "$out"
build=${INGOT_GPU_BUILD:-build/gpu-graphs}
log() { echo "gpu-graphs: $*" | tee -a "$out/summary.txt"; }
log "device: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | head -1)"
prefix=$(mktemp -d /tmp/ingot-debs.XXXXXX)
for deb in .device-carry/debs/libpcre2-*.deb .device-carry/debs/libcpp-httplib*.deb .device-carry/debs/libbrotli*.deb; do
  [ -f "$deb" ] && dpkg -x "$deb" "$prefix"
done
pcdir="$prefix/usr/lib/x86_64-linux-gnu/pkgconfig"
if [ -d "$pcdir" ]; then
  sed -i "s|^prefix=/usr|prefix=$prefix/usr|" "$pcdir"/*.pc
  export PKG_CONFIG_PATH="$pcdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
fi
export LD_LIBRARY_PATH="$prefix/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
nvcc_path=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
start=$(date +%s)
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DINGOT_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 \
  -DCMAKE_CUDA_COMPILER="$nvcc_path" -DINGOT_BENCH=OFF -DCMAKE_PREFIX_PATH="$prefix/usr" >"$out/configure.log" 2>&1 ||
  { tail -20 "$out/configure.log"; exit 1; }
timeout 200 cmake --build "$build" --target ingot_gpu_tests ingot -j "$(nproc)" >"$out/build.log" 2>&1
rc=$?
log "build: rc=$rc ($(($(date +%s) - start)) s)"
[ $rc -ne 0 ] && { grep -E "error|FAILED" "$out/build.log" | head -30; exit 1; }
tests=$(find "$build" -name ingot_gpu_tests -type f -perm -u+x | head -1)
ingot="$build/bin/ingot"
start=$(date +%s)
timeout 90 "$tests" --gtest_color=no --gtest_filter='GpuGraphs*:GpuSampler*' >"$out/tests.log" 2>&1
log "graph + sampler tests: rc=$? ($(($(date +%s) - start)) s); $(grep -E '^\[  (PASSED|FAILED)  \]' "$out/tests.log" | tr '\n' ' ')"
grep -E "^graphs:|^sampler|Failure|FAILED" "$out/tests.log" | head -40 | tee -a "$out/summary.txt"
start=$(date +%s)
timeout 60 "$tests" --gtest_color=no --gtest_filter='GpuEngine.*' >"$out/engine-tests.log" 2>&1
log "engine tests (device sampling): rc=$? ($(($(date +%s) - start)) s); $(grep -E '^\[  (PASSED|FAILED)  \]' "$out/engine-tests.log" | tr '\n' ' ')"
grep -E "Failure|FAILED|same" "$out/engine-tests.log" | head -20 | tee -a "$out/summary.txt"
for spec in ${INGOT_GRAPHS_MODELS:-llama3.2-1b:Q4_K_M:untied llama3.1-8b:Q4_K_M}; do
  IFS=: read -r preset type untied <<<"$spec"
  file="/tmp/$preset-$type${untied:+-untied}.gguf"
  start=$(date +%s)
  [ -f "$file" ] || timeout 120 "$ingot" synth --preset "$preset" --type "$type" ${untied:+--untied} "$file" >"$out/synth.log" 2>&1
  log "synth $spec: rc=$? ($(($(date +%s) - start)) s)"
  start=$(date +%s)
  INGOT_CUDA_GRAPHS=1 timeout 90 "$ingot" bench -m "$file" --backend cuda -p 512 -n 128 -r 3 2>>"$out/bench.log" |
    grep -E "pp|tg" | sed 's/$/ graphs on/' | tee -a "$out/summary.txt"
  INGOT_CUDA_GRAPHS=0 timeout 90 "$ingot" bench -m "$file" --backend cuda -p 0 -n 128 -r 3 2>>"$out/bench.log" |
    grep -E "tg" | sed 's/$/ graphs off/' | tee -a "$out/summary.txt"
  log "bench $spec: $(($(date +%s) - start)) s"
done
echo "==== summary ===="
cat "$out/summary.txt"
