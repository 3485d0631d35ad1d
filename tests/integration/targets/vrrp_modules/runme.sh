#!/usr/bin/env bash
# Runs the modules for real against two network namespaces used as inventory
# hosts, each with vrrpd running in it (started here, as a child of this script).
# Addresses: 198.51.100.0/24 only, on a bridge that lives in its own namespace.
set -euo pipefail

PY="${ANSIBLE_TEST_PYTHON_INTERPRETER:-$(command -v python3)}"
"$PY" -c 'import vrrpd' || { echo "runme.sh: the runtime (vrrpd) is not importable by $PY" >&2; exit 1; }
PREFIX="vm$$"               # per-run prefix: parallel runs and leftovers never collide
SW="${PREFIX}sw"
WORK="$(mktemp -d "/tmp/vrrp-modules-${PREFIX}.XXXXXX")"
PIDS=()

cleanup() {
  set +e
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  for ns in "${PREFIX}n1" "${PREFIX}n2" "$SW"; do ip netns del "$ns" 2>/dev/null; done
  for log in "$WORK"/*/vrrpd.log; do [ -f "$log" ] && { echo "== $log"; tail -n 30 "$log"; }; done
  rm -rf "$WORK"
}
trap cleanup EXIT

ip netns add "$SW"
ip -n "$SW" link add br0 type bridge
ip -n "$SW" link set br0 up
cat >"$WORK/inventory.ini" <<INV
[vrrp]
INV
n=0
for node in n1 n2; do
  n=$((n + 1))
  ns="${PREFIX}${node}"
  dir="$WORK/$node"
  mkdir -p "$dir/conf.d"
  ip netns add "$ns"
  ip link add "${PREFIX}${node}h" type veth peer name eth0 netns "$ns"
  ip link set "${PREFIX}${node}h" netns "$SW"
  ip -n "$SW" link set "${PREFIX}${node}h" master br0 up
  ip -n "$ns" link set lo up
  ip -n "$ns" link set eth0 up
  ip -n "$ns" addr add "198.51.100.$n/24" dev eth0
  # the interpreter wrapper: modules of this host run inside its namespace
  printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "$ns" "$PY" >"$dir/python"
  chmod +x "$dir/python"
  # the daemon starts on a configuration without instances; the play adds them and reloads it
  printf 'include conf.d/*.conf\n' >"$dir/vrrpd.conf"
  ip netns exec "$ns" "$PY" -m vrrpd.cli -f "$dir/vrrpd.conf" --control-socket "$dir/vrrpd.sock" -l \
    >"$dir/vrrpd.log" 2>&1 &
  PIDS+=($!)
  echo "$node ansible_connection=local ansible_python_interpreter=$dir/python vrrp_dir=$dir" \
    >>"$WORK/inventory.ini"
done

for node in n1 n2; do
  for _ in $(seq 50); do [ -S "$WORK/$node/vrrpd.sock" ] && break; sleep 0.1; done
done

ansible-playbook -i "$WORK/inventory.ini" test.yml "$@"
