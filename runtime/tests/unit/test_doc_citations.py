"""The repository cites only itself: every ``keepalived-compat.md §N`` points at a section that exists.

Comments and docstrings explain keepalived's behaviour by citing the project's own
``docs/keepalived-compat.md``; a citation of a file outside the repository, or of a section
that was renumbered away, leaves the reader with nothing to open.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
COMPAT = REPO / "docs" / "keepalived-compat.md"
CITATION = re.compile(r"keepalived-compat\.md`?\)?\s+((?:§\d+(?:-§\d+)?(?:,\s*|\s+and\s+)?)+)")
OUTSIDE = re.compile(r"reference §|shared/reference")
SCANNED = ("*.py", "*.md", "*.yml", "*.sh")


def _files() -> list[Path]:
    skip = {".git", ".venv", "venv", "__pycache__", "output"}
    return [
        path for pattern in SCANNED for path in REPO.rglob(pattern)
        if not skip & set(path.relative_to(REPO).parts) and path != Path(__file__)
    ]


def _sections() -> set[int]:
    return {int(m) for m in re.findall(r"^## (\d+)\. ", COMPAT.read_text(), re.MULTILINE)}


def test_no_citation_leaves_the_repository() -> None:
    found = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in _files()
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not found, "citations of a document outside the repository:\n" + "\n".join(found)


def test_every_cited_section_exists() -> None:
    sections = _sections()
    assert sections, f"{COMPAT} has no numbered sections"
    cited: dict[int, list[str]] = {}
    for path in _files():
        text = " ".join(path.read_text(errors="replace").split())  # citations may wrap lines
        for group in CITATION.findall(text):
            for number in re.findall(r"§(\d+)", group):
                cited.setdefault(int(number), []).append(str(path.relative_to(REPO)))
    assert len(cited) >= 8, f"too few citations found, is the pattern right? {cited}"
    missing = {n: files for n, files in cited.items() if n not in sections}
    assert not missing, f"sections cited but absent from {COMPAT.name}: {missing}"
