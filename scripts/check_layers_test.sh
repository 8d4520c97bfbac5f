#!/usr/bin/env bash
# Shows that scripts/check_layers.sh can fail: on a small tree with one upward include it must exit 1 and
# name the file, the line and both areas; on the same tree without it, pass; an area missing from the
# layer file is an error too.
set -euo pipefail
check=$(cd "$(dirname "$0")" && pwd)/check_layers.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/cmake" "$tmp/include/btadapter/io" "$tmp/include/btadapter/model" "$tmp/src/io"
echo 'config | io | model' > "$tmp/cmake/layers.txt"
printf '#pragma once\n#include "btadapter/io/a.h"\n' > "$tmp/include/btadapter/model/m.h"
printf '#pragma once\n' > "$tmp/include/btadapter/io/a.h"
printf '#include "btadapter/io/a.h"\n#include <vector>\n#include "btadapter/model/m.h"\n' > "$tmp/src/io/a.cpp"

fail() { echo "check_layers_test: $*" >&2; exit 1; }
set +e
out=$("$check" "$tmp" 2>&1); rc=$?
set -e
[ "$rc" -eq 1 ] || fail "expected exit 1 for an upward include, got $rc: $out"
expected='src/io/a.cpp:3: area io (level 1) includes "btadapter/model/m.h" of the higher area model (level 2)'
[ "$out" = "$expected" ] || fail "expected the message '$expected', got '$out'"

sed -i '3d' "$tmp/src/io/a.cpp"
out=$("$check" "$tmp" 2>&1) || fail "expected a pass once the upward include is gone, got: $out"

mkdir -p "$tmp/src/extra" && printf '#include "btadapter/io/a.h"\n' > "$tmp/src/extra/x.cpp"
set +e
out=$("$check" "$tmp" 2>&1); rc=$?
set -e
[ "$rc" -eq 1 ] && [[ $out == *'src/extra/x.cpp: area "extra" is not in'* ]] ||
  fail "expected an error naming the unknown area, got $rc: $out"
echo "check_layers_test: ok"
