#!/usr/bin/env bash
# The molecule docker driver needs the community.docker and ansible.posix collections on the
# controller, and Ansible Galaxy may be out of reach: take them from the `ansible` package on PyPI
# (the release matching ansible-core 2.19), extracting only those two collections.
#   collections.sh DIR   # DIR/ansible_collections/{community/docker,ansible/posix}
set -euo pipefail
. "$(dirname "$0")/lib.sh"
dest=${1:?usage: $0 COLLECTIONS_DIR}
: "${VRRP_ANSIBLE_PACKAGE:=ansible==12.3.0}"   # community.docker 4.8.5
if [ -f "$dest/ansible_collections/community/docker/MANIFEST.json" ] \
   && [ -f "$dest/ansible_collections/ansible/posix/MANIFEST.json" ]; then
  exit 0
fi
PY=${PYTHON:-python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log "fetching community.docker and ansible.posix from $VRRP_ANSIBLE_PACKAGE"
timeout 300 "$PY" -m pip download --quiet --no-deps --disable-pip-version-check -d "$tmp" "$VRRP_ANSIBLE_PACKAGE"
mkdir -p "$dest"
"$PY" - "$tmp"/ansible-*.whl "$dest" <<'PYEOF'
import sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    members = [n for n in z.namelist() if n.startswith(("ansible_collections/community/docker/", "ansible_collections/ansible/posix/"))]
    z.extractall(dest, members)
print(f"{len(members)} files")
PYEOF
