#!/usr/bin/env bash
# Runs ansible-test (sanity, units, integration) on a copy of the collection.
#
#   bash tests/ansible-test.sh [sanity|units|integration|all] [extra ansible-test args]
#
# ansible-test wants the collection at .../ansible_collections/crans/vrrp/ and
# resolves symlinks, so the tree is copied (without .git, venvs and caches)
# into a temporary directory.  Its sanity tests build virtual environments
# with a pip bootstrap script downloaded from ansible's CI file server, which
# this machine cannot reach: a stand-in (ensurepip, then pip install from the
# configured package index) is written to ~/.ansible/test/cache/ first.
#
# The python used is $VENV/bin/python (default .venv), which must have ansible-core and the
# runtime (pip install -e ./runtime[test]) installed; ansible-test runs with that Python's
# version (CI: .venv with ansible-core 2.19 on 3.11, .venv-py313 with the newest on 3.13).
# Integration tests need root (network namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."
SRC="$(pwd)"
VENV="$(realpath "${VENV:-.venv}")"
export PATH="$VENV/bin:$PATH"
PY="$VENV/bin/python"
PYVER="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
WHAT="${1:-all}"
[ $# -gt 0 ] && shift

# Sanity tests skipped, and why (everything else runs):
#  - pslint: PowerShell only; the collection has none.
SKIP_SANITY=(--skip-test pslint)

# -- the pip bootstrap stand-in ------------------------------------------------------------------
PIP_VERSION="$("$PY" - <<'EOF'
import re, ansible_test._internal.python_requirements as m
print(re.search(r"pip='([^']+)'", open(m.__file__).read()).group(1))
EOF
)"
CACHE="$HOME/.ansible/test/cache"
mkdir -p "$CACHE"
cat >"$CACHE/get_pip_${PIP_VERSION//./_}.py" <<'EOF'
"""Offline stand-in for ansible-test's get-pip.py: ensurepip, then pip install the arguments."""
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]
subprocess.check_call([sys.executable, '-m', 'ensurepip', '--upgrade', '--default-pip'])
subprocess.check_call([sys.executable, '-m', 'pip', 'install', '--quiet'] + args)
EOF

# -- the copy ------------------------------------------------------------------------------------
WORK="$(mktemp -d /tmp/crans-vrrp-ansible-test.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
DEST="$WORK/ansible_collections/crans/vrrp"
mkdir -p "$DEST"
tar -C "$SRC" \
  --exclude=./.git --exclude='./.venv*' --exclude=./venv --exclude=./.ansible --exclude='*.tar.gz' \
  --exclude='__pycache__' --exclude='.pytest_cache' --exclude='.hypothesis' --exclude='.mypy_cache' \
  --exclude='.ruff_cache' --exclude='*.egg-info' --exclude=./tests/output \
  -cf - . | tar -C "$DEST" -xf -
# ansible-test only looks at files git knows when the collection is a git checkout; the copy is not.
cd "$DEST"

status=0
run() {
  echo "== ansible-test $* (ansible-core $("$VENV/bin/ansible" --version | sed -n '1s/.*core \([0-9.]*\).*/\1/p'))"
  "$VENV/bin/ansible-test" "$@" || status=1
}
case "$WHAT" in
  sanity|all)
    run sanity --local --python "$PYVER" "${SKIP_SANITY[@]}" "$@" ;;&
  units|all)
    run units --local --python "$PYVER" "$@" ;;&
  integration|all)
    run integration --local --python "$PYVER" --allow-root --allow-destructive "$@" ;;
  sanity|units) ;;
  *) echo "usage: $0 [sanity|units|integration|all] [ansible-test args]" >&2; exit 2 ;;
esac
exit $status
