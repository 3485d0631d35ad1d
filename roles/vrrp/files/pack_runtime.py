"""Pack the collection's runtime (pyproject.toml and vrrpd/) into a reproducible .tar.gz.

Runs on the controller: fixed mtimes, owners and order, no __pycache__, so the host's copy only
changes (and the daemon only restarts) when the code does, whatever the collection's install time.
    python3 pack_runtime.py RUNTIME_DIR ARCHIVE
"""

import gzip
import io
import os
import sys
import tarfile

MTIME = 1577836800  # 2020-01-01: fixed, and after 1980 (zip, hence wheels, cannot go earlier)


def members(root):
    yield "pyproject.toml"
    for directory, dirs, files in os.walk(os.path.join(root, "vrrpd")):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        rel = os.path.relpath(directory, root)
        yield rel
        for name in sorted(files):
            if not name.endswith((".pyc", ".pyo")):
                yield os.path.join(rel, name)


def main(root, archive):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for rel in members(root):
            info = tar.gettarinfo(os.path.join(root, rel), arcname=rel)
            info.mtime, info.uid, info.gid, info.uname, info.gname = MTIME, 0, 0, "root", "root"
            info.mode = 0o755 if info.isdir() else 0o644
            if info.isreg():
                with open(os.path.join(root, rel), "rb") as stream:
                    tar.addfile(info, stream)
            else:
                tar.addfile(info)
    with open(archive, "wb") as out, gzip.GzipFile(filename="", fileobj=out, mode="wb", mtime=0) as gz:
        gz.write(buffer.getvalue())


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
