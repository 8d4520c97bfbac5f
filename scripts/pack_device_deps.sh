#!/usr/bin/env bash
# Packs the header-only packages that a -DBTADAPTER_TORCH_ONLY=ON build needs besides LibTorch
# (nlohmann_json and CLI11) into .device-deps/ at the repository root, laid out as an install prefix:
#   .device-deps/include/{nlohmann,CLI}/...   .device-deps/share/cmake/{nlohmann_json,CLI11}/*.cmake
# so that a machine without apt (a lent GPU machine gets a copy of the working tree) finds them with
# -DCMAKE_PREFIX_PATH=$PWD/.device-deps. Debian's config files compute their prefix from their own
# location (four levels up), so they work unchanged once moved; this script checks that they name no
# absolute /usr path. .device-deps/ is git-ignored: rerun this script to refresh it.
#   scripts/pack_device_deps.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest=$root/.device-deps

# Debian 12's nlohmann-json3-dev and libcli11-dev (scripts/install_deps.sh installs them).
headers=(/usr/include/nlohmann /usr/include/CLI)
configs=(/usr/share/cmake/nlohmann_json /usr/share/cmake/CLI11)
for path in "${headers[@]}" "${configs[@]}"; do
  [ -d "$path" ] || { echo "pack_device_deps: $path is missing (install nlohmann-json3-dev and libcli11-dev)" >&2; exit 1; }
done

rm -rf "$dest"
mkdir -p "$dest/include" "$dest/share/cmake"
cp -r "${headers[@]}" "$dest/include/"
cp -r "${configs[@]}" "$dest/share/cmake/"

# A config that names an absolute path would point back at this machine's /usr once moved.
if grep -rnE '"?/usr/' "$dest/share/cmake"; then
  echo "pack_device_deps: the config files above hard-code /usr paths; they would not relocate" >&2
  exit 1
fi

grep -qxF '/.device-deps/' "$root/.gitignore" || echo '/.device-deps/' >> "$root/.gitignore"
echo "pack_device_deps: $(du -sh "$dest" | cut -f1) in $dest ($(find "$dest" -type f | wc -l) files)"
