#!/usr/bin/env bash
# Runs every test of the project: ansible-lint, ansible-test sanity, units and integration for the
# collection's modules, then the runtime's unit tests (pure core, config,
# simulated link) and its network tests (namespaces, bridge, keepalived peer,
# which need root). The venv is .venv unless VENV says otherwise (ansible-core 2.19 on Python
# 3.11); VENV313 (default .venv-py313, made by .ci/run) has the newest ansible-core on Python 3.13.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="$(realpath "${VENV:-.venv}")"
PY="$VENV/bin/python"
VENV313="$(realpath -m "${VENV313:-.venv-py313}")"
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
VENV="$VENV" bash tests/galaxy-install.sh || status=1
# The role: the netns scenario (3 namespaces as hosts) from this controller; its `default` scenario
# (systemd containers, Debian 12 and 13) from the newest one below.
VENV="$VENV" bash tests/molecule/run.sh netns || status=1
# The newest ansible-core on Python 3.13: the same collection checks, the user's first step (install
# from the tarball), the role onto Debian 12 and 13 containers, and the runtime's unit tests on 3.13
# with the standard library's deprecation warnings as errors (the daemons they start included).
if [ -x "$VENV313/bin/python" ]; then
  VENV="$VENV313" bash tests/ansible-test.sh sanity || status=1
  VENV="$VENV313" bash tests/ansible-test.sh units || status=1
  VENV="$VENV313" bash tests/ansible-test.sh integration vrrp_modules || status=1
  VENV="$VENV313" bash tests/galaxy-install.sh || status=1
  VENV="$VENV313" bash tests/molecule/run.sh default || status=1
  echo "== runtime unit tests on $("$VENV313/bin/python" -V)"
  (cd runtime && PYTHONWARNINGS=error::DeprecationWarning,error::PendingDeprecationWarning \
    "$VENV313/bin/python" -m pytest -q -p no:cacheprovider \
    -W error::DeprecationWarning -W error::PendingDeprecationWarning tests/unit) || status=1
else
  echo "run-all.sh: $VENV313 is missing (bash .ci/run makes it): newest ansible-core and Python 3.13 not tested" >&2
  status=1
fi
# The runtime: pure core, config, simulated link, and the daemon on namespaces (last, so its
# summary line closes the run).
(cd runtime && "$PY" -m pytest -q -p no:cacheprovider tests "$@") || status=1
exit $status
