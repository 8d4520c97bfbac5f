#!/usr/bin/env bash
# Installs every Debian 12 package that the build, the tests and the tools need.
# Idempotent: packages already present are not touched, and apt is only asked when something is missing.
set -euo pipefail

packages=(
  cmake g++ make ninja-build pkg-config lld
  libtorch-dev libgloo-dev libopenblas0-pthread libopenblas-pthread-dev
  libopencv-dev nlohmann-json3-dev libsentencepiece-dev sentencepiece
  libcli11-dev libyaml-cpp-dev libutf8proc-dev zlib1g-dev
  libgtest-dev libgmock-dev ffmpeg
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

if [ "${#missing[@]}" -gt 0 ]; then
  echo "install_deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Make OpenBLAS (pthread build) the active BLAS/LAPACK: the reference BLAS is about 30x slower.
arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
for lib in libblas.so.3 liblapack.so.3; do
  candidate=/usr/lib/$arch/openblas-pthread/$lib
  if [ -e "$candidate" ]; then
    "${sudo_cmd[@]}" update-alternatives --set "$lib-$arch" "$candidate" >/dev/null
  fi
done
echo "install_deps: all packages present; active BLAS: $(readlink -f /usr/lib/$arch/libblas.so.3)"
