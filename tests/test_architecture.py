"""Architecture limits of the packages, read from the source with ``ast`` (issue 14).

Four checks over ``simulator/`` and ``neuroenv/``:

* no import cycle: the import graph (module-level and function-local imports, relative
  imports resolved, ``from pkg import name`` counted as an import of ``pkg.name`` when that
  is a module, otherwise of ``pkg``) has no strongly connected component of more than one
  module;
* no module over ``MAX_MODULE_LINES`` lines;
* no function over ``MAX_FUNCTION_LINES`` lines (``def`` line to last line, decorators and
  docstring included; a nested function counts on its own and inside its parent), checked
  in ``examples/`` and ``tests/`` too (everything outside ``bench/``);
* no block of ``MIN_DUPLICATE_LINES`` or more identical lines (stripped, blank lines and
  comment-only lines skipped) repeated within the packages.

Each check is a ratchet: the allowlists below name today's violations exactly (cycle
members, line counts, duplicated-block lengths). The test fails when a violation is new,
when an allowed one grows, and when an allowed one shrank or disappeared without the list
being updated, so the lists stay exact. THE ALLOWLISTS MAY ONLY SHRINK: fix the code, then
lower or delete the entry; never add one. Imports done by strings at run time
(``importlib.import_module`` in ``neuroenv.registry``) are not part of the static graph.
"""

from __future__ import annotations

import ast
import itertools
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("simulator", "neuroenv")
#: Folders whose functions are held to ``MAX_FUNCTION_LINES`` (everything outside ``bench/``).
FUNCTION_ROOTS = ("simulator", "neuroenv", "examples", "tests")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
MIN_DUPLICATE_LINES = 6

# ----------------------------------------------------------------------------------------
# Allowlists of today's violations. They may only shrink: never add an entry.
# ----------------------------------------------------------------------------------------

#: Import cycles (strongly connected components), each as the set of its modules.
#: May only shrink (issue 14: no import cycle anywhere).
ALLOWED_CYCLES: list[frozenset[str]] = [
]

#: Modules over MAX_MODULE_LINES: path -> current line count. May only shrink.
ALLOWED_LONG_MODULES: dict[str, int] = {
}

#: Functions over MAX_FUNCTION_LINES: "path::qualified.name" -> current line count.
#: May only shrink.
ALLOWED_LONG_FUNCTIONS: dict[str, int] = {
}

#: Repeated blocks: "first line @ paths of the copies" -> lines in the block. May only shrink.
ALLOWED_DUPLICATES: dict[str, int] = {
}


# ----------------------------------------------------------------------------------------
# The import graph
# ----------------------------------------------------------------------------------------


def _python_files(root: Path, folders=PACKAGES) -> list[Path]:
    return sorted(p for folder in folders for p in (root / folder).rglob("*.py"))


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _package_of(root: Path, path: Path) -> str:
    """The package a module's relative imports start from."""
    name = _module_name(root, path)
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def _resolve_from(node: ast.ImportFrom, package: str) -> str:
    if node.level == 0:
        return node.module or ""
    base = package.split(".")
    if node.level - 1 > len(base):
        raise ValueError(f"relative import beyond the top package: level {node.level} "
                         f"in package {package!r}")
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _internal(name: str, modules: set[str]) -> str | None:
    """The longest prefix of ``name`` that is one of ``modules`` (None when external)."""
    parts = name.split(".")
    for k in range(len(parts), 0, -1):
        candidate = ".".join(parts[:k])
        if candidate in modules:
            return candidate
    return None


def import_graph(root: Path, folders=PACKAGES) -> dict[str, set[str]]:
    """Module -> the internal modules it imports anywhere in its source (any nesting)."""
    files = _python_files(root, folders)
    modules = {_module_name(root, p) for p in files}
    graph: dict[str, set[str]] = {}
    for path in files:
        name = _module_name(root, path)
        targets: set[str] = set()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    targets.add(_internal(alias.name, modules))
            elif isinstance(node, ast.ImportFrom):
                source = _resolve_from(node, _package_of(root, path))
                for alias in node.names:
                    submodule = f"{source}.{alias.name}" if source else alias.name
                    if submodule in modules:
                        targets.add(submodule)
                    else:
                        targets.add(_internal(source, modules))
        graph[name] = {t for t in targets if t is not None and t != name}
    return graph


def strongly_connected_components(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Tarjan's algorithm, iterative (every component, singletons included)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[frozenset[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                members = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.add(member)
                    if member == node:
                        break
                components.append(frozenset(members))
    return components


def import_cycles(root: Path, folders=PACKAGES) -> list[frozenset[str]]:
    return [c for c in strongly_connected_components(import_graph(root, folders)) if len(c) > 1]


# ----------------------------------------------------------------------------------------
# Sizes
# ----------------------------------------------------------------------------------------


def long_modules(root: Path, folders=PACKAGES, limit=MAX_MODULE_LINES) -> dict[str, int]:
    out = {}
    for path in _python_files(root, folders):
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > limit:
            out[path.relative_to(root).as_posix()] = n
    return out


def _function_lengths(node: ast.AST, prefix: str = ""):
    """(qualified name, lines from the first decorator to the last line) of every function."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            qualname = f"{prefix}{child.name}"
            if not isinstance(child, ast.ClassDef):
                first = min([child.lineno] + [d.lineno for d in child.decorator_list])
                yield qualname, child.end_lineno - first + 1
            yield from _function_lengths(child, qualname + ".")
        else:
            yield from _function_lengths(child, prefix)


def long_functions(root: Path, folders=FUNCTION_ROOTS, limit=MAX_FUNCTION_LINES) -> dict[str, int]:
    out = {}
    for path in _python_files(root, [f for f in folders if (root / f).is_dir()]):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        rel = path.relative_to(root).as_posix()
        out.update({f"{rel}::{name}": n for name, n in _function_lengths(tree) if n > limit})
    return out


# ----------------------------------------------------------------------------------------
# Repeated blocks
# ----------------------------------------------------------------------------------------


def _code_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, stripped text) of every line that is neither blank nor a comment."""
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text = line.strip()
        if text and not text.startswith("#"):
            out.append((number, text))
    return out


def duplicate_blocks(root: Path, folders=PACKAGES, length=MIN_DUPLICATE_LINES) -> dict[str, int]:
    """Blocks of ``length`` or more code lines found at two or more places.

    Returns "first line of the block @ sorted paths of its copies" -> number of lines of
    the block. Windows of ``length`` consecutive code lines are compared; a repeated window
    whose copies all continue with another common window extends the block.
    """
    lines = {path.relative_to(root).as_posix(): _code_lines(path)
             for path in _python_files(root, folders)}
    window_at: dict[tuple[str, int], str] = {}
    where: dict[str, list[tuple[str, int]]] = {}
    for rel, code in lines.items():
        for i in range(len(code) - length + 1):
            window = "\n".join(text for _, text in code[i: i + length])
            window_at[rel, i] = window
            where.setdefault(window, []).append((rel, i))

    def common(places, shift):
        """The copies continue with one same window ``shift`` positions on."""
        found = {window_at.get((rel, i + shift)) for rel, i in places}
        return len(found) == 1 and None not in found

    def inside(places):
        """The same copies, one position earlier, are already a repeated window."""
        before = {(rel, i - 1) for rel, i in places}
        return common(places, -1) and set(where[window_at[next(iter(before))]]) == before

    out: dict[str, int] = {}
    for places in where.values():
        if len(places) < 2 or _overlapping(places, length) or inside(places):
            continue  # unique, a run of one repeated line, or inside a block started earlier
        run = length
        while common(places, run - length + 1):
            run += 1
        rel0, i0 = places[0]
        paths = ", ".join(sorted(rel for rel, _ in places))
        out[f"{lines[rel0][i0][1]} @ {paths}"] = run
    return out


def _overlapping(places, length) -> bool:
    """True when all copies are in one file and each overlaps the next (a run of one
    repeated line or pattern, not a copied block)."""
    if len({rel for rel, _ in places}) > 1:
        return False
    positions = sorted(i for _, i in places)
    return all(b - a < length for a, b in itertools.pairwise(positions))


# ----------------------------------------------------------------------------------------
# The ratchet
# ----------------------------------------------------------------------------------------


def _ratchet(kind: str, current: dict, allowed: dict) -> list[str]:
    problems = []
    for key, value in sorted(current.items(), key=lambda kv: str(kv[0])):
        if key not in allowed:
            problems.append(f"new {kind}: {key} ({value})")
        elif value != allowed[key]:
            problems.append(f"{kind} {key} changed from {allowed[key]} to {value}: "
                            "make it smaller and write the new value in the allowlist "
                            "(it may only shrink)")
    for key in sorted(set(allowed) - set(current), key=str):
        problems.append(f"{kind} {key} is gone: delete it from the allowlist")
    return problems


def _format_cycle(cycle: frozenset[str]) -> str:
    return "{" + ", ".join(sorted(cycle)) + "}"


def test_no_new_import_cycle():
    current = {_format_cycle(c): len(c) for c in import_cycles(REPO)}
    allowed = {_format_cycle(c): len(c) for c in ALLOWED_CYCLES}
    problems = _ratchet("import cycle", current, allowed)
    assert not problems, "\n".join(problems)


def test_no_new_module_over_the_line_limit():
    problems = _ratchet(f"module over {MAX_MODULE_LINES} lines", long_modules(REPO),
                        ALLOWED_LONG_MODULES)
    assert not problems, "\n".join(problems)


def test_no_new_function_over_the_line_limit():
    problems = _ratchet(f"function over {MAX_FUNCTION_LINES} lines", long_functions(REPO),
                        ALLOWED_LONG_FUNCTIONS)
    assert not problems, "\n".join(problems)


def test_no_new_repeated_block():
    problems = _ratchet(f"block of {MIN_DUPLICATE_LINES}+ repeated lines",
                        duplicate_blocks(REPO), ALLOWED_DUPLICATES)
    assert not problems, "\n".join(problems)


# ----------------------------------------------------------------------------------------
# The checks find what they claim to find (a toy package in a temporary folder)
# ----------------------------------------------------------------------------------------


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def test_graph_resolves_relative_local_and_submodule_imports(tmp_path):
    _write(tmp_path, {
        "pkg/__init__.py": "from .a import f\n",
        "pkg/a.py": "def f():\n    from . import b  # function-local, submodule by name\n",
        "pkg/b.py": "from .sub.c import g\nimport numpy\n",
        "pkg/sub/__init__.py": "",
        "pkg/sub/c.py": "from .. import a\nfrom pkg import f\n",
    })
    graph = import_graph(tmp_path, ("pkg",))
    assert graph == {"pkg": {"pkg.a"}, "pkg.a": {"pkg.b"}, "pkg.b": {"pkg.sub.c"},
                     "pkg.sub": set(), "pkg.sub.c": {"pkg.a", "pkg"}}
    assert import_cycles(tmp_path, ("pkg",)) == [frozenset({"pkg", "pkg.a", "pkg.b",
                                                            "pkg.sub.c"})]


def test_graph_without_a_cycle_has_no_component_over_one(tmp_path):
    _write(tmp_path, {"pkg/__init__.py": "from . import a\n", "pkg/a.py": "import pkg.b\n",
                      "pkg/b.py": "import os\n"})
    assert import_cycles(tmp_path, ("pkg",)) == []


def test_sizes_and_repeats_are_found(tmp_path):
    body = [f"x{i} = {i}" for i in range(8)]
    a = ["@decorator", "def long():", *("    " + line for line in body), "", "",
         "def short():", "    pass"]
    b = ["class C:", "    def method(self):", *("        " + line for line in body)]
    _write(tmp_path, {"pkg/__init__.py": "", "pkg/a.py": "\n".join(a) + "\n",
                      "pkg/b.py": "\n".join(b) + "\n"})
    assert long_modules(tmp_path, ("pkg",), limit=9) == {"pkg/a.py": 14, "pkg/b.py": 10}
    assert long_modules(tmp_path, ("pkg",), limit=10) == {"pkg/a.py": 14}
    assert long_functions(tmp_path, ("pkg",), limit=9) == {"pkg/a.py::long": 10}
    assert long_functions(tmp_path, ("pkg",), limit=8) == {"pkg/a.py::long": 10,
                                                           "pkg/b.py::C.method": 9}
    assert duplicate_blocks(tmp_path, ("pkg",)) == {"x0 = 0 @ pkg/a.py, pkg/b.py": 8}
    assert duplicate_blocks(tmp_path, ("pkg",), length=9) == {}
    # A third copy of the first six lines: its block, and the longer pair, both reported.
    _write(tmp_path, {"pkg/c.py": "\n".join(body[:6]) + "\ny = 1\n"})
    assert duplicate_blocks(tmp_path, ("pkg",)) == {
        "x0 = 0 @ pkg/a.py, pkg/b.py, pkg/c.py": 6, "x1 = 1 @ pkg/a.py, pkg/b.py": 7}


def test_the_ratchet_fails_on_growth_new_entries_and_stale_entries():
    assert _ratchet("m", {"a": 5}, {"a": 5}) == []
    assert "new m" in _ratchet("m", {"a": 5, "b": 1}, {"a": 5})[0]
    assert "changed from 5 to 6" in _ratchet("m", {"a": 6}, {"a": 5})[0]
    assert "changed from 5 to 4" in _ratchet("m", {"a": 4}, {"a": 5})[0]
    assert "gone" in _ratchet("m", {}, {"a": 5})[0]


def test_relative_import_beyond_the_top_package_is_an_error(tmp_path):
    _write(tmp_path, {"pkg/__init__.py": "", "pkg/a.py": "from ... import x\n"})
    with pytest.raises(ValueError, match="level 3"):
        import_graph(tmp_path, ("pkg",))


def _allowlists_source() -> str:
    """Today's violations written as the allowlists above (to paste when they shrink)."""
    out = ["ALLOWED_CYCLES: list[frozenset[str]] = ["]
    for cycle in sorted(import_cycles(REPO), key=lambda c: (len(c), sorted(c))):
        out += ["    frozenset({", *(f"        {m!r}," for m in sorted(cycle)), "    }),"]
    out.append("]")
    for name, found in (("ALLOWED_LONG_MODULES", long_modules(REPO)),
                        ("ALLOWED_LONG_FUNCTIONS", long_functions(REPO)),
                        ("ALLOWED_DUPLICATES", duplicate_blocks(REPO))):
        out.append(f"{name}: dict[str, int] = {{")
        for key, value in sorted(found.items()):
            pieces = textwrap.wrap(key, 80, drop_whitespace=False)
            out += [f"    {p!r}" for p in pieces[:-1]] + [f"    {pieces[-1]!r}: {value},"]
        out.append("}")
    return "\n".join(out)


if __name__ == "__main__":
    print(_allowlists_source())
