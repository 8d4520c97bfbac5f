#!/usr/bin/env bash
# The training-step benchmark on a lent GPU machine, in one call: configure a torch-only Release build
# against the pip wheel's LibTorch, build bench_train_step, run it on the GPU shapes, print JSON.
#   scripts/pack_device_deps.sh                 (here, once: nlohmann_json and CLI11 into .device-deps/)
#   bash bench/gpu_train_step.sh                (there, from the repository root, with .device-deps carried)
#   bash bench/gpu_train_step.sh --configure-only
# Needs python3 with torch (or TORCH_CMAKE_PREFIX and TORCH_ROOT set), cmake, ninja and a C++17 compiler.
# Writes $OUT/build.log (configure and build output, every compile error in one go) and
# $OUT/gpu_bench.json when OUT is set; BUILD_DIR (default /tmp/build) and JOBS (16) override the defaults.
#
# LibTorch's own CMake config looks for the CUDA toolkit again (nvcc) when the wheel is a CUDA build. It is
# used when nvcc is found; when it is not, or the config fails, the build uses cmake/torch-wheel instead,
# which links the wheel's libraries directly (this code compiles no CUDA).
set -uo pipefail
if [ ! -f CMakeLists.txt ] || [ ! -d bench ]; then echo "run from the repository root" >&2; exit 2; fi
configure_only=0
[ "${1:-}" = "--configure-only" ] && configure_only=1
root=$PWD
build=${BUILD_DIR:-/tmp/build}
jobs=${JOBS:-16}
out=${OUT:-}
log=${out:+$out/build.log}
log=${log:-$build.log}
: > "$log"

echo "== machine"
nvidia-smi -L 2>&1 || echo "(no nvidia-smi)"
echo "cores: $(nproc)"
py=${PYTHON:-python3}
torch_prefix=${TORCH_CMAKE_PREFIX:-$("$py" -c 'import torch; print(torch.utils.cmake_prefix_path)')}
torch_root=${TORCH_ROOT:-$("$py" -c 'import os, torch; print(os.path.dirname(torch.__file__))')}
abi=${TORCH_CXX11_ABI:-$("$py" -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))' 2>/dev/null || echo 1)}
"$py" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda,
          "available", torch.cuda.is_available())' 2>&1 || echo "(torch not importable)"
echo "torch cmake prefix: $torch_prefix; package: $torch_root; cxx11 abi: $abi"
cmake --version | head -1; echo "ninja $(ninja --version)"; c++ --version | head -1
[ -d .device-deps/share/cmake ] || { echo "missing .device-deps/: run scripts/pack_device_deps.sh here and carry .device-deps" >&2; exit 2; }

# The wheel's libraries and their nvidia-* dependencies: for the linker's dependency checks and at run time.
nvidia_libs=$(ls -d "$torch_root"/../nvidia/*/lib 2>/dev/null | tr '\n' ':')
export LD_LIBRARY_PATH="$torch_root/lib:${nvidia_libs}${LD_LIBRARY_PATH:-}"

cuda_home=""
for dir in "${CUDA_HOME:-}" "${CUDA_PATH:-}" /usr/local/cuda; do
  if [ -n "$dir" ] && [ -x "$dir/bin/nvcc" ]; then cuda_home=$dir; break; fi
done
if [ -z "$cuda_home" ] && command -v nvcc > /dev/null; then cuda_home=$(dirname "$(dirname "$(command -v nvcc)")"); fi
echo "CUDA toolkit (nvcc): ${cuda_home:-none}"

common=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DBTADAPTER_TORCH_ONLY=ON -DBTADAPTER_BUILD_TESTS=OFF
        -DBTADAPTER_BUILD_TOOLS=OFF -DBTADAPTER_USE_LLD=OFF)

configure_official() {
  echo "== configure (LibTorch's own config; CUDA toolkit: ${cuda_home:-none})"
  local cuda_args=()
  if [ -n "$cuda_home" ]; then
    export CUDA_HOME=$cuda_home CUDACXX=$cuda_home/bin/nvcc TORCH_CUDA_ARCH_LIST=9.0 PATH="$cuda_home/bin:$PATH"
    cuda_args=(-DCUDA_TOOLKIT_ROOT_DIR="$cuda_home" -DCUDAToolkit_ROOT="$cuda_home"
               -DCMAKE_CUDA_COMPILER="$cuda_home/bin/nvcc" -DCMAKE_CUDA_ARCHITECTURES=90)
  fi
  rm -rf "$build"
  cmake -S "$root" -B "$build" "${common[@]}" -DCMAKE_PREFIX_PATH="$root/.device-deps;$torch_prefix" \
    -DTorch_DIR="$torch_prefix/Torch" "${cuda_args[@]}" 2>&1 | tee -a "$log"
}

configure_wheel() {
  echo "== configure (cmake/torch-wheel: the wheel's libraries, no CUDA toolkit)"
  rm -rf "$build"
  cmake -S "$root" -B "$build" "${common[@]}" -DCMAKE_PREFIX_PATH="$root/.device-deps" \
    -DTorch_DIR="$root/cmake/torch-wheel" -DBTADAPTER_TORCH_ROOT="$torch_root" \
    -DBTADAPTER_TORCH_CXX11_ABI="$abi" 2>&1 | tee -a "$log"
}

config=${BTADAPTER_TORCH_CONFIG:-auto}  # auto, official or wheel
configured=1
if [ "$config" = official ] || { [ "$config" = auto ] && [ -n "$cuda_home" ]; }; then
  configure_official; configured=$?
  [ $configured -ne 0 ] && echo "== configure: LibTorch's config failed (see above); trying cmake/torch-wheel"
fi
if [ $configured -ne 0 ] && [ "$config" != official ]; then configure_wheel; configured=$?; fi
[ $configured -eq 0 ] || { echo "== configure failed; log: $log" >&2; exit 1; }
grep -E '^(nlohmann_json_DIR|CLI11_DIR|Torch_DIR)' "$build/CMakeCache.txt"
[ $configure_only -eq 1 ] && exit 0

build_bench() {
  echo "== build (bench_train_step, -j$jobs)"
  local start=$SECONDS status
  ninja -C "$build" -k 0 -j"$jobs" bench_train_step 2>&1 | tee "$build/ninja.log" | tee -a "$log"
  status=${PIPESTATUS[0]}
  echo "build: $((SECONDS - start)) s, exit $status"
  return "$status"
}

failed_objects() { grep -E '^FAILED: .*\.o$' "$build/ninja.log" | sed 's/^FAILED: //'; }

# Two failures get one more try each, the rest stop here with every error in the log:
# - only the NCCL transport (src/dist/process_group.cpp, never compiled against a CUDA LibTorch before)
#   failed to compile: rebuild without it (one file), the benchmark needs no NCCL;
# - only linking failed with LibTorch's own config: build against the wheel's libraries directly.
if ! build_bench; then
  if [ "$(failed_objects)" = "CMakeFiles/btadapter.dir/src/dist/process_group.cpp.o" ] &&
     grep -q '^BTADAPTER_HAVE_NCCL:INTERNAL=1' "$build/CMakeCache.txt"; then
    echo "== build: the NCCL transport did not compile (errors above); building without it"
    cmake -B "$build" -DBTADAPTER_USE_NCCL=OFF 2>&1 | tee -a "$log" && build_bench && built=1
  elif [ "$config" = auto ] && [ -z "$(failed_objects)" ] && grep -q "^Torch_DIR.*=$torch_prefix" "$build/CMakeCache.txt"; then
    echo "== build: linking failed with LibTorch's config; trying cmake/torch-wheel"
    configure_wheel && build_bench && built=1
  fi
  if [ -z "${built:-}" ]; then
    echo "== build failed; the errors (all of them in $log):"
    grep -E 'error|undefined reference|FAILED' "$log" | head -80
    exit 1
  fi
fi

# One JSON object per configuration, each from its own process (fresh allocator statistics); a failed or
# timed-out run (RUN_TIMEOUT_S, default 75 s) is recorded with its exit code and the others still run.
runs=(
  "--shape vitl14 --precision bf16 --warmup 2 --steps 5"
  "--shape vitb16 --precision bf16 --batch 32 --warmup 2 --steps 5"
  "--shape vitb16 --precision fp32 --warmup 2 --steps 5"
  "--shape vitl14 --precision fp32 --warmup 1 --steps 3"
)
json="[" separator=""
for args in "${runs[@]}"; do
  echo "== bench --device cuda $args"
  start=$SECONDS
  # shellcheck disable=SC2086  # the arguments are meant to split
  timeout "${RUN_TIMEOUT_S:-75}" "$build/bench_train_step" --device cuda $args > "$build/run.json"
  status=$?
  line=$(tail -n 1 "$build/run.json")
  echo "$line"
  echo "($((SECONDS - start)) s, exit $status)"
  if [ "$status" -eq 0 ] && [ -n "$line" ]; then
    json+="$separator"$'\n'"  {\"args\": \"$args\", \"result\": $line}"
  else
    json+="$separator"$'\n'"  {\"args\": \"$args\", \"exit_code\": $status}"
  fi
  separator=","
done
json+=$'\n'"]"
echo "== result"
echo "$json"
if [ -n "$out" ]; then echo "$json" > "$out/gpu_bench.json"; fi
