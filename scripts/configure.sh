#!/usr/bin/env bash
# Configures a Release build: scripts/configure.sh SOURCE BUILD [extra cmake args...]
# A new build folder uses Ninja when it is installed (no full library rebuild when a source file is added,
# unlike CMake's Makefiles with precompiled headers); an existing folder keeps its generator.
set -euo pipefail
source_dir=$1 build=$2
shift 2
generator=()
if [ ! -e "$build/CMakeCache.txt" ] && command -v ninja > /dev/null; then generator=(-G Ninja); fi
cmake -S "$source_dir" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release "$@"
