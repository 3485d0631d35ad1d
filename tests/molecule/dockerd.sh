#!/usr/bin/env bash
# Starts or stops a private dockerd for the molecule scenarios: its own data and exec roots and
# socket under $VRRP_MOLECULE_WORK, no default bridge, no iptables, no masquerading, and it never
# turns IP forwarding on. Scenario networks are user-defined internal bridges.
#   dockerd.sh start   # prints nothing, exports nothing: source lib.sh for DOCKER_HOST
#   dockerd.sh stop    # stops it (bounded) and removes its data
set -euo pipefail
. "$(dirname "$0")/lib.sh"
pidfile="$VRRP_MOLECULE_WORK/dockerd.pid"

start() {
  mkdir -p "$VRRP_MOLECULE_WORK"
  if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    log "dockerd already running (pid $(cat "$pidfile"))"
    return 0
  fi
  command -v dockerd >/dev/null || { log "dockerd missing: apt-get install docker.io"; exit 1; }
  log "starting dockerd on $DOCKER_HOST"
  # setsid: its own session, so a Ctrl-C of the caller does not kill it before cleanup runs.
  setsid dockerd \
    --data-root "$VRRP_MOLECULE_WORK/data" --exec-root "$VRRP_MOLECULE_WORK/exec" \
    --pidfile "$pidfile" -H "$DOCKER_HOST" \
    --bridge=none --iptables=false --ip6tables=false --ip-masq=false --ip-forward=false \
    --storage-driver=overlay2 \
    >"$VRRP_MOLECULE_WORK/dockerd.log" 2>&1 </dev/null &
  wait_for 60 "dockerd to answer" "$DOCKER" info || { tail -n 30 "$VRRP_MOLECULE_WORK/dockerd.log" >&2; exit 1; }
}

stop() {
  if [ -s "$pidfile" ]; then
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      # containers first (bounded), then the daemon
      mapfile -t ids < <(timeout 30 "$DOCKER" ps -aq 2>/dev/null || true)
      [ "${#ids[@]}" -eq 0 ] || timeout 60 "$DOCKER" rm -f "${ids[@]}" >/dev/null 2>&1 || true
      mapfile -t nets < <(timeout 30 "$DOCKER" network ls -q --filter type=custom 2>/dev/null || true)
      [ "${#nets[@]}" -eq 0 ] || timeout 30 "$DOCKER" network rm "${nets[@]}" >/dev/null 2>&1 || true
      log "stopping dockerd (pid $pid)"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      if kill -0 "$pid" 2>/dev/null; then
        log "dockerd still running after 30 s: SIGKILL"
        kill -9 "$pid" 2>/dev/null || true
      fi
    fi
  fi
  # containerd-shims left behind by a killed dockerd hold mounts: end those of our exec root only
  for shim in $(pgrep -f "containerd-shim.*$VRRP_MOLECULE_WORK" 2>/dev/null || true); do
    kill -9 "$shim" 2>/dev/null || true
  done
  # overlay mounts under the data root must go before rm -rf
  if [ -d "$VRRP_MOLECULE_WORK" ]; then
    grep -o " $VRRP_MOLECULE_WORK/[^ ]*" /proc/mounts | sort -r | while read -r mnt; do
      umount -l "$mnt" 2>/dev/null || true
    done
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
