#!/usr/bin/env bash
# Idempotent set-up: system library for open3d, a virtual environment in .venv, torch (CPU, pinned), omnicodec[dev].
# Usage: bash tools/install.sh   (what `make install` runs; safe to run again)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
STAMP="$VENV/.omnicodec-installed"

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "install: Python >= 3.11 is required ($("$PYTHON" --version 2>&1) found)" >&2; exit 1
fi

# open3d needs libusb-1.0 at import time.
if ! "$PYTHON" -c 'import ctypes.util, sys; sys.exit(ctypes.util.find_library("usb-1.0") is None)'; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && SUDO="sudo"
  if command -v apt-get >/dev/null; then
    echo "install: installing libusb-1.0-0 (needed by open3d)"
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libusb-1.0-0 >/dev/null
  else
    echo "install: warning: libusb-1.0 missing and no apt-get; open3d will not import" >&2
  fi
fi

if [ -f "$STAMP" ] && [ "$STAMP" -nt pyproject.toml ] && "$VENV/bin/python" -c 'import omnicodec, torch' 2>/dev/null; then
  exit 0
fi
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
# torch first, pinned exactly: the CPU wheel (an unpinned torch pulls several GB of CUDA packages).
"$VENV/bin/python" -m pip install --disable-pip-version-check -q "$TORCH_SPEC"
"$VENV/bin/python" -m pip install --disable-pip-version-check -q -e ".[dev]"
touch "$STAMP"
echo "install: ready ($VENV)"
