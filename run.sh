#!/usr/bin/env bash
# kerasgen's two entry points, each doing its own set-up on a fresh machine:
#   ./run.sh demo [OUT]   load every published zoo entry and write samples and results to OUT
#   ./run.sh test         run the test suite (offline)
# Set-up: a virtual environment in .venv (KERASGEN_VENV to move it) with kerasgen installed
# from setup.cfg; re-run only when setup.cfg changes.
set -euo pipefail
cd "$(dirname "$0")"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
VENV="${KERASGEN_VENV:-.venv}"

setup() {
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
