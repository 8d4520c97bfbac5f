#!/usr/bin/env bash
# Configures a Release build: scripts/configure.sh SOURCE BUILD [extra cmake args...]
# A new build folder uses Ninja when it is installed (no full library rebuild when a source file is added,
# unlike CMake's Makefiles with precompiled headers) and a unity build (the library and each test area
# compiled as a few large translation units: a clean build in about a third of the time, while an edit
# recompiles its whole batch; pass -DBTADAPTER_UNITY_BUILD=OFF for day-to-day editing). An existing folder
# keeps its settings.
set -euo pipefail
source_dir=$1 build=$2
shift 2
fresh=()
if [ ! -e "$build/CMakeCache.txt" ]; then
  fresh=(-DBTADAPTER_UNITY_BUILD=ON)
  if command -v ninja > /dev/null; then fresh+=(-G Ninja); fi
fi
cmake -S "$source_dir" -B "$build" "${fresh[@]}" -DCMAKE_BUILD_TYPE=Release "$@"
