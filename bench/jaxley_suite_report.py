"""Tables of ``bench/jaxley_suite.py``: jaxley's tests (from pytest's JUnit XML) and tutorials."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from pathlib import Path

OUTCOMES = ("passed", "failed", "skipped", "error")
_RANK = {"passed": 0, "skipped": 1, "error": 2, "failed": 3, "collection error": 4}


def _one_line(element: ET.Element) -> str:
    """A ``<failure>``/``<error>``: its message's first line, else the last ``E`` line."""
    message = (element.get("message") or "").strip()
    text_e = [ln[1:].strip() for ln in (element.text or "").splitlines() if ln.startswith("E ")]
    if message and message != "collection failure":
        line = message.splitlines()[0]
    else:
        line = next((ln for ln in reversed(text_e) if "Error" in ln), text_e[-1] if text_e else "")
    return line[:240]


def _row(case: ET.Element) -> dict:
    """One testcase: its file, pytest node id, outcome and one-line error."""
    name, classname, file = case.get("name", ""), case.get("classname", ""), case.get("file")
    children = {child.tag: child for child in case}
    if not classname:  # pytest names the module, e.g. "tests.test_graph": it was not collected
        file = file or name.replace(".", "/") + ".py"
        if "skipped" in children:  # the module skips itself (pytest.skip(allow_module_level=True))
            return {"file": file, "nodeid": file, "outcome": "skipped", "error": ""}
        return {"file": file, "nodeid": file, "outcome": "collection error",
                "error": _one_line(children["error"]) if "error" in children else ""}  # fmt: skip
    module = file[: -len(".py")].replace("/", ".")
    cls = classname[len(module) + 1 :] if classname.startswith(module + ".") else ""
    nodeid = "::".join([file, *([cls] if cls else []), name])
    outcome, error = "passed", ""
    for tag, label in (("failure", "failed"), ("error", "error"), ("skipped", "skipped")):
        if tag in children:
            outcome = label
            error = _one_line(children[tag]) if tag != "skipped" else ""
            break
    return {"file": file, "nodeid": nodeid, "outcome": outcome, "error": error}


def parse_junit(path: Path) -> list[dict]:
    """Rows (file, nodeid, outcome, error) of a pytest JUnit XML report (``junit_family=xunit1``).

    A test reported twice (a failing call and a teardown error) keeps its worse outcome.
    """
    rows: dict[str, dict] = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        row = _row(case)
        old = rows.get(row["nodeid"])
        if old is None or _RANK[row["outcome"]] > _RANK[old["outcome"]]:
            rows[row["nodeid"]] = row
    return list(rows.values())


def print_tests(rows: list[dict], wall: float, target: str) -> None:
    """Per-file table, the total and pass rate, and every failing test with its error."""
    per_file: dict[str, Counter] = defaultdict(Counter)
    for row in rows:
        per_file[row["file"]][row["outcome"]] += 1
    head = f"{'file':<46} {'collected':>9} {'passed':>7} {'failed':>7} {'skipped':>8} {'errors':>7}"
    print(f"\njaxley 0.14.0 test suite against {target} ({wall:.0f} s)\n{head}\n{'-' * len(head)}")
    total = Counter()
    for file in sorted(per_file):
        c = per_file[file]
        total.update(c)
        collected = sum(c[o] for o in OUTCOMES)
        errors = c["error"] + c["collection error"]
        print(f"{file:<46} {collected:>9} {c['passed']:>7} {c['failed']:>7} {c['skipped']:>8} "
              f"{errors:>7}")  # fmt: skip
    collected = sum(total[o] for o in OUTCOMES)
    errors = total["error"] + total["collection error"]
    print(f"{'-' * len(head)}\n{'total':<46} {collected:>9} {total['passed']:>7} "
          f"{total['failed']:>7} {total['skipped']:>8} {errors:>7}")  # fmt: skip
    ran = collected - total["skipped"]
    print(f"passed {total['passed']} of {collected} collected "
          f"({100 * total['passed'] / max(collected, 1):.1f} %), of {ran} run (not skipped) "
          f"{100 * total['passed'] / max(ran, 1):.1f} %; files failing to collect: "
          f"{total['collection error']}")  # fmt: skip
    bad = sorted((r for r in rows if r["outcome"] not in ("passed", "skipped")),
                 key=lambda r: r["nodeid"])  # fmt: skip
    if bad:
        print(f"\nfailing ({len(bad)}):")
    for row in bad:
        tag = "" if row["outcome"] == "failed" else f"[{row['outcome']}] "
        print(f"  {row['nodeid']}: {tag}{row['error']}")


def print_tutorials(results: list[dict], target: str) -> None:
    """Tutorial table: ran to the end, or the line it failed at and the error."""
    print(f"\njaxley 0.14 tutorials against {target}")
    print(f"{'tutorial':<32} {'result':<14} {'s':>6}  detail\n{'-' * 80}")
    for r in results:
        if r["ok"]:
            status, detail = "ran to end", ""
        else:
            status = f"failed @ {r['line']}" if r.get("line") else "failed"
            detail = r["error"] + (f"   [{r['code'][:80]}]" if r.get("code") else "")
        print(f"{r['name']:<32} {status:<14} {r['seconds']:>6.0f}  {detail}")
    ok = sum(r["ok"] for r in results)
    print(f"{ok} of {len(results)} tutorials ran to the end")
