#!/usr/bin/env bash
# ansible-test integration target: the role's molecule scenario 'netns' (see tests/molecule/run.sh,
# which prepares dockerd, the image and the controller collections, and cleans up after itself).
# ansible-test runs this from a copy of the collection under .../ansible_collections/crans/vrrp/.
set -euo pipefail
COLLECTION_ROOT="$(cd "$(dirname "$0")/../../../.." && pwd)"
exec bash "$COLLECTION_ROOT/tests/molecule/run.sh" netns
