#!/usr/bin/env bash
# Hosts of the `netns` scenario: one network namespace per host, all on one bridge that lives in
# its own switch namespace (the root namespace gets no address and no route), and for each host
# the interpreter wrappers Ansible uses (ansible_connection local: the hosts share this machine's
# filesystem, so every path of theirs is under a per-host root).
#   netns.sh create HOST=ADDRESS/PREFIX...   e.g. create a=203.0.113.11/24 b=203.0.113.12/24
#   netns.sh destroy                         kills the daemons left in them, removes everything
set -euo pipefail
. "$(dirname "$0")/lib.sh"
PREFIX=${VRRP_NETNS_PREFIX:-vrrpmol}
SWITCH="$PREFIX-sw"
DIR="$VRRP_MOLECULE_WORK/netns"

create() {
  destroy
  mkdir -p "$DIR"
  ip netns add "$SWITCH"
  ip -n "$SWITCH" link add br0 type bridge
  ip -n "$SWITCH" link set br0 up
  ip -n "$SWITCH" link set lo up
  for spec in "$@"; do
    host=${spec%%=*} address=${spec#*=}
    ns="$PREFIX-$host"
    ip netns add "$ns"
    ip link add "$host-p" netns "$SWITCH" type veth peer name eth0 netns "$ns"
    ip -n "$SWITCH" link set "$host-p" master br0 up
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "$address" dev eth0
    ip -n "$ns" link set eth0 up
    mkdir -p "$DIR/$host/root/run"
    printf '#!/bin/sh\nexec ip netns exec %s /usr/bin/python3 "$@"\n' "$ns" > "$DIR/$host/python"
    printf '#!/bin/sh\nexec ip netns exec %s %s/root/opt/vrrpd/bin/python3 "$@"\n' "$ns" "$DIR/$host" > "$DIR/$host/venv-python"
    chmod 0755 "$DIR/$host/python" "$DIR/$host/venv-python"
  done
  log "namespaces: $(ip netns list | grep -o "^$PREFIX-[^ ]*" | tr '\n' ' ')"
}

destroy() {
  for ns in $(ip netns list | grep -o "^$PREFIX-[^ ]*" || true); do
    # the daemons the scenario started in this namespace (and nothing else)
    for pid in $(ip netns pids "$ns" 2>/dev/null || true); do
      kill -9 "$pid" 2>/dev/null || true
    done
    ip netns delete "$ns" 2>/dev/null || true
  done
  rm -rf "$DIR"
}

case "${1:-}" in
  create) shift; create "$@" ;;
  destroy) destroy ;;
  *) echo "usage: $0 create HOST=ADDR/PREFIX... | destroy" >&2; exit 2 ;;
esac
