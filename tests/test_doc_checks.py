"""harness.doc_checks: every source's docs pass, and each check catches its mutation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness import doc_checks
from harness.doc_checks import Problem, check_api_doc, check_readme

ROOT = Path(__file__).resolve().parents[1]
SKIP = {"interface", "http"}

API_DOCS = sorted(p for p in ROOT.glob("sources/*/*_api_doc.md") if p.parent.name not in SKIP)
READMES = sorted(p for p in ROOT.glob("sources/*/README.md") if p.parent.name not in SKIP)
HUBSPOT_DOC = ROOT / "sources/hubspot/hubspot_api_doc.md"
EXAMPLE_DOC = ROOT / "sources/example/example_api_doc.md"
EXAMPLE_README = ROOT / "sources/example/README.md"


def _ids(paths):
    return [p.parent.name for p in paths]


def _line_of(text: str, needle: str) -> int:
    """1-based line of the first line containing ``needle``."""
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in text")


def _section_bounds(lines: list[str], heading_prefix: str) -> tuple[int, int]:
    """0-based [start, end) of the ``##`` section whose heading starts with the prefix."""
    start = next(i for i, line in enumerate(lines) if line.startswith(heading_prefix))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return start, end


def _with_messages(problems: list[Problem], fragment: str) -> list[Problem]:
    return [p for p in problems if fragment in p.message]


# ---------------------------------------------------------------------------------------
# Every source's documents pass
# ---------------------------------------------------------------------------------------


def test_sources_are_discovered():
    assert {"example", "hubspot"} <= {p.parent.name for p in API_DOCS}
    assert {"example", "hubspot"} <= {p.parent.name for p in READMES}


@pytest.mark.parametrize("path", API_DOCS, ids=_ids(API_DOCS))
def test_api_doc_passes(path):
    assert check_api_doc(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", READMES, ids=_ids(READMES))
def test_readme_passes(path):
    assert check_readme(path.read_text(encoding="utf-8")) == []


def test_required_headings_come_from_the_templates():
    doc = doc_checks.template_headings(str(doc_checks.API_DOC_TEMPLATE))
    readme = doc_checks.template_headings(str(doc_checks.README_TEMPLATE))
    assert doc[0] == "1. Authorization" and doc[-1] == "11. Sources" and len(doc) == 11
    assert readme[0] == "Prerequisites" and readme[-1] == "References"
    assert "Set up credentials in {{Source}}" in readme


# ---------------------------------------------------------------------------------------
# API doc mutations
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hubspot_doc() -> str:
    return HUBSPOT_DOC.read_text(encoding="utf-8")


def test_missing_authorization_section(hubspot_doc):
    lines = hubspot_doc.splitlines()
    start, end = _section_bounds(lines, "## 1. Authorization")
    text = "\n".join(lines[:start] + lines[end:])
    problems = check_api_doc(text)
    hits = _with_messages(problems, "missing required section '## Authorization'")
    # Reported at the heading it should precede.
    assert hits == [Problem(_line_of(text, "## 2. Object list"),
                            "missing required section '## Authorization'")]


def test_missing_last_section_reported_at_previous_heading(hubspot_doc):
    lines = hubspot_doc.splitlines()
    start, end = _section_bounds(lines, "## 11. Sources")
    text = "\n".join(lines[:start] + lines[end:])
    hits = _with_messages(check_api_doc(text), "missing required section '## Sources'")
    assert [p.line for p in hits] == [_line_of(text, "## 10. Research log")]


def test_sections_out_of_order(hubspot_doc):
    lines = hubspot_doc.splitlines()
    start, end = _section_bounds(lines, "## 4. Primary keys")
    moved = lines[start:end]
    rest = lines[:start] + lines[end:]
    text = "\n".join(moved + rest)  # Primary keys first
    hits = _with_messages(check_api_doc(text), "out of order")
    # The moved section is the offending place.
    assert [p.line for p in hits] == [_line_of(text, "## 4. Primary keys")] == [1]
    assert "after '## Object schema'" in hits[0].message


def test_second_auth_method(hubspot_doc):
    first = _line_of(hubspot_doc, "| Method chosen |")
    lines = hubspot_doc.splitlines()
    lines.insert(first, "| Method chosen | OAuth 2.0 public app |")
    problems = check_api_doc("\n".join(lines))
    hits = _with_messages(problems, "'Method chosen' rows")
    assert [p.line for p in hits] == [first + 1]
    assert "exactly one authentication method" in hits[0].message


def test_no_method_chosen_row(hubspot_doc):
    text = hubspot_doc.replace("| Method chosen |", "| Method |", 1)
    hits = _with_messages(check_api_doc(text), "no 'Method chosen' row")
    assert [p.line for p in hits] == [_line_of(text, "## 1. Authorization")]


def test_research_log_without_urls(hubspot_doc):
    lines = hubspot_doc.splitlines()
    start, end = _section_bounds(lines, "## 10. Research log")
    for i in range(start, end):
        lines[i] = re.sub(r"https?://\S+", "", lines[i])
    text = "\n".join(lines)
    hits = _with_messages(check_api_doc(text), "row without a full URL")
    rows = [i + 1 for i in range(start, end)
            if lines[i].startswith("| ") and not lines[i].startswith(("| Source type", "|---"))
            and "TBD:" not in lines[i]]  # a row saying why it has no URL passes
    assert [p.line for p in hits] == rows
    assert len(rows) > 10


def test_research_log_without_dates(hubspot_doc):
    text = hubspot_doc.replace("| Official guide | https://developers.hubspot.com/docs/api/crm/search | 2026-11-26 |",
                               "| Official guide | https://developers.hubspot.com/docs/api/crm/search | last week |")
    hits = _with_messages(check_api_doc(text), "row without a date")
    assert [p.line for p in hits] == [_line_of(text, "| last week |")]


def test_sources_without_urls():
    text = EXAMPLE_DOC.read_text(encoding="utf-8")
    text = text.replace("`TBD:` no URL can be cited", "No URL can be cited")
    hits = _with_messages(check_api_doc(text), "Sources: no URL cited")
    assert [p.line for p in hits] == [_line_of(text, "## 11. Sources")]


def test_bare_tbd(hubspot_doc):
    for bare in ("- Something odd (`TBD:`).", "- Something odd; TBD:", "| x | `TBD:` | y |"):
        text = hubspot_doc.replace("## 10. Research log", bare + "\n\n## 10. Research log")
        hits = _with_messages(check_api_doc(text), "'TBD:' without a reason")
        assert [p.line for p in hits] == [_line_of(text, bare)], bare


def test_tbd_reason_on_next_line_is_accepted(hubspot_doc):
    text = hubspot_doc.replace("## 10. Research log",
                               "- Something odd (`TBD:`\n  not in the docs read).\n\n## 10. Research log")
    assert check_api_doc(text) == []


def test_read_api_without_pagination_and_examples(hubspot_doc):
    lines = hubspot_doc.splitlines()
    start, end = _section_bounds(lines, "## 6. Read API")
    sub = [i for i in range(start, end) if lines[i].startswith("### 6.3")][0]
    lines[sub] = "### 6.3 Paging notes"
    ex = [i for i in range(start, end) if lines[i].startswith("### 6.8")][0]
    text = "\n".join(lines[:ex + 1] + ["", "None yet."] + lines[end:])
    problems = check_api_doc(text)
    read_api = _line_of(text, "## 6. Read API")
    assert Problem(read_api, "Read API: no '### Pagination' subsection") in problems
    # 6.3's json sample remains, so a response exists; requests were only in 6.8.
    assert Problem(read_api, "Read API: no example request (a filled ```http block)") in problems


def test_incremental_without_lookback():
    text = EXAMPLE_DOC.read_text(encoding="utf-8").replace("(no indexing delay)", "(immediately)")
    hits = _with_messages(check_api_doc(text), "does not name the lookback")
    assert [p.line for p in hits] == [_line_of(text, "### 6.4 Incremental reads")]


def test_schema_without_field_tables():
    lines = EXAMPLE_DOC.read_text(encoding="utf-8").splitlines()
    start, end = _section_bounds(lines, "## 3. Object schema")
    text = "\n".join(lines[:start + 1] + ["", "Fields: see the sandbox."] + lines[end:])
    hits = _with_messages(check_api_doc(text), "Object schema: no table listing fields")
    assert [p.line for p in hits] == [_line_of(text, "## 3. Object schema")]


def test_vendor_docs_deferral_and_placeholders():
    text = EXAMPLE_DOC.read_text(encoding="utf-8").replace(
        "None.\n", "See the vendor docs for the full list. Owner: {{name}}\n", 1)
    problems = check_api_doc(text)
    line = _line_of(text, "See the vendor docs")
    assert [p.line for p in _with_messages(problems, "not an acceptable entry")] == [line]
    assert [p.line for p in _with_messages(problems, "placeholder {{name}}")] == [line]


def test_template_itself_fails():
    problems = check_api_doc(doc_checks.API_DOC_TEMPLATE.read_text(encoding="utf-8"))
    messages = " ".join(p.message for p in problems)
    assert "missing required section" not in messages
    for fragment in ("'Method chosen' is empty", "placeholder", "guidance blockquote",
                     "Object schema: no table listing fields", "Sources: no URL cited"):
        assert fragment in messages, fragment


# ---------------------------------------------------------------------------------------
# README mutations
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example_readme() -> str:
    return EXAMPLE_README.read_text(encoding="utf-8")


def test_readme_mentions_read_table(example_readme):
    text = example_readme.replace(
        "Special columns:\n",
        "The connector calls `read_table` once per page.\n\nSpecial columns:\n")
    hits = _with_messages(check_readme(text), "internal name 'read_table'")
    assert [p.line for p in hits] == [_line_of(text, "calls `read_table`")]


@pytest.mark.parametrize("mention", [
    "`LakeflowConnect`", "the `get_partitions` method", "`SupportsPartition`",
    "`ExampleLakeflowConnect`", "`self._fetch_page()`", "`_cursor_key`",
])
def test_readme_internal_names(example_readme, mention):
    text = example_readme.replace("Special columns:\n", f"It uses {mention} here.\n\nSpecial columns:\n")
    hits = _with_messages(check_readme(text), "internal name")
    assert [p.line for p in hits] == [_line_of(text, f"It uses {mention}")], mention


def test_readme_internal_names_inside_code_are_fine(example_readme):
    text = example_readme.replace(
        "Special columns:\n",
        "```python\nconnector.read_table('x', None, {})  # LakeflowConnect._private\n```\n\n"
        "Special columns:\n")
    assert check_readme(text) == []


def test_readme_without_parameters_table(example_readme):
    lines = example_readme.splitlines()
    start, end = _section_bounds(lines, "## Connection parameters")
    kept = [line for line in lines[start:end] if not line.startswith("|")]
    text = "\n".join(lines[:start] + kept + lines[end:])
    hits = _with_messages(check_readme(text), "no parameters table")
    assert [p.line for p in hits] == [_line_of(text, "## Connection parameters")]


def test_readme_without_allow_list_row(example_readme):
    text = "\n".join(line for line in example_readme.splitlines()
                     if not line.startswith("| `externalOptionsAllowList`"))
    hits = _with_messages(check_readme(text), "no 'externalOptionsAllowList' row")
    assert [p.line for p in hits] == [_line_of(text, "| Name | Required | Default |")]


def test_readme_bare_tbd_and_missing_section(example_readme):
    text = example_readme.replace("## Troubleshooting", "## Problems").replace(
        "## Limits and performance\n", "## Limits and performance\n\nPage size: 500 (`TBD:`).\n")
    problems = check_readme(text)
    assert Problem(_line_of(text, "(`TBD:`)"),
                   "'TBD:' without a reason (write 'TBD: <why it is not confirmed>')") in problems
    assert Problem(_line_of(text, "## References"),
                   "missing required section '## Troubleshooting'") in problems


def test_readme_heading_placeholder_is_optional():
    pattern = doc_checks._heading_pattern("Set up credentials in {{Source}}")
    for title in ("Set up credentials", "Set up credentials in HubSpot", "Set up credentials in the sandbox"):
        assert doc_checks._title_matches(title, pattern), title
    assert not doc_checks._title_matches("Set up credentialsX", pattern)


# ---------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------


def test_cli_bad_doc(tmp_path, capsys, hubspot_doc):
    lines = hubspot_doc.splitlines()
    start, end = _section_bounds(lines, "## 1. Authorization")
    bad = tmp_path / "bad_api_doc.md"
    bad.write_text("\n".join(lines[:start] + lines[end:]), encoding="utf-8")
    assert doc_checks.main(["doc", str(bad), str(HUBSPOT_DOC)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert any(line.startswith(f"{bad}:") and "missing required section '## Authorization'" in line
               for line in out)
    assert all(re.match(rf"^{re.escape(str(bad))}:\d+: ", line) for line in out[:-1])
    assert "1 of 2 file(s)" in out[-1]


def test_cli_good_files(capsys):
    assert doc_checks.main(["doc", *map(str, API_DOCS)]) == 0
    assert doc_checks.main(["readme", *map(str, READMES)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"OK: {len(API_DOCS)} file(s) checked, no problems",
                   f"OK: {len(READMES)} file(s) checked, no problems"]


def test_cli_bad_readme_and_unreadable_file(tmp_path, capsys, example_readme):
    bad = tmp_path / "README.md"
    bad.write_text(example_readme.replace("Special columns:\n", "Calls `read_table`.\n"), encoding="utf-8")
    missing = tmp_path / "nope.md"
    assert doc_checks.main(["readme", str(bad), str(missing)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}:{_line_of(bad.read_text(), 'Calls `read_table`')}: internal name 'read_table'" in out
    assert f"{missing}:0: cannot read the file" in out


def test_cli_usage(capsys):
    assert doc_checks.main([]) == 2
    assert doc_checks.main(["nonsense", "x"]) == 2
    assert "usage" in capsys.readouterr().err


def test_file_helpers():
    assert doc_checks.check_doc_file(EXAMPLE_DOC) == []
    assert doc_checks.check_readme_file(EXAMPLE_README) == []
