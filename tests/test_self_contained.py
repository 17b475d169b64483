"""A fresh clone must run its tests, benchmarks and examples with nothing beside it.

Nothing in the repository may read a path outside it (tests once read their SWC files from a
folder next to the repository on the development machine, which a user's clone does not
have, and a test module then silently collected zero cases; the files now live in
``tests/data/swc``). This scans every tracked source file for paths that leave the
repository.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCES = (".py", ".toml", ".cfg", ".ini", ".sh", ".hoc", ".mod")
#: A ``../`` climb or a ``"shared"`` folder next to the repository, or an absolute path of
#: the development machine.
OUTSIDE = re.compile(r"""\.\./shared|["']shared["']\s*/|/work/|/root/""")
#: ``Path(__file__).parents[k]`` (optionally ``.resolve()``d).
PARENTS = re.compile(r"__file__\)(?:\.resolve\(\))?\.parents\[(\d+)\]")


def _tracked_sources() -> list[Path]:
    try:
        command = ["git", "ls-files", "--cached", "--others", "--exclude-standard"]
        out = subprocess.run(command, cwd=REPO, capture_output=True, text=True,
                             check=True).stdout.split()
        files = [REPO / name for name in out]
    except (OSError, subprocess.CalledProcessError):  # an sdist without git
        files = [p for p in REPO.rglob("*") if ".git" not in p.parts]
    return [p for p in files if p.is_file() and (p.suffix in SOURCES or p.parent.name == ".ci")]


def test_sources_are_found():
    names = {p.relative_to(REPO).as_posix() for p in _tracked_sources()}
    assert {"tests/test_self_contained.py", "bench/_common.py", ".ci/run"} <= names


@pytest.mark.parametrize("path", _tracked_sources(), ids=lambda p: p.relative_to(REPO).as_posix())
def test_no_source_reads_outside_the_repository(path):
    if path == Path(__file__).resolve():
        pytest.skip("this file names the patterns it looks for")
    text = path.read_text(encoding="utf-8", errors="replace")
    assert not OUTSIDE.search(text), f"{path}: {OUTSIDE.search(text).group(0)!r}"
    depth = len(path.relative_to(REPO).parts) - 1  # parents[depth] is the repository
    for match in PARENTS.finditer(text):
        assert int(match.group(1)) <= depth, (
            f"{path}: Path(__file__).parents[{match.group(1)}] leaves the repository")


def test_the_test_morphologies_are_in_the_repository():
    swc = sorted(p.name for p in (REPO / "tests" / "data" / "swc").glob("*.swc"))
    assert swc == ["morph_3_types.swc", "morph_ca1_n120.swc",
                   "morph_ca1_n120_single_point_soma.swc", "morph_l5pc_with_axon.swc",
                   "morph_minimal.swc", "morph_single_branch.swc",
                   "morph_variable_radiuses_within_branch.swc"]
