"""bench/jaxley_suite_report.py: a test module that skips itself at collection
(``pytest.skip(allow_module_level=True)``, e.g. jaxley's tests/test_fixtures.py) is counted
as skipped, not as a collection error."""

from __future__ import annotations

from bench import jaxley_suite_report

_XML = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">
<testcase classname="" name="tests.test_fixtures" file="tests/test_fixtures.py" time="0.000">
<skipped message="collection skipped">('tests/test_fixtures.py', 11, 'Skipped')</skipped>
</testcase>
<testcase classname="" name="tests.test_broken" file="tests/test_broken.py" time="0.000">
<error message="collection failure">ImportError: No module named x</error></testcase>
</testsuite></testsuites>"""


def test_module_level_skip_is_skipped_and_import_error_is_collection_error(tmp_path):
    path = tmp_path / "junit.xml"
    path.write_text(_XML)
    rows = {row["file"]: row["outcome"] for row in jaxley_suite_report.parse_junit(path)}
    assert rows == {"tests/test_fixtures.py": "skipped",
                    "tests/test_broken.py": "collection error"}
