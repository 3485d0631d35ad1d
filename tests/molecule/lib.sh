# shellcheck shell=bash
# Shared settings of the molecule helper scripts (sourced, not run).
# Everything lives under one work directory, so cleaning up is one rm -rf.
# run.sh gives every run its own directory (so its dockerd's socket, data and exec roots collide
# with no other run's); the helpers called alone fall back to a fixed one.
: "${VRRP_MOLECULE_WORK:=/tmp/crans-vrrp-molecule}"
# The Debian suite an image is built from, and its name (the `default` scenario runs both suites).
: "${VRRP_MOLECULE_SUITE:=bookworm}"
: "${VRRP_MOLECULE_IMAGE:=crans-vrrp-systemd:$VRRP_MOLECULE_SUITE}"
DOCKER_SOCK="$VRRP_MOLECULE_WORK/docker.sock"
DOCKER_HOST="unix://$DOCKER_SOCK"
export VRRP_MOLECULE_WORK VRRP_MOLECULE_IMAGE DOCKER_HOST
# The Debian docker.io client matches the daemon; an older/newer client elsewhere on PATH may not.
DOCKER=/usr/bin/docker
[ -x "$DOCKER" ] || DOCKER=docker

# Packages baked into the images (the same list for Debian 12 and 13): systemd as PID 1, what
# Ansible needs (python3, python3-apt for the apt module, sudo for become), the runtime's Debian
# dependencies (containers on the internal network reach no mirror), and the tools the scenarios use.
IMAGE_PACKAGES="systemd,systemd-sysv,dbus,python3,python3-apt,python3-venv,python3-setuptools,python3-wheel,\
python3-pyroute2,python3-voluptuous,python3-jinja2,iproute2,procps,sudo,iputils-ping,ca-certificates"
export IMAGE_PACKAGES

log() { printf '%s [molecule] %s\n' "$(date +%T)" "$*" >&2; }

# wait_for SECONDS DESCRIPTION COMMAND...: poll every 0.2 s, fail after SECONDS.
wait_for() {
  local limit=$1 what=$2; shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "timed out after ${limit}s waiting for $what"
      return 1
    fi
    sleep 0.2
  done
}
