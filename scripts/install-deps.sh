#!/usr/bin/env bash
# Installs netplace's build and test dependencies from Debian 12 packages.
# Idempotent: packages already present are skipped, so a second run costs ~1 s.
# Usage: scripts/install-deps.sh [build|test|all]   (default: all)
set -euo pipefail

what=${1:-all}

build_pkgs=(
  build-essential cmake ninja-build pkg-config
  libhwloc-dev hwloc-nox libhwloc-plugins
  libcurl4-openssl-dev libsodium-dev libssl-dev
  libyaml-cpp-dev libspdlog-dev libfmt-dev
  catch2 nlohmann-json3-dev libcli11-dev libbenchmark-dev
  libslurm-dev liblua5.1-0-dev lua5.1
  zlib1g-dev libpng-dev
  libpcre2-dev
  help2man file            # man pages at build time; CPack's dpkg-shlibdeps step needs `file`
)
# Test-only: real Slurm multi-cluster, HTTP endpoints in network namespaces, browser checks,
# a simulated InfiniBand fabric (ibsim) discovered by the real ibnetdiscover, the Prometheus
# textfile check.
test_pkgs=(
  slurm-wlm slurmctld slurmd slurm-client slurmdbd munge libmunge-dev mariadb-server
  iproute2 nginx-light curl iperf3 procps psmisc chromium jq
  ibsim-utils infiniband-diags
  clang-format-14 clang-tidy-14
  clang-14 libfuzzer-14-dev  # the fuzz preset (libFuzzer harnesses, docs/fuzzing.md)
  slurmrestd slurm-wlm-jwt-plugin python3
  prometheus               # promtool check metrics (tests/integration/package)
  openssl                  # the staging test makes its TLS CA and certificate with the CLI
)

case "$what" in
  build) pkgs=("${build_pkgs[@]}") ;;
  test|all) pkgs=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
  *) echo "usage: $0 [build|test|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}; run as root (or: sudo $0 $what)" >&2
  exit 1
fi

# Debian starts services (munge, mariadb, slurm*, nginx) on install; the tests start their
# own private instances, so keep the system ones down while installing.
made_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  made_policy=1
fi
trap '[ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d' EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq </dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
