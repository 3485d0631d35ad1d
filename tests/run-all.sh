#!/usr/bin/env bash
# Runs every test of the project: the runtime's unit tests (pure core, config,
# simulated link) and its network tests (namespaces, bridge, keepalived peer,
# which need root). The venv is .venv unless VENV says otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="$(realpath "${VENV:-.venv}")"
PY="$VENV/bin/python"
if [ "$(id -u)" != 0 ]; then
  echo "run-all.sh: the network tests need root (namespaces, raw sockets)" >&2
  exit 2
fi
cd runtime
"$PY" -m pytest -q -p no:cacheprovider tests "$@"
