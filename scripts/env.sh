# Sourced by the scripts: a private XDG_RUNTIME_DIR for Mesa.
if [ -z "${XDG_RUNTIME_DIR:-}" ] || [ ! -d "${XDG_RUNTIME_DIR}" ]; then
  export XDG_RUNTIME_DIR=/tmp/synthfeat-xdg-$(id -u)
  mkdir -p -m 0700 "$XDG_RUNTIME_DIR"
fi
