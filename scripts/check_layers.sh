#!/usr/bin/env bash
# Fails when a library include points up the layer order written in cmake/layers.txt.
# Usage: scripts/check_layers.sh [ROOT]   (ROOT: the repository, default this script's parent folder)
# A file's area is its folder under include/btadapter/ or src/; an include's area is the folder it names
# ("btadapter/<area>/x.h", an internal "<area>/x.h"; btadapter/btadapter.h is the api facade; a bare
# "x.h" is the including file's own area). Areas on one line of layers.txt are one level.
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
layers=$root/cmake/layers.txt
[ -f "$layers" ] || { echo "check_layers: no layer file $layers" >&2; exit 2; }
cd "$root"
files=$(find include/btadapter src -type f \( -name '*.h' -o -name '*.cpp' -o -name '*.inc' \) | sort)
[ -n "$files" ] || { echo "check_layers: no sources under $root/include/btadapter or $root/src" >&2; exit 2; }
# shellcheck disable=SC2086
awk -v layers="$layers" '
  BEGIN {
    level = 0
    while ((getline line < layers) > 0) {
      sub(/#.*/, "", line)
      n = split(line, groups, "|")
      for (g = 1; g <= n; ++g) {
        m = split(groups[g], names, " ")
        if (m == 0) continue
        for (k = 1; k <= m; ++k) rank[names[k]] = level
        ++level
      }
    }
    bad = 0
  }
  function area_of(path,   parts) {
    if (path == "include/btadapter/btadapter.h") return "api"
    split(path, parts, "/")
    return parts[1] == "include" ? parts[3] : parts[2]
  }
  FNR == 1 {
    own = area_of(FILENAME)
    if (!(own in rank)) { printf "%s: area \"%s\" is not in %s\n", FILENAME, own, layers; bad = 1 }
  }
  /^[ \t]*#[ \t]*include[ \t]*"/ {
    target = $0
    sub(/^[^"]*"/, "", target); sub(/".*$/, "", target)
    if (target == "btadapter/btadapter.h") to = "api"
    else if (target ~ /^btadapter\//) { split(target, p, "/"); to = p[2] }
    else if (target ~ /\//) { split(target, p, "/"); to = p[1] }
    else next
    if (!(to in rank)) {
      printf "%s:%d: includes \"%s\" of area \"%s\", which is not in %s\n", FILENAME, FNR, target, to, layers
      bad = 1
    } else if ((own in rank) && rank[to] > rank[own]) {
      printf "%s:%d: area %s (level %d) includes \"%s\" of the higher area %s (level %d)\n", \
             FILENAME, FNR, own, rank[own], target, to, rank[to]
      bad = 1
    }
  }
  END { exit bad }
' $files
