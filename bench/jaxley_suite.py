"""How much of jaxley 0.14.0 runs unchanged against ``simulator``: its test suite and tutorials.

    python bench/jaxley_suite.py [--tests] [--tutorials] [--workdir DIR] [--install]
        [--pytest-args "-k transforms"] [--only 07_gradient_descent,13_graph_backend]

Downloads jaxley 0.14.0's sdist and the 13 tutorial notebooks of its docs (see
``bench/jaxley_sources.py`` for what comes from where and which git ref), installs the import
alias of ``bench/jaxley_alias.py`` (``jaxley[.X]`` -> ``simulator[.X]``, no code added) in
fresh subprocesses, runs jaxley's tests (``pytest -p no:randomly -o addopts=`` with a JUnit
XML report) and each tutorial (converted to a script, own subprocess, timeout), and prints a
per-file table, the total and pass rate, every failing test id with its one-line error, and
the tutorial table. Neither flag given: both. ``--target jaxley`` runs the same with the real
jaxley (no alias) as a reference.

Needs (jaxley's conftest imports ``jaxley_mech``, which needs equinox; its tests use NEURON
and optax; the tutorials networkx and matplotlib): ``pip install -e ".[test]" jaxley-mech``.
Missing packages are listed and the script stops; with ``--install`` it pip-installs them
into the current environment (and says so). Nothing is asserted: the exit status is 0 unless
the script itself fails.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Whether the subprocesses can import simulator as installed (before this file edits sys.path).
_SIMULATOR_INSTALLED = importlib.util.find_spec("simulator") is not None
if __package__ in (None, ""):
    sys.path.insert(0, str(HERE.parent))
from bench import jaxley_sources as sources  # noqa: E402
from bench import jaxley_suite_report as report  # noqa: E402

# module name -> pip requirement
REQUIREMENTS = {
    "pytest": "pytest>=8",
    "jaxley_mech": "jaxley-mech",
    "equinox": "equinox",
    "neuron": "neuron>=9.0",
    "optax": "optax>=0.2",
    "networkx": "networkx>=3.3",
    "matplotlib": "matplotlib>=3.8",
}

_LOAD_ALIAS = (
    "import importlib.util as u, sys\n"
    "s = u.spec_from_file_location('jaxley_alias', {path!r})\n"
    "m = u.module_from_spec(s); sys.modules['jaxley_alias'] = m; s.loader.exec_module(m)\n"
    "m.install()\n"
)
_RUN_PYTEST = "import sys, pytest\nsys.exit(pytest.main(sys.argv[1:]))\n"
# argv: script, result JSON. Records where the script stopped (its own line) and the error.
_RUN_SCRIPT = """
import json, runpy, sys, traceback
script, result = sys.argv[1], sys.argv[2]
sys.argv = [script]
try:
    runpy.run_path(script, run_name="__main__")
    out = {"ok": True}
except BaseException as e:
    lines = [f.lineno for f in traceback.extract_tb(e.__traceback__) if f.filename == script]
    msg = (str(e).strip().splitlines() or [""])[0]
    out = {"ok": False, "line": lines[-1] if lines else None,
           "error": f"{type(e).__name__}: {msg}"[:300]}
    traceback.print_exc()
with open(result, "w") as f:
    json.dump(out, f)
sys.exit(0 if out["ok"] else 1)
"""


def bootstrap(code: str, target: str) -> str:
    """``python -c`` source: install the alias (unless ``target == "jaxley"``), then ``code``."""
    alias = "" if target == "jaxley" else _LOAD_ALIAS.format(path=str(HERE / "jaxley_alias.py"))
    return alias + code


def check_requirements(install: bool) -> None:
    """Stop with the pip command for missing packages, or run it with ``install=True``."""
    missing = [req for mod, req in REQUIREMENTS.items() if importlib.util.find_spec(mod) is None]
    if not missing:
        return
    cmd = [sys.executable, "-m", "pip", "install", *missing]
    if not install:
        sys.exit(f"missing packages: {', '.join(missing)}\ninstall them with:\n  "
                 f"{shlex.join(cmd)}\nor rerun with --install")  # fmt: skip
    print(f"--install: {shlex.join(cmd)}", flush=True)
    subprocess.run(cmd, check=True)


def child_env() -> dict[str, str]:
    """The subprocesses' environment: headless matplotlib, ``simulator`` importable."""
    env = dict(os.environ, MPLBACKEND="Agg")
    if not _SIMULATOR_INSTALLED:
        # Appended, not prepended: the repo's own tests/ package must not shadow jaxley's.
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (env.get("PYTHONPATH"), str(HERE.parent)) if p
        )
    return env


def pytest_command(sdist: Path, xml: Path, extra: list[str], target: str) -> list[str]:
    """The pytest subprocess: jaxley's defaults off, JUnit XML (xunit1: with file names)."""
    paths = [a for a in extra if not a.startswith("-") and (sdist / a.split("::")[0]).exists()]
    return [
        sys.executable, "-c", bootstrap(_RUN_PYTEST, target),
        "-p", "no:randomly", "-p", "no:cacheprovider", "-o", "addopts=",
        "-o", "junit_family=xunit1", f"--junitxml={xml}", "-q", "-rN",
        "--continue-on-collection-errors",
        "--rootdir", str(sdist), *([] if paths else ["tests"]), *extra,
    ]  # fmt: skip


def run_tests(sdist: Path, workdir: Path, extra: list[str], target: str, timeout: float | None):
    """Run jaxley's test suite once; return the parsed JUnit rows and the wall time (s)."""
    xml = workdir / f"junit_{target}.xml"
    xml.unlink(missing_ok=True)
    cmd = pytest_command(sdist, xml, extra, target)
    log = workdir / f"pytest_{target}.log"
    print(f"running jaxley's tests (target {target}; log {log}) ...", flush=True)
    t0 = time.perf_counter()
    with open(log, "w") as f:
        try:
            subprocess.run(cmd, cwd=sdist, env=child_env(), stdout=f, stderr=subprocess.STDOUT,
                           timeout=timeout)  # fmt: skip
        except subprocess.TimeoutExpired:
            print(f"pytest timed out after {timeout} s", flush=True)
    wall = time.perf_counter() - t0
    if not xml.exists():
        sys.exit(f"pytest wrote no JUnit report; see {log}")
    return report.parse_junit(xml), wall


def run_tutorial(script: Path, target: str, timeout: float) -> dict:
    """Run one tutorial script in its own subprocess (cwd: the tutorials folder)."""
    result = script.with_suffix(f".{target}.result.json")
    result.unlink(missing_ok=True)
    log = script.with_suffix(f".{target}.log")
    t0 = time.perf_counter()
    with open(log, "w") as f:
        try:
            subprocess.run(
                [sys.executable, "-c", bootstrap(_RUN_SCRIPT, target), str(script), str(result)],
                cwd=script.parent, env=child_env(), stdout=f, stderr=subprocess.STDOUT,
                timeout=timeout,
            )  # fmt: skip
            died = {"ok": False, "line": None, "error": f"died without a result (see {log})"}
            out = json.loads(result.read_text()) if result.exists() else died
        except subprocess.TimeoutExpired:
            out = {"ok": False, "line": None, "error": f"timed out after {timeout:.0f} s"}
    out.update(name=script.stem, seconds=time.perf_counter() - t0, log=str(log))
    if not out["ok"] and out.get("line"):
        out["code"] = script.read_text().splitlines()[out["line"] - 1].strip()
    return out


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tests", action="store_true", help="run jaxley's test suite")
    p.add_argument("--tutorials", action="store_true", help="run the tutorials")
    p.add_argument("--workdir", type=Path,
                   default=Path(tempfile.gettempdir()) / "neuroenv-jaxley-suite",
                   help="downloads, converted tutorials, logs (reused; default %(default)s)")
    p.add_argument("--pytest-args", default="",
                   help='extra pytest arguments, one string, e.g. "-k transforms" or '
                        '"tests/test_optimize.py -x" (a path replaces the default tests/)')
    p.add_argument("--only", default="",
                   help="comma-separated tutorial names or prefixes (e.g. 07,13_graph_backend)")
    p.add_argument("--tutorial-timeout", type=float, default=1200.0, help="s per tutorial")
    p.add_argument("--tests-timeout", type=float, default=None, help="s for the whole suite")
    p.add_argument("--target", choices=("simulator", "jaxley"), default="simulator",
                   help="simulator (through the alias) or the real jaxley as a reference")
    p.add_argument("--jaxley-git", default=sources.REPO_URL,
                   help="jaxley's git repository: URL or local clone (default %(default)s)")
    p.add_argument("--jaxley-ref", default=None,
                   help=f"git ref for tutorials and test data (default: tag {sources.TAG} if "
                        f"the remote has it, else commit {sources.FALLBACK_COMMIT[:12]})")
    p.add_argument("--install", action="store_true",
                   help="pip-install missing packages into the current environment")
    args = p.parse_args(argv)
    if not (args.tests or args.tutorials):
        args.tests = args.tutorials = True
    return args


def select_tutorials(only: str) -> list[str]:
    """The tutorial names matching ``--only`` (all 13 when empty)."""
    if not only:
        return list(sources.TUTORIALS)
    wanted = [w.strip() for w in only.split(",") if w.strip()]
    names = [n for n in sources.TUTORIALS if any(n.startswith(w) for w in wanted)]
    if not names:
        raise ValueError(f"--only={only!r} matches none of the tutorials {sources.TUTORIALS}")
    return names


def prepare(args) -> tuple[Path, Path]:
    """Fetch the sdist and the repo, check them against each other, complete the test data."""
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    sdist = sources.fetch_sdist(workdir)
    ref = args.jaxley_ref or sources.resolve_ref(args.jaxley_git)
    repo = sources.fetch_repo(workdir, args.jaxley_git, ref)
    for sub in ("jaxley", "tests"):
        diff = sources.compare_trees(sdist / sub, repo / sub)
        print(f"{sub}/ at {ref} vs the {sources.VERSION} sdist: "
              f"{'identical' if not diff else 'differs in ' + ', '.join(diff)}")  # fmt: skip
    added = sources.complete_test_data(sdist, repo)
    if added:
        print(f"added {len(added)} test data files the sdist lacks (from {ref}): "
              f"{', '.join(sorted({str(Path(a).parent) for a in added}))}")  # fmt: skip
    return sdist, repo


def main(argv=None) -> None:
    args = parse_args(argv)
    names = select_tutorials(args.only)
    check_requirements(args.install)
    sdist, repo = prepare(args)
    if args.tests:
        rows, wall = run_tests(sdist, args.workdir.resolve(), shlex.split(args.pytest_args),
                               args.target, args.tests_timeout)  # fmt: skip
        report.print_tests(rows, wall, args.target)
    if args.tutorials:
        folder = sources.prepare_tutorials(args.workdir.resolve(), repo)
        results = []
        for name in names:
            print(f"running tutorial {name} ...", flush=True)
            results.append(run_tutorial(folder / f"{name}.py", args.target, args.tutorial_timeout))
        report.print_tutorials(results, args.target)


if __name__ == "__main__":
    main()
