#!/usr/bin/env bash
# The README's test command: installs missing packages, configures, builds, runs every test.
#   scripts/test.sh [extra cmake args...]      (BUILD_DIR, JOBS override the defaults)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
jobs=${JOBS:-$(nproc)}

"$root/scripts/install_deps.sh"
"$root/scripts/configure.sh" "$root" "$build" "$@"
cmake --build "$build" -j "$jobs"
cd "$build"
ctest --output-on-failure -j "$jobs" --timeout 900
