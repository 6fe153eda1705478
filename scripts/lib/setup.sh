# shellcheck shell=bash
# Shared by the commands in scripts/ (source it; it does nothing by itself):
#   coactor_setup            installs the Debian 12 packages the project needs, if any is missing
#   coactor_build PRESET...  configures and builds build/PRESET (CMakePresets.json), from $coactor_root;
#                            extra arguments go to `cmake --build` (e.g. --target NAME)
#   coactor_stage TEXT       prints a header for the next stage of a command's output
#   coactor_root             the project's root folder

coactor_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Debian 12 package names. libboost1.81-dev, not libboost-dev: that is Boost 1.74, which has no PFR (the
# two conflict: installing one removes the other). clang and libclang-rt-14-dev: fuzzing and sanitizers.
# iproute2: `ip`, with which the network-namespace test (tests/transports/tcp_pooled/netns.test.cpp) makes
# its namespaces and veth pair.
coactor_packages=(
  g++ cmake ninja-build git pkg-config
  libasio-dev nlohmann-json3-dev libboost1.81-dev catch2 libssl-dev
  clang libclang-rt-14-dev
  iproute2
)

# Both cores (or however many) for the compiler and for ctest, unless the caller chose otherwise.
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc 2>/dev/null || echo 2)}
export CTEST_PARALLEL_LEVEL=${CTEST_PARALLEL_LEVEL:-$CMAKE_BUILD_PARALLEL_LEVEL}

coactor_stage() {
  printf '\n===== %s =====\n' "$*"
}

# Installs what is missing with apt-get: as root, or through sudo. Nothing prompts (CI has no stdin).
# COACTOR_SKIP_SETUP=1 skips it (another distribution, or dependencies installed by hand).
coactor_setup() {
  [ "${COACTOR_SKIP_SETUP:-0}" = 1 ] && return 0
  if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
    echo "no apt-get here: install the equivalents of these Debian 12 packages yourself, then set" \
         "COACTOR_SKIP_SETUP=1: ${coactor_packages[*]}" >&2
    return 1
  fi
  local missing=() p
  for p in "${coactor_packages[@]}"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0

  local as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "missing packages (${missing[*]}): run as root, or install sudo" >&2; return 1; }
    as_root=(sudo)
  fi
  coactor_stage "installing Debian packages: ${missing[*]}"
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q update
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends "${missing[@]}"
}

coactor_build() {
  local preset=$1
  shift
  cmake --preset "$preset" && cmake --build --preset "$preset" "$@"
}
