#!/usr/bin/env bash
# kerasgen's two entry points, each doing its own set-up on a fresh machine:
#   ./run.sh demo [OUT]   load every published zoo entry and write samples and results to OUT
#   ./run.sh test         run the test suite (offline)
# Set-up: the Debian packages below (apt-get, when any is missing), and a virtual environment in
# .venv (KERASGEN_VENV to move it) with kerasgen installed from setup.cfg; re-run only when
# setup.cfg changes.
set -euo pipefail
cd "$(dirname "$0")"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
VENV="${KERASGEN_VENV:-.venv}"

# Debian packages: CJK fonts for the OCR glyph renderer (training families and the held-out ones),
# and Tesseract with chi_sim, the peer bench/ocr_vs_tesseract.py compares against.
SYSTEM_PACKAGES="fonts-wqy-zenhei fonts-wqy-microhei fonts-droid-fallback fonts-arphic-gbsn00lp
  fonts-arphic-gkai00mp fonts-arphic-bkai00mp fonts-arphic-bsmi00lp fonts-lxgw-wenkai fonts-babelstone-han
  fonts-hanazono fonts-cns11643-kai fonts-cns11643-sung fonts-cwtex-fs fonts-cwtex-heib fonts-cwtex-kai
  fonts-cwtex-ming fonts-cwtex-yen fonts-ipafont-gothic fonts-ipafont-mincho fonts-ipaexfont-gothic
  fonts-ipaexfont-mincho fonts-noto-cjk fonts-noto-cjk-extra fonts-arphic-uming fonts-arphic-ukai
  tesseract-ocr tesseract-ocr-chi-sim"

setup_system() {
  local missing=""
  for package in $SYSTEM_PACKAGES; do
    dpkg -s "$package" >/dev/null 2>&1 || missing="$missing $package"
  done
  [ -z "$missing" ] && return 0
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "warning: missing Debian packages:$missing; install them as root (apt-get install)." >&2
      return 0
    fi
  fi
  echo "installing Debian packages:$missing" >&2
  $sudo apt-get update -q >/dev/null || echo "warning: apt-get update failed" >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing >/dev/null \
    || echo "warning: apt-get install failed; the OCR tests that need fonts or tesseract will skip" >&2
}

setup() {
  setup_system
  if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
  fi
  local stamp="$VENV/.kerasgen-installed"
  if [ ! -f "$stamp" ] || [ setup.cfg -nt "$stamp" ]; then
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -e '.[test]'
    touch "$stamp"
  fi
}

case "${1:-}" in
  demo)
    setup
    exec "$VENV/bin/kerasgen" demo --out "${2:-demo_out}"
    ;;
  test)
    setup
    # Tests read MNIST and the Chinese MRC texts from ../shared/data when it is beside the checkout.
    if [ -z "${KERASGEN_DATA_DIR:-}" ] && [ -d ../shared/data/mnist ]; then
      export KERASGEN_DATA_DIR="$PWD/../shared/data/mnist"
    fi
    if [ -z "${KERASGEN_MRC_DIR:-}" ] && [ -d ../shared/data/mrc ]; then
      export KERASGEN_MRC_DIR="$PWD/../shared/data/mrc"
    fi
    shift
    exec "$VENV/bin/python" -m pytest -q "$@"
    ;;
  *)
    echo "usage: ./run.sh demo [OUT] | ./run.sh test [pytest args]" >&2
    exit 2
    ;;
esac
