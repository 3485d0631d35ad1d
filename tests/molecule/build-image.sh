#!/usr/bin/env bash
# Builds the systemd image of the `default` scenario without any registry: mmdebstrap from the
# machine's configured Debian sources, then `docker import`. Needs the private dockerd
# (dockerd.sh start). A tarball already built for the same package list is reused.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if "$DOCKER" image inspect "$VRRP_MOLECULE_IMAGE" >/dev/null 2>&1; then
  log "image $VRRP_MOLECULE_IMAGE already present"
  exit 0
fi
key=$(printf '%s %s' "$VRRP_MOLECULE_SUITE" "$IMAGE_PACKAGES" | sha256sum | cut -c1-12)
tarball="${VRRP_MOLECULE_CACHE:-$VRRP_MOLECULE_WORK}/rootfs-$key.tar"
mkdir -p "$(dirname "$tarball")"
if [ ! -s "$tarball" ]; then
  log "mmdebstrap $VRRP_MOLECULE_SUITE -> $tarball"
  # No mirror argument: mmdebstrap then uses the host's apt sources (and its proxy settings).
  # The hooks are single-quoted on purpose: mmdebstrap's hook shell expands "$1" (the rootfs).
  # shellcheck disable=SC2016
  timeout 900 mmdebstrap --quiet --format=tar --variant=minbase --include="$IMAGE_PACKAGES" \
    --customize-hook='rm -f "$1"/etc/machine-id; touch "$1"/etc/machine-id' \
    --customize-hook='chroot "$1" systemctl mask systemd-resolved.service getty.target console-getty.service systemd-networkd.service >/dev/null 2>&1 || true' \
    "$VRRP_MOLECULE_SUITE" "$tarball.part"
  mv "$tarball.part" "$tarball"
fi
log "docker import -> $VRRP_MOLECULE_IMAGE"
timeout 300 "$DOCKER" import -c 'CMD ["/lib/systemd/systemd"]' \
  "$tarball" "$VRRP_MOLECULE_IMAGE" >/dev/null
