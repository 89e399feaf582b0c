#!/usr/bin/env bash
# Installs the pyrender peer of benches/render_vs_pyrender.sh: Debian's OSMesa
# (offscreen OpenGL on the CPU) and a virtual environment with pyrender 0.1.45,
# PyOpenGL 3.1.10 (pyrender pins 3.1.0, which fails with OSMesa) and numpy < 2
# (pyrender still uses np.infty). Usage: benches/setup_peer.sh [VENV]
set -euo pipefail
VENV="${1:-${PEER_VENV:-/var/tmp/synthfeat-peer-venv}}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if ! ldconfig -p | grep -q libOSMesa; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq libosmesa6
fi
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q "numpy<2" "pyrender==0.1.45" pillow
# After pyrender, which would pull its pinned 3.1.0 back in.
"$VENV/bin/pip" install -q "PyOpenGL==3.1.10"
"$VENV/bin/python" -c "import pyrender, OpenGL; print('pyrender', pyrender.__version__, 'PyOpenGL', OpenGL.__version__)"
echo "peer ready: $VENV"
