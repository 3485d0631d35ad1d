#!/usr/bin/env bash
# Runs every test of the project: ansible-lint, ansible-test sanity, units and integration for the
# collection's modules, then the runtime's unit tests (pure core, config,
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
status=0
# The collection's YAML as Galaxy checks it on import: ansible-lint --profile production (.ansible-lint).
# (not --offline: ansible-lint installs this collection under .ansible/ to resolve its modules)
"$VENV/bin/ansible-lint" || status=1
# The collection: sanity (no ignore entries), module unit tests, and the modules run for real
# against a namespace host.
VENV="$VENV" bash tests/ansible-test.sh sanity || status=1
VENV="$VENV" bash tests/ansible-test.sh units || status=1
VENV="$VENV" bash tests/ansible-test.sh integration vrrp_modules || status=1
# The role: molecule scenarios (3 systemd containers on a private dockerd; 3 namespaces).
VENV="$VENV" bash tests/molecule/run.sh || status=1
# The runtime: pure core, config, simulated link, and the daemon on namespaces (last, so its
# summary line closes the run).
(cd runtime && "$PY" -m pytest -q -p no:cacheprovider tests "$@") || status=1
exit $status
