#!/usr/bin/env bash
# What a user does first: build the collection's tarball and install it with ansible-galaxy (the
# dependency resolver included, which refuses a collection whose meta/runtime.yml excludes the
# running ansible-core), then read a module's documentation without any warning.
#   VENV=.venv-py313 bash tests/galaxy-install.sh   # with that venv's ansible-core (default .venv)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="$(realpath "${VENV:-.venv}")"
export PATH="$VENV/bin:$PATH"
WORK="$(mktemp -d /tmp/crans-vrrp-galaxy.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
export ANSIBLE_COLLECTIONS_PATH="$WORK/collections" ANSIBLE_LOCAL_TEMP="$WORK/tmp" ANSIBLE_NOCOLOR=1

core="ansible-core $("$VENV/bin/python" -c 'import ansible.release; print(ansible.release.__version__)')"
echo "== ansible-galaxy collection build + install ($core)"
timeout 300 ansible-galaxy collection build --output-path "$WORK" >/dev/null
timeout 300 ansible-galaxy collection install --offline -p "$ANSIBLE_COLLECTIONS_PATH" "$WORK"/crans-vrrp-*.tar.gz
ansible-galaxy collection list crans.vrrp -p "$ANSIBLE_COLLECTIONS_PATH" >"$WORK/list" 2>&1
grep '^crans\.vrrp ' "$WORK/list" \
  || { echo "galaxy-install: crans.vrrp is not listed after the install" >&2; exit 1; }
# ansible-doc warns on stderr when the collection does not declare support for this ansible-core.
if ! ansible-doc -t module crans.vrrp.vrrp_instance >/dev/null 2>"$WORK/doc.err" || [ -s "$WORK/doc.err" ]; then
  echo "galaxy-install: ansible-doc crans.vrrp.vrrp_instance complained:" >&2
  cat "$WORK/doc.err" >&2
  exit 1
fi
echo "crans.vrrp installed from its tarball and documented by $core"
