#!/usr/bin/env bash
# Build MinkowskiEngine 0.5.4 (CPU only, OpenBLAS) from PyPI's source distribution into a virtual environment, for
# the optional "minkowski" backend of omnicodec.sparse. Takes 17 minutes on 2 cores (1023 s measured, Python 3.11,
# torch 2.13.0 CPU, gcc 12, setuptools 84, numpy 1.26 or 2.4: neither numpy<2 nor setuptools<60 is needed once the
# BLAS is named, because its setup.py then never imports numpy.distutils).
#
# Usage: bash tools/install_minkowski.sh
#   VENV=/path/to/venv   target environment (default: the repository's .venv); it must already hold torch
#   MAX_JOBS=N           parallel compile jobs (default: 2; each job needs about 2 GiB of memory)
#   ME_WORKDIR=DIR       where the sources are unpacked (default: a fresh temporary folder, kept for inspection)
#   ME_FORCE=1           rebuild even when MinkowskiEngine already imports
#
# The release (2021) no longer builds as published; the workarounds applied here:
#   1. OpenBLAS headers and library (libopenblas-dev) installed with apt-get when missing;
#   2. `from collections import Sequence` (gone since Python 3.10) patched to `collections.abc` in its sources;
#   3. SETUPTOOLS_USE_DISTUTILS=stdlib, so that setuptools' vendored distutils does not meet numpy.distutils (the
#      metadata step of `pip download` runs the unpatched setup.py, which probes the BLAS with numpy.distutils);
#   4. --no-build-isolation (its setup.py imports torch), with the BLAS and CPU-only choices passed through the
#      environment (its setup.py reads them from sys.argv, and pip >= 23.1 has no --install-option any more).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
VENV=${VENV:-$REPO/.venv}
PY="$VENV/bin/python"
ME_VERSION=0.5.4
export MAX_JOBS=${MAX_JOBS:-2}

log() { echo "install_minkowski: $*"; }

[ -x "$PY" ] || { log "no python at $PY (set VENV)"; exit 1; }
"$PY" -c 'import torch' 2>/dev/null || { log "torch does not import in $VENV; install it first"; exit 1; }
if [ "${ME_FORCE:-0}" != 1 ] && "$PY" -c 'import MinkowskiEngine' 2>/dev/null; then
  log "MinkowskiEngine already imports in $VENV (ME_FORCE=1 rebuilds)"; exit 0
fi

# 1. OpenBLAS.
if ! ldconfig -p 2>/dev/null | grep -q 'libopenblas\.so ' \
    || ! { [ -e /usr/include/cblas.h ] || [ -e "/usr/include/$(uname -m)-linux-gnu/cblas.h" ]; }; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && SUDO="sudo"
  log "installing libopenblas-dev"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libopenblas-dev >/dev/null
fi

# Build tools in the target environment (ninja makes the compile parallel; numpy is needed by setup.py's imports).
"$PY" -m pip install -q ninja wheel
"$PY" -c 'import numpy' 2>/dev/null || "$PY" -m pip install -q 'numpy<2'

# Its setup.py calls `pip uninstall` by name: make sure that is the target environment's pip.
export PATH="$VENV/bin:$PATH"
export SETUPTOOLS_USE_DISTUTILS=stdlib

# 2. Fetch and unpack the source distribution.
WORK=${ME_WORKDIR:-$(mktemp -d /tmp/minkowski.XXXXXX)}
mkdir -p "$WORK"
log "sources in $WORK"
"$PY" -m pip download -q --no-deps --no-binary :all: --no-build-isolation "MinkowskiEngine==$ME_VERSION" -d "$WORK"
SRC="$WORK/MinkowskiEngine-$ME_VERSION"
rm -rf "$SRC"
tar -xzf "$WORK/MinkowskiEngine-$ME_VERSION.tar.gz" -C "$WORK"

# 3. Patches.
grep -rl --include='*.py' 'from collections import' "$SRC/MinkowskiEngine" | while read -r f; do
  sed -i -E \
    -e 's/^from collections import Sequence, namedtuple$/from collections import namedtuple\nfrom collections.abc import Sequence/' \
    -e 's/^from collections import Sequence$/from collections.abc import Sequence/' "$f"
done
sed -i -e 's/^from torch._six import container_abcs, istuple$/import collections.abc as container_abcs\nistuple = lambda x: isinstance(x, tuple)/' \
  "$SRC/MinkowskiEngine/utils/gradcheck.py"
if grep -rq 'from collections import Sequence' "$SRC/MinkowskiEngine"; then
  log "patch failed: 'from collections import Sequence' still present"; exit 1
fi
# setup.py takes --cpu_only and --blas=... from sys.argv only: append them from the environment.
"$PY" - "$SRC/setup.py" <<'EOF'
import sys
path = sys.argv[1]
text = open(path).read()
hook = (
    "import os as _os\n"
    "if _os.environ.get('ME_CPU_ONLY', '1') == '1':\n"
    "    sys.argv.append('--cpu_only')\n"
    "sys.argv.append('--blas=' + _os.environ.get('ME_BLAS', 'openblas'))\n"
)
marker = "\ntry:\n    import torch\n"
assert marker in text, "setup.py layout changed"
open(path, "w").write(text.replace(marker, "\n" + hook + marker, 1))
EOF

# 4. Build and install.
log "building with MAX_JOBS=$MAX_JOBS (about 25 minutes on 2 cores)"
start=$(date +%s)
(cd "$SRC" && ME_CPU_ONLY=1 ME_BLAS=openblas "$PY" -m pip install -v --no-deps --no-build-isolation .)
log "built in $(( $(date +%s) - start )) s"
cd /tmp && "$PY" -c 'import MinkowskiEngine as ME; print("install_minkowski: MinkowskiEngine", ME.__version__, "imports")'
