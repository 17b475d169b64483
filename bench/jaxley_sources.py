"""Fetch what ``bench/jaxley_suite.py`` runs: jaxley 0.14.0's sdist and its docs' tutorials.

* The sdist (``pip download jaxley==0.14.0 --no-deps --no-binary :all:``) ships jaxley's
  source and its ``tests/``, but not the SWC files (``tests/swc_files/*.swc``) nor the NEURON
  mechanism (``tests/nrn_mechanisms``) its tests read, and no tutorials.
* Those come from jaxley's git repository at the release: the tag ``v0.14.0`` when the
  remote has it, else :data:`FALLBACK_COMMIT`, the head of ``main`` whose ``jaxley/`` and
  ``tests/`` trees equal the 0.14.0 sdist except ``jaxley/__version__.py`` (checked on every
  run by :func:`compare_trees` and printed). The 13 notebooks of ``docs/tutorials`` are
  converted to scripts by :func:`notebook_to_script`.

Everything is cached in the work directory: a second run downloads nothing.
"""

from __future__ import annotations

import filecmp
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

VERSION = "0.14.0"
REPO_URL = "https://github.com/jaxleyverse/jaxley"
TAG = "v" + VERSION
# jaxleyverse/jaxley main, 2026-05-20, "fixed save_exp clipping for compatibility with newest
# JAX versions (#802)": jaxley/ and tests/ identical to the 0.14.0 sdist but __version__.py.
FALLBACK_COMMIT = "2638cca2665ec056c40c932dcee924192fc94da2"
TUTORIALS = (
    "00_jaxley_api", "01_morph_neurons", "02_small_network", "04_jit_and_vmap",
    "05_channel_and_synapse_models", "06_groups", "07_gradient_descent",
    "08_importing_morphologies", "09_advanced_indexing", "10_advanced_parameter_sharing",
    "11_ion_dynamics", "12_simplified_models", "13_graph_backend",
)  # fmt: skip


def _run(cmd: list[str], cwd: Path | None = None) -> str:
    """Run a command, return its stdout; raise ``RuntimeError`` with its stderr on failure."""
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return proc.stdout


def fetch_sdist(workdir: Path) -> Path:
    """Download and unpack jaxley's sdist; return its root (``workdir/jaxley-0.14.0``)."""
    root = workdir / f"jaxley-{VERSION}"
    if (root / "tests" / "conftest.py").exists():
        return root
    dl = workdir / "download"
    print(f"downloading jaxley=={VERSION} sdist ...", flush=True)
    _run([sys.executable, "-m", "pip", "download", f"jaxley=={VERSION}", "--no-deps",
          "--no-binary", ":all:", "-d", str(dl)])  # fmt: skip
    (archive,) = dl.glob(f"[Jj]axley-{VERSION}.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(workdir, filter="data")
    return root


def resolve_ref(url: str) -> str:
    """The tag ``v0.14.0`` if ``url`` has it, else :data:`FALLBACK_COMMIT` (printed)."""
    try:
        tags = _run(["git", "ls-remote", "--tags", url, TAG])
    except RuntimeError as err:
        print(f"git ls-remote {url} failed ({str(err).splitlines()[-1]}); "
              f"using commit {FALLBACK_COMMIT}", flush=True)  # fmt: skip
        return FALLBACK_COMMIT
    if tags.strip():
        return TAG
    print(f"{url} has no tag {TAG}; using commit {FALLBACK_COMMIT}", flush=True)
    return FALLBACK_COMMIT


def fetch_repo(workdir: Path, url: str, ref: str) -> Path:
    """Shallow-fetch ``ref`` of jaxley's repository (URL or local clone) into ``workdir/repo``."""
    repo = workdir / "repo"
    stamp = repo / ".neuroenv_ref"
    if stamp.exists() and stamp.read_text() == ref:
        return repo
    shutil.rmtree(repo, ignore_errors=True)
    repo.mkdir(parents=True)
    print(f"fetching {url} at {ref} ...", flush=True)
    _run(["git", "init", "-q"], cwd=repo)
    _run(["git", "fetch", "-q", "--depth", "1", url, ref], cwd=repo)
    _run(["git", "-c", "advice.detachedHead=false", "checkout", "-q", "FETCH_HEAD"], cwd=repo)
    commit = _run(["git", "rev-parse", "HEAD"], cwd=repo).strip()
    print(f"jaxley repository at {ref} = commit {commit}", flush=True)
    stamp.write_text(ref)
    return repo


def compare_trees(a: Path, b: Path) -> list[str]:
    """Relative paths of ``*.py`` files that differ or exist in only one of two trees."""
    files_a = {p.relative_to(a) for p in a.rglob("*.py")}
    files_b = {p.relative_to(b) for p in b.rglob("*.py")}
    differ = [p for p in files_a & files_b if not filecmp.cmp(a / p, b / p, shallow=False)]
    return sorted(str(p) for p in (files_a ^ files_b) | set(differ))


def complete_test_data(sdist: Path, repo: Path) -> list[str]:
    """Copy the test data files the sdist lacks (SWC files, NEURON mechanisms) from the repo."""
    added = []
    for src in sorted((repo / "tests").rglob("*")):
        rel = src.relative_to(repo)
        dst = sdist / rel
        if src.is_file() and src.suffix != ".py" and not dst.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
            added.append(str(rel))
    return added


def notebook_to_script(notebook: Path, script: Path) -> None:
    """Write a notebook's code cells as a script; IPython magics and shell lines become ``pass``.

    Markdown cells are dropped. A line whose first non-blank character is ``%`` (line or cell
    magic) or ``!`` (shell) is replaced by ``pass  # <line>`` at the same indentation, so the
    cell's remaining code (e.g. the body of ``%%time``) still runs. matplotlib is switched to
    the non-interactive Agg backend first.
    """
    cells = json.loads(notebook.read_text())["cells"]
    out = ["import matplotlib", "matplotlib.use('Agg')"]
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        source = cell["source"]
        for line in ("".join(source) if isinstance(source, list) else source).splitlines():
            body = line.lstrip()
            if body.startswith(("%", "!")):
                line = line[: len(line) - len(body)] + "pass  # " + body
            out.append(line)
        out.append("")
    script.write_text("\n".join(out) + "\n")


def prepare_tutorials(workdir: Path, repo: Path) -> Path:
    """Convert the 13 tutorials to ``workdir/tutorials/NN_name.py`` next to their ``data/``."""
    dest = workdir / "tutorials"
    src = repo / "docs" / "tutorials"
    dest.mkdir(exist_ok=True)
    shutil.copytree(src / "data", dest / "data", dirs_exist_ok=True)
    for name in TUTORIALS:
        notebook_to_script(src / f"{name}.ipynb", dest / f"{name}.py")
    return dest
