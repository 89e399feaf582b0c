#!/usr/bin/env bash
# One-time machine set-up: the Vulkan loader and, where no Vulkan driver is
# installed, Mesa's software driver lavapipe; make; Fashion-MNIST as a real
# image set. Idempotent; run as root (or with sudo).
set -euo pipefail

have_icd() { compgen -G '/usr/share/vulkan/icd.d/*.json' >/dev/null || compgen -G '/etc/vulkan/icd.d/*.json' >/dev/null; }
have_loader() { case "$(ldconfig -p 2>/dev/null)" in *libvulkan.so.1*) return 0 ;; *) return 1 ;; esac; }

if ! have_icd || ! have_loader; then
  echo "setup: installing the Vulkan loader and Mesa's software Vulkan driver (mesa-vulkan-drivers)"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    libvulkan1 mesa-vulkan-drivers >/dev/null
fi

# `make`, which the allocator's build (jemalloc, through tikv-jemalloc-sys) runs.
if ! command -v make >/dev/null; then
  echo "setup: installing make (the jemalloc build runs it)"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends make >/dev/null
fi

# Real images for domain adaptation and evaluation: Fashion-MNIST (IDX files
# under /usr/share/datasets/fashion-mnist), from Debian.
if [ ! -d /usr/share/datasets/fashion-mnist ]; then
  echo "setup: installing Debian's dataset-fashion-mnist (real images, IDX)"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  # Not fatal: only --real / eval runs that name these files need them.
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
      --no-install-recommends dataset-fashion-mnist >/dev/null; } ||
    echo "setup: warning: dataset-fashion-mnist could not be installed; the demo needs it"
fi

# Mesa warns when XDG_RUNTIME_DIR is unset or not a private folder; give it one.
if [ -z "${XDG_RUNTIME_DIR:-}" ] || [ ! -d "${XDG_RUNTIME_DIR}" ]; then
  mkdir -p -m 0700 /tmp/synthfeat-xdg-$(id -u)
fi
echo "setup: ok"
