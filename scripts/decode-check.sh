#!/usr/bin/env bash
# Runs ON the GPU machine: issue 8's decode measurements with binaries built here beforehand
# (.device-carry/decode/{ingot,ingot_gpu_tests}, with libspdlog.so.1.10 and libfmt.so.9 from the
# build machine in .device-carry/decode/lib: the GPU machine lacks them; built there when absent).
# Steps (INGOT_DECODE_STEPS, default "tests profile bench"): the op parity tests; an ncu
# per-kernel table of decode steps per INGOT_DECODE_PROFILE entry (mode:preset:type[:untied], mode
# "fallback" = the byte-granular matvec, INGOT_MATVEC_FALLBACK=1, or "staged"; default the 8B Q4_K_M
# file both ways);
# `ingot bench -p 0 -n 128 -r 3` per INGOT_DECODE_MODELS (preset:type[:untied]); "memcheck"
# runs compute-sanitizer on the matvec tests. INGOT_DECODE_TESTS: a gtest filter for the tests
# step; INGOT_DECODE_F32_MODELS: models benched again with INGOT_MATVEC_ACT=f32 (f32 one-token
# activations instead of 8-bit); INGOT_DECODE_ACT_MODELS: "act:preset:type[:untied]" entries
# benched again with INGOT_MATVEC_ACT=act (e.g. regs: 8-bit activations quantized per block);
# INGOT_DECODE_ENV_MODELS: "NAME=VALUE@preset:type[:untied]" entries benched again with that variable.
# Tables and log tails go to $OUT (<= 8 files).
set -uo pipefail
cd "$(dirname "$0")/.."
final=${OUT:-$PWD/decode-check-out}
out=$(mktemp -d /tmp/decode-check.XXXXXX)
mkdir -p "$final"
steps=" ${INGOT_DECODE_STEPS:-tests profile bench} "
has_step() { [[ "$steps" == *" $1 "* ]]; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"

prefix=$(mktemp -d /tmp/ingot-debs.XXXXXX)
for deb in .device-carry/debs/libpcre2-*.deb .device-carry/debs/libcpp-httplib*.deb \
  .device-carry/debs/libbrotli*.deb; do
  [ -f "$deb" ] && dpkg -x "$deb" "$prefix"
done
export LD_LIBRARY_PATH="$prefix/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
bin=.device-carry/decode
export LD_LIBRARY_PATH="$PWD/$bin/lib:$LD_LIBRARY_PATH"
if [ ! -x "$bin/ingot" ] || [ ! -x "$bin/ingot_gpu_tests" ] ||
  ldd "$bin/ingot" "$bin/ingot_gpu_tests" | grep -q "not found"; then
  echo "carried binaries do not load here; building" | tee -a "$out/summary.txt"
  ldd "$bin/ingot" | grep "not found"
  pcdir="$prefix/usr/lib/x86_64-linux-gnu/pkgconfig"
  sed -i "s|^prefix=/usr|prefix=$prefix/usr|" "$pcdir"/*.pc
  export PKG_CONFIG_PATH="$pcdir"
  cmake -S . -B build/dc -G Ninja -DCMAKE_BUILD_TYPE=Release -DINGOT_CUDA=ON \
    -DCMAKE_CUDA_ARCHITECTURES=90 -DINGOT_BENCH=OFF -DCMAKE_PREFIX_PATH="$prefix/usr" >"$out/build.log" 2>&1
  cmake --build build/dc --target ingot ingot_gpu_tests -j "$(nproc)" >>"$out/build.log" 2>&1 || exit 1
  bin=build/dc/bin
  cp "$(find build/dc -name ingot_gpu_tests -type f | head -1)" "$bin/"
fi

if has_step tests; then
  start=$(date +%s)
  INGOT_GPU_TABLE="$out/table.txt" "$bin/ingot_gpu_tests" --gtest_color=no \
    --gtest_filter="${INGOT_DECODE_TESTS:-*}" >"$out/gpu-tests.log" 2>&1
  echo "ingot_gpu_tests: rc=$? ($(($(date +%s) - start)) s) $(grep -E '^\[  (PASSED|FAILED)  \]' "$out/gpu-tests.log" | tr '\n' ' ')" | tee -a "$out/summary.txt"
  grep -E '^\[  FAILED  \]|Failure' "$out/gpu-tests.log" | head -20 | tee -a "$out/summary.txt"
fi

synth=/tmp/ingot-synth
mkdir -p "$synth"
model_file() {  # preset:type[:untied] -> path, synthesized once
  IFS=: read -r preset type untied <<<"$1"
  local f="$synth/$preset-$type${untied:+-untied}.gguf"
  [ -f "$f" ] || "$bin/ingot" synth --preset "$preset" --type "$type" ${untied:+--untied} "$f" >/dev/null 2>&1
  echo "$f"
}

if has_step profile; then  # INGOT_DECODE_PROFILE: "mode:preset:type[:untied]" entries, mode staged|fallback
  for entry in ${INGOT_DECODE_PROFILE:-fallback:llama3.1-8b:Q4_K_M staged:llama3.1-8b:Q4_K_M}; do
    mode=${entry%%:*}
    spec=${entry#*:}
    f=$(model_file "$spec")
    env_mode=0; [ "$mode" = fallback ] && env_mode=1
    name="$mode-${spec//:/-}"
    INGOT_MATVEC_FALLBACK=$env_mode timeout 150 ncu --clock-control none --csv \
      --metrics gpu__time_duration.sum,dram__bytes_read.sum --launch-skip 600 --launch-count 1000 \
      "$bin/ingot" bench -m "$f" --backend cuda -p 0 -n 8 -r 1 >"$out/ncu-$name.csv" 2>"$out/ncu-$name.log"
    echo "ncu $name: rc=$?" | tee -a "$out/summary.txt"
    { echo "## $name"; python3 scripts/ncu_step_table.py "$out/ncu-$name.csv"; } | tee -a "$out/profile.txt"
  done
fi

if has_step bench; then
  for spec in ${INGOT_DECODE_MODELS:-llama3.1-8b:Q4_K_M llama3.1-8b:Q8_0 llama3.1-8b:F16 llama3.2-1b:Q4_K_M:untied}; do
    f=$(model_file "$spec")
    start=$(date +%s)
    "$bin/ingot" bench -m "$f" --backend cuda -p 0 -n 128 -r 3 >"$out/bench.txt.tmp" 2>"$out/bench.log"
    echo "bench $spec: rc=$? ($(($(date +%s) - start)) s)" | tee -a "$out/summary.txt"
    grep -E "tg|model" "$out/bench.txt.tmp" | tee -a "$out/bench.txt"
  done
  for spec in ${INGOT_DECODE_F32_MODELS:-}; do  # the same with f32 activations, to compare
    f=$(model_file "$spec")
    INGOT_MATVEC_ACT=f32 "$bin/ingot" bench -m "$f" --backend cuda -p 0 -n 128 -r 3 >"$out/bench.txt.tmp" 2>"$out/bench.log"
    echo "bench $spec INGOT_MATVEC_ACT=f32: rc=$?" | tee -a "$out/summary.txt" "$out/bench.txt"
    grep -E "tg|model" "$out/bench.txt.tmp" | tee -a "$out/bench.txt"
  done
  for entry in ${INGOT_DECODE_ENV_MODELS:-}; do  # NAME=VALUE@spec: the same with that env var
    f=$(model_file "${entry#*@}")
    env "${entry%%@*}" "$bin/ingot" bench -m "$f" --backend cuda -p 0 -n 128 -r 3 >"$out/bench.txt.tmp" 2>"$out/bench.log"
    echo "bench ${entry#*@} ${entry%%@*}: rc=$?" | tee -a "$out/summary.txt" "$out/bench.txt"
    grep -E "tg|model" "$out/bench.txt.tmp" | tee -a "$out/bench.txt"
  done
  for entry in ${INGOT_DECODE_ACT_MODELS:-}; do  # act:spec, the same with INGOT_MATVEC_ACT=act
    act=${entry%%:*}
    f=$(model_file "${entry#*:}")
    INGOT_MATVEC_ACT=$act "$bin/ingot" bench -m "$f" --backend cuda -p 0 -n 128 -r 3 >"$out/bench.txt.tmp" 2>"$out/bench.log"
    echo "bench ${entry#*:} INGOT_MATVEC_ACT=$act: rc=$?" | tee -a "$out/summary.txt" "$out/bench.txt"
    grep -E "tg|model" "$out/bench.txt.tmp" | tee -a "$out/bench.txt"
  done
fi

if has_step memcheck; then
  start=$(date +%s)
  compute-sanitizer --tool memcheck --error-exitcode 3 "$bin/ingot_gpu_tests" --gtest_color=no \
    --gtest_filter='GpuMatvec.*:GpuMatmul.QuantizedWeightsEveryType:GpuMatmul.FloatWeights*' >"$out/memcheck.log" 2>&1
  echo "memcheck: rc=$? ($(($(date +%s) - start)) s) $(grep 'ERROR SUMMARY' "$out/memcheck.log" | tail -1)" | tee -a "$out/summary.txt"
fi

for f in summary.txt table.txt profile.txt bench.txt; do
  [ -f "$out/$f" ] && cp "$out/$f" "$final/"
done
for f in "$out"/*.log; do echo "=== $f"; tail -40 "$f"; done >"$final/logs.txt" 2>&1
cat "$out/summary.txt"
