#!/usr/bin/env bash
# Install the Debian packages that building, testing and the demo need.
# Only what is missing is installed, and only from Debian's archive.
# Run as root (or with sudo available) on Debian 12.
#
#   scripts/deps.sh          what build, tests, demo, bench, lint and coverage need
#   scripts/deps.sh fuzz     that, plus clang's libFuzzer runtime for `make fuzz`
#   scripts/deps.sh bench    that, plus PyTorch and numpy for `make bench`
set -euo pipefail

PACKAGES=(
  # build
  gcc clang meson ninja-build pkg-config make
  # libraries (each one is explained in README.md, "Dependencies")
  libssl-dev libsqlite3-dev libyaml-dev libjansson-dev libp11-kit-dev zlib1g-dev libopenblas-dev
  # tests: unit framework, PKCS#11 token, sqlite shell for fault tests,
  # a software TPM and its tools for the TPM 2.0 quote tests
  libcmocka-dev softhsm2 sqlite3 openssl swtpm swtpm-tools tpm2-tools
  # lint and coverage
  clang-tidy cppcheck clang-format gcovr
  # data: Fashion-MNIST (IDX, gzip) for the IDX reader's tests and training
  dataset-fashion-mnist
  # the safetensors compatibility test (tests/learn/safetensors_check.py):
  # Debian's python3 with numpy reads and writes the files veil must match
  python3-numpy
)
case "${1:-}" in
fuzz) PACKAGES+=(libclang-rt-14-dev) ;;
# the training benchmark's reference (bench/torch_train.py): Debian's
# PyTorch on the CPU, run by /usr/bin/python3
bench) PACKAGES+=(python3-torch python3-numpy) ;;
esac

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "deps: need root to install: ${missing[*]}" >&2
    echo "deps: run 'sudo scripts/deps.sh' or install them with apt-get yourself" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
