#!/usr/bin/env bash
# Runs the role's molecule scenarios from a clean clone, as root on Debian 12:
#   bash tests/molecule/run.sh            # both scenarios: netns (fast), then default (containers)
#   bash tests/molecule/run.sh netns      # only one of them (or: default)
#   bash tests/molecule/run.sh cleanup    # remove what an interrupted or kept run left
# It prepares what it needs and removes it all at the end, even on failure:
# - missing apt packages (APT_PACKAGES below) and, unless VENV names one that has molecule, a venv
#   with the pinned controller tools ($VRRP_MOLECULE_VENV, kept between runs like a cache);
# - a private dockerd (data, exec root and socket under $VRRP_MOLECULE_WORK, a new directory for
#   every run, so parallel runs never share a dockerd; no bridge, no iptables, no masquerading, no
#   forwarding) and the systemd images of Debian 12 and 13 built with mmdebstrap + docker import;
# - community.docker and ansible.posix for the controller, from the `ansible` package on PyPI;
# - this collection, built and installed under $VRRP_MOLECULE_WORK/collections;
# - the namespaces of the netns scenario.
# VRRP_MOLECULE_KEEP=1 leaves everything in place for debugging (then: VRRP_MOLECULE_WORK=DIR
# run.sh cleanup, with the DIR it printed).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
if [ -z "${VRRP_MOLECULE_WORK:-}" ] && [ "${1:-}" != cleanup ]; then
  VRRP_MOLECULE_WORK=$(mktemp -d /tmp/crans-vrrp-molecule.XXXXXX)
fi
. "$HERE/lib.sh"
# The netns scenario's namespaces get a per-run prefix too (netns.sh removes those of its prefix).
: "${VRRP_NETNS_PREFIX:=vrrpmol$$}"
export VRRP_NETNS_PREFIX
# The suites of the `default` scenario's images (its molecule.yml says which host runs which).
DEFAULT_SUITES="bookworm trixie"

# Debian packages: the runtime's dependencies for the netns hosts (this machine), what builds it
# offline, python3-apt for the apt module, dockerd and mmdebstrap for the default scenario.
APT_PACKAGES="docker.io mmdebstrap iproute2 procps python3-apt python3-venv python3-setuptools
python3-wheel python3-pyroute2 python3-voluptuous python3-jinja2"
# Controller tools, pinned (ansible-core 2.19 is the newest for Python 3.11).
PIP_PACKAGES="ansible-core==2.19.14 molecule==26.10.0 molecule-plugins[docker]==26.10.12 docker==7.2.0 requests==2.34.2"
: "${VRRP_MOLECULE_VENV:=/var/tmp/crans-vrrp-molecule-venv}"

prepare_tools() {
  local missing=""
  for package in $APT_PACKAGES; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing="$missing $package"
  done
  if [ -n "$missing" ]; then
    log "apt-get install$missing"
    export DEBIAN_FRONTEND=noninteractive
    timeout 300 apt-get update -qq
    # shellcheck disable=SC2086
    timeout 600 apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
  if [ -z "${VENV:-}" ] || [ ! -x "$VENV/bin/molecule" ]; then
    VENV=$VRRP_MOLECULE_VENV
    if [ ! -x "$VENV/bin/molecule" ]; then
      log "venv $VENV: $PIP_PACKAGES"
      /usr/bin/python3 -m venv "$VENV"
      # shellcheck disable=SC2086
      timeout 600 "$VENV/bin/pip" install -q --disable-pip-version-check $PIP_PACKAGES
    fi
  fi
  export PATH="$VENV/bin:$PATH"
}
export ANSIBLE_COLLECTIONS_PATH="$VRRP_MOLECULE_WORK/collections"
export ANSIBLE_NOCOLOR=1 PY_COLORS=0 NO_COLOR=1 ANSIBLE_FORCE_COLOR=0
export ANSIBLE_LOCAL_TEMP="$VRRP_MOLECULE_WORK/ansible-tmp"
export MOLECULE_NO_LOG=false
# Each scenario gets a bounded time; a hung step fails the run instead of blocking CI.
: "${VRRP_MOLECULE_TIMEOUT:=1200}"

if [ "$#" -gt 0 ]; then scenarios=("$@"); else scenarios=(netns default); fi

cleanup() {
  local status=$?
  if [ "${VRRP_MOLECULE_KEEP:-0}" = 1 ] && [ "${1:-}" != force ]; then
    log "VRRP_MOLECULE_KEEP=1: leaving $VRRP_MOLECULE_WORK, dockerd and namespaces in place"
    return $status
  fi
  log "cleaning up"
  if command -v molecule >/dev/null; then
    (cd "$ROOT" && for s in default netns; do
       timeout 300 molecule destroy -s "$s" >/dev/null 2>&1 || true
     done) || true
  fi
  bash "$HERE/netns.sh" destroy || true
  bash "$HERE/dockerd.sh" stop || true
  rm -rf "$VRRP_MOLECULE_WORK"
  return $status
}

if [ "${1:-}" = cleanup ]; then
  [ "$VRRP_MOLECULE_WORK" != /tmp/crans-vrrp-molecule ] || [ -d "$VRRP_MOLECULE_WORK" ] \
    || { log "cleanup: set VRRP_MOLECULE_WORK to the directory the kept run printed"; exit 2; }
  trap - EXIT
  cleanup force
  exit 0
fi
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || { log "run as root (namespaces, dockerd)"; exit 2; }
mkdir -p "$VRRP_MOLECULE_WORK" "$ANSIBLE_LOCAL_TEMP"
log "work directory $VRRP_MOLECULE_WORK"
start=$SECONDS
prepare_tools

log "role in step with the modules' documentation"
python3 "$HERE/sync_role_options.py" --check

log "controller collections"
PYTHON="$VENV/bin/python" bash "$HERE/collections.sh" "$ANSIBLE_COLLECTIONS_PATH"
log "building and installing crans.vrrp with ansible-core $("$VENV/bin/python" -c 'import ansible.release; print(ansible.release.__version__)')"
rm -rf "$VRRP_MOLECULE_WORK/build"
(cd "$ROOT" && timeout 300 ansible-galaxy collection build --force --output-path "$VRRP_MOLECULE_WORK/build" >/dev/null)
timeout 300 ansible-galaxy collection install --offline --force --no-deps -p "$ANSIBLE_COLLECTIONS_PATH" \
  "$VRRP_MOLECULE_WORK"/build/crans-vrrp-*.tar.gz >/dev/null

for scenario in "${scenarios[@]}"; do
  if [ "$scenario" = default ]; then
    bash "$HERE/dockerd.sh" start
    # Both images at once: mmdebstrap mostly waits on downloads and dpkg, one core each.
    t0=$SECONDS
    builds=()
    for suite in $DEFAULT_SUITES; do
      VRRP_MOLECULE_SUITE=$suite VRRP_MOLECULE_IMAGE=crans-vrrp-systemd:$suite bash "$HERE/build-image.sh" &
      builds+=($!)
    done
    failed=0
    for pid in "${builds[@]}"; do wait "$pid" || failed=1; done   # all of them, so none is left running
    [ "$failed" = 0 ] || { log "an image build failed"; exit 1; }
    log "images ($DEFAULT_SUITES) ready in $((SECONDS - t0)) s"
  fi
  log "molecule test -s $scenario"
  t0=$SECONDS
  (cd "$ROOT" && timeout "$VRRP_MOLECULE_TIMEOUT" molecule test -s "$scenario")
  log "scenario $scenario passed in $((SECONDS - t0)) s"
done
log "all passed in $((SECONDS - start)) s"
