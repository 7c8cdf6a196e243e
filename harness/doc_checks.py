"""Mechanical checks of a connector's two documents against the project templates.

* ``check_api_doc(text)`` checks ``sources/<name>/<name>_api_doc.md`` against
  ``harness/templates/source_api_doc_template.md``;
* ``check_readme(text)`` checks ``sources/<name>/README.md`` against
  ``harness/templates/community_connector_doc_template.md``.

Both return a list of :class:`Problem` (1-based line of the offending place, or of the
closest heading; 0 for the whole file). The required section headings are read from the
template files at run time, so the templates stay the single source of the section lists.

Command line::

    python -m harness.doc_checks doc PATH...
    python -m harness.doc_checks readme PATH...

prints ``PATH:LINE: message`` per problem and a summary line; exit status 1 if any problem
was found, 0 otherwise, 2 on a usage error.
"""

from __future__ import annotations

import ast
import functools
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = Path(__file__).resolve().parent / "templates"
API_DOC_TEMPLATE = TEMPLATES / "source_api_doc_template.md"
README_TEMPLATE = TEMPLATES / "community_connector_doc_template.md"


@dataclass(frozen=True, order=True)
class Problem:
    line: int
    message: str


# --------------------------------------------------------------------------------------
# Markdown parsing (just enough for the templates' structure)
# --------------------------------------------------------------------------------------

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_URL = re.compile(r"https?://[^\s<>()|`'\"]+\.[^\s<>()|`'\"]+")
_DATE = re.compile(r"\b\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])\b")


@dataclass
class Heading:
    level: int
    title: str
    line: int  # 1-based


@dataclass
class Section:
    heading: Heading
    start: int  # 0-based index of the heading line
    end: int  # 0-based index one past the section's last line (next heading of <= level)


@dataclass
class Table:
    line: int  # 1-based line of the header row
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (1-based line, cells)

    def column(self, *words: str) -> int | None:
        """Index of the first header cell containing one of ``words`` (case-insensitive)."""
        for i, cell in enumerate(self.header):
            low = _plain(cell).lower()
            if any(w in low for w in words):
                return i
        return None


class Doc:
    """A markdown text split into lines, with fenced code blocks marked."""

    def __init__(self, text: str):
        self.lines = text.splitlines()
        self.in_code = []
        fence = None
        for line in self.lines:
            m = _FENCE.match(line)
            if fence is None and m:
                fence = m.group(1)
                self.in_code.append(True)
            elif fence is not None:
                self.in_code.append(True)
                if m and m.group(1) == fence:
                    fence = None
            else:
                self.in_code.append(False)
        self.headings = []
        for i, line in enumerate(self.lines):
            if self.in_code[i]:
                continue
            m = _HEADING.match(line)
            if m:
                self.headings.append(Heading(len(m.group(1)), m.group(2), i + 1))

    def sections(self, level: int) -> list[Section]:
        """Every section of exactly ``level``, ending at the next heading of <= level."""
        out = []
        for k, h in enumerate(self.headings):
            if h.level != level:
                continue
            end = len(self.lines)
            for nxt in self.headings[k + 1:]:
                if nxt.level <= level:
                    end = nxt.line - 1
                    break
            out.append(Section(h, h.line - 1, end))
        return out

    def find_section(self, key: str, level: int, within: Section | None = None) -> Section | None:
        """The first section of ``level`` whose title matches ``key`` (see :func:`_title_matches`)."""
        for s in self.sections(level):
            if within is not None and not (within.start < s.start < within.end):
                continue
            if _title_matches(s.heading.title, _heading_pattern(key)):
                return s
        return None

    def prose(self, section: Section) -> list[tuple[int, str]]:
        """(1-based line, text) of the section body outside code, blockquotes and headings."""
        out = []
        for i in range(section.start + 1, section.end):
            line = self.lines[i]
            if self.in_code[i] or line.lstrip().startswith(">") or _HEADING.match(line):
                continue
            if line.strip():
                out.append((i + 1, line))
        return out

    def text_of(self, section: Section, code: bool = False) -> str:
        """The section body, without guidance blockquotes; fenced code only if ``code``."""
        return "\n".join(
            self.lines[i]
            for i in range(section.start + 1, section.end)
            if (code or not self.in_code[i]) and not self.lines[i].lstrip().startswith(">")
        )

    def tables(self, section: Section | None = None) -> list[Table]:
        """Markdown tables (header row followed by a ``|---|`` row) outside code."""
        lo, hi = (0, len(self.lines)) if section is None else (section.start, section.end)
        out, i = [], lo
        while i < hi:
            line = self.lines[i].strip()
            if (not self.in_code[i] and line.startswith("|") and i + 1 < hi
                    and re.match(r"^\|?\s*:?-{3,}", self.lines[i + 1].strip())):
                table = Table(i + 1, _cells(line), [])
                i += 2
                while i < hi and not self.in_code[i] and self.lines[i].strip().startswith("|"):
                    table.rows.append((i + 1, _cells(self.lines[i].strip())))
                    i += 1
                out.append(table)
            else:
                i += 1
        return out


def _cells(row: str) -> list[str]:
    row = row.strip()
    if row.startswith("|"):
        row = row[1:]
    if row.endswith("|") and not row.endswith("\\|"):
        row = row[:-1]
    return [c.strip() for c in re.split(r"(?<!\\)\|", row)]


def _plain(text: str) -> str:
    """Heading or cell text without markdown emphasis, code marks and leading numbering."""
    text = re.sub(r"[`*_]", "", text)
    text = re.sub(r"^\s*\d+(\.\d+)*\.?\s+", "", text)
    return re.sub(r"\s+", " ", text).strip()


def _heading_pattern(title: str) -> re.Pattern:
    """A regex for a template heading: ``{{x}}`` matches any text, and a trailing
    ``in|for|of {{x}}`` phrase is optional ("Set up credentials in {{Source}}" accepts
    "Set up credentials" and "Set up credentials in HubSpot")."""
    title = _plain(title.replace("{{", "\x00").replace("}}", "\x01"))
    parts = re.split(r"(\s+(?:in|for|of|from)\s+\x00[^\x01]*\x01|\x00[^\x01]*\x01)", title)
    rx = ""
    for part in parts:
        if not part:
            continue
        if part.startswith("\x00"):
            rx += ".+"
        elif "\x00" in part:
            word = part.split()[0]
            rx += rf"(?:\s+{re.escape(word)}\s+.+)?"
        else:
            rx += re.escape(part)
    return re.compile(rx, re.IGNORECASE)


def _title_matches(title: str, pattern: re.Pattern) -> bool:
    """The heading equals the pattern, or the pattern followed by a non-word suffix
    (``Authorization (OAuth)``, ``Discovered objects: custom objects``)."""
    plain = _plain(title)
    m = pattern.match(plain)
    if not m:
        return False
    rest = plain[m.end():]
    return not rest or not rest[0].isalnum()


@functools.lru_cache(maxsize=None)
def template_headings(path: str) -> tuple[str, ...]:
    """The ``##`` headings of a template file, in order (outside code blocks)."""
    doc = Doc(Path(path).read_text(encoding="utf-8"))
    return tuple(h.title for h in doc.headings if h.level == 2)


@functools.lru_cache(maxsize=None)
def template_guidance(path: str) -> frozenset[str]:
    """The template's guidance blockquote lines (long enough to be distinctive)."""
    out = set()
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        s = line.strip()
        if s.startswith(">"):
            s = s.lstrip("> ").strip()
            if len(s) >= 40:
                out.add(s)
    return frozenset(out)


# --------------------------------------------------------------------------------------
# Checks shared by both documents
# --------------------------------------------------------------------------------------


def check_required_headings(doc: Doc, required: Sequence[str]) -> list[Problem]:
    """Every ``##`` heading of the template is present (as a ``##`` heading; numbering,
    emphasis and a non-word suffix are ignored; placeholders match any text) and they appear
    in the template's order. Extra headings are allowed anywhere."""
    problems = []
    found: list[tuple[str, Heading]] = []
    missing: list[tuple[int, str]] = []  # (index in found where it should be, title)
    h2 = [h for h in doc.headings if h.level == 2]
    for title in required:
        pattern = _heading_pattern(title)
        hit = next((h for h in h2 if _title_matches(h.title, pattern)), None)
        if hit is None:
            missing.append((len(found), title))
        else:
            found.append((title, hit))
    for k, title in missing:
        # Report at the closest heading: the required one it should precede, else the last
        # one found, else the whole file.
        near = found[k][1] if k < len(found) else (found[-1][1] if found else None)
        problems.append(Problem(near.line if near else 0,
                                f"missing required section '## {_plain(title)}'"))
    for (prev_title, prev), (title, cur) in zip(found, found[1:]):
        if cur.line < prev.line:
            problems.append(Problem(
                cur.line,
                f"section '## {_plain(title)}' is out of order: the template puts it after "
                f"'## {_plain(prev_title)}' (line {prev.line})"))
    return problems


_TBD = re.compile(r"TBD:")
# A reason starts right after the marker (a word, a number or an opening quote/bracket),
# not with closing punctuation as in "(`TBD:`)" or "`TBD:`.".
_TBD_REASON = re.compile(r"^[\s:\-—–]*[\w(\[\"'*`]")


def check_tbd_reasons(doc: Doc) -> list[Problem]:
    """Every ``TBD:`` marker outside code blocks is followed by a reason: some words after
    the marker (after a closing backtick), on the same line or, when the marker ends the
    line, on the next line of the same paragraph. In a table row the reason must be in the
    same cell. ``(`TBD:`)`` or ``; `TBD:`.`` is a bare marker."""
    problems = []
    for i, line in enumerate(doc.lines):
        if doc.in_code[i]:
            continue
        for m in _TBD.finditer(line):
            rest = line[m.end():]
            rest = rest[1:] if rest.startswith("`") else rest
            in_table = line.strip().startswith("|")
            if in_table:
                rest = re.split(r"(?<!\\)\|", rest)[0]
            if not rest.strip() and not in_table and i + 1 < len(doc.lines):
                nxt = doc.lines[i + 1]
                if nxt.strip() and not doc.in_code[i + 1] and not _HEADING.match(nxt) \
                        and not nxt.strip().startswith("|"):
                    rest = nxt.lstrip("> ")
            if not _TBD_REASON.match(rest) or not re.search(r"[^\W\d_]{2,}", rest):
                problems.append(Problem(i + 1, "'TBD:' without a reason (write 'TBD: <why it is "
                                               "not confirmed>')"))
    return problems


def check_no_placeholders(doc: Doc) -> list[Problem]:
    """No ``{{placeholder}}`` of the template is left outside code blocks."""
    return [Problem(i + 1, f"unfilled template placeholder {m.group(0)}")
            for i, line in enumerate(doc.lines) if not doc.in_code[i]
            for m in re.finditer(r"\{\{[^}]*\}\}", line)]


def check_no_guidance(doc: Doc, template: Path) -> list[Problem]:
    """No guidance blockquote line of the template is left verbatim in the document
    (the templates say to delete them once a section is filled in)."""
    guidance = template_guidance(str(template))
    out = []
    for i, line in enumerate(doc.lines):
        s = line.strip()
        if not doc.in_code[i] and s.startswith(">") and s.lstrip("> ").strip() in guidance:
            out.append(Problem(i + 1, "template guidance blockquote left in place; delete it"))
    return out


# --------------------------------------------------------------------------------------
# API research document
# --------------------------------------------------------------------------------------

METHOD_ROW = "method chosen"


def check_single_auth_method(doc: Doc) -> list[Problem]:
    """The Authorization section's table has exactly one 'Method chosen' row (the template
    asks for the **one** method the connector uses), and that row names a method."""
    sec = doc.find_section("Authorization", 2)
    if sec is None:
        return []  # the missing section is reported by check_required_headings
    rows = [(line, cells) for t in doc.tables(sec) for line, cells in t.rows
            if cells and _plain(cells[0]).lower() == METHOD_ROW]
    if not rows:
        return [Problem(sec.heading.line, "Authorization: no 'Method chosen' row naming the one "
                                          "authentication method used")]
    problems = []
    if len(rows) > 1:
        problems.append(Problem(
            rows[1][0], f"Authorization: {len(rows)} 'Method chosen' rows; exactly one "
                        f"authentication method must be chosen (list the others as rejected)"))
    for line, cells in rows:
        if len(cells) < 2 or not _plain(cells[1]):
            problems.append(Problem(line, "Authorization: 'Method chosen' is empty"))
    return problems


def _table_has_rows(table: Table, column: int | None = None) -> bool:
    for _, cells in table.rows:
        if column is None:
            if any(_plain(c) for c in cells[1:] or cells):
                return True
        elif column < len(cells) and _plain(cells[column]):
            return True
    return False


def check_read_api(doc: Doc) -> list[Problem]:
    """The Read API section has: an 'Endpoints' table with at least one filled
    'Method + path'; a 'Parameters' subsection with a filled table; a 'Pagination'
    subsection with text; and at least one example request (an ``http`` block or a line
    starting with an HTTP verb in a code block) and one example response (a ``json``
    block)."""
    sec = doc.find_section("Read API", 2)
    if sec is None:
        return []  # the missing section is reported by check_required_headings
    problems = []
    where = sec.heading.line

    endpoints = doc.find_section("Endpoints", 3, sec)
    if endpoints is None:
        problems.append(Problem(where, "Read API: no '### Endpoints' subsection"))
    else:
        ok = False
        for t in doc.tables(endpoints):
            col = t.column("path", "endpoint")
            if col is not None and any(col < len(c) and "/" in c[col] for _, c in t.rows):
                ok = True
        if not ok:
            problems.append(Problem(endpoints.heading.line,
                                    "Read API: the Endpoints table lists no endpoint "
                                    "(a 'Method + path' cell with a path)"))

    params = doc.find_section("Parameters", 3, sec)
    if params is None:
        problems.append(Problem(where, "Read API: no '### Parameters' subsection"))
    elif not any(_table_has_rows(t, t.column("parameter", "field", "name"))
                 for t in doc.tables(params)):
        problems.append(Problem(params.heading.line,
                                "Read API: the Parameters subsection has no table of parameters"))

    paging = doc.find_section("Pagination", 3, sec)
    if paging is None:
        problems.append(Problem(where, "Read API: no '### Pagination' subsection"))
    elif not doc.prose(paging):
        problems.append(Problem(paging.heading.line, "Read API: the Pagination subsection is empty"))

    request = response = False
    i = sec.start
    while i < sec.end:
        if doc.in_code[i] and (i == 0 or not doc.in_code[i - 1]):
            info = _FENCE.sub("", doc.lines[i]).strip().lower()
            j = i + 1
            body = []
            while j < sec.end and doc.in_code[j] and not _FENCE.match(doc.lines[j]):
                body.append(doc.lines[j])
                j += 1
            has_body = any(b.strip() for b in body)
            if has_body and (info == "http" or any(
                    re.match(r"^\s*(GET|POST|PUT|PATCH|DELETE)\s+\S", b) for b in body)):
                request = True
            if has_body and (info == "json" or (body and body[0].lstrip().startswith(("{", "[")))):
                response = True
            i = j + 1
        else:
            i += 1
    if not request:
        problems.append(Problem(where, "Read API: no example request (a filled ```http block)"))
    if not response:
        problems.append(Problem(where, "Read API: no example response (a filled ```json block)"))
    return problems


#: (what, the words looked for as a regular expression, shown in the problem)
_INCREMENTAL_TERMS = (
    ("cursor", r"cursor"),
    ("order (sort)", r"\border\b|\bsort|ascending|descending"),
    ("lookback (indexing delay)", r"look-?back|indexing delay|safety lag|\blag\b"),
)


def _words(rx: str) -> str:
    return " / ".join(f"'{w}'" for w in rx.replace("\\b", "").replace("-?", "").split("|"))


def check_incremental_strategy(doc: Doc) -> list[Problem]:
    """The Read API's 'Incremental reads' subsection names the cursor, the order (sort) of
    the read, and a lookback / indexing delay (the template's "indexing delay between a write
    and its visibility"); and a 'Deletes' subsection says how deletes are read."""
    sec = doc.find_section("Read API", 2)
    if sec is None:
        return []  # the missing section is reported by check_required_headings
    problems = []
    inc = doc.find_section("Incremental reads", 3, sec)
    if inc is None:
        problems.append(Problem(sec.heading.line, "Read API: no '### Incremental reads' subsection"))
    else:
        text = doc.text_of(inc).lower()
        for name, rx in _INCREMENTAL_TERMS:
            if not re.search(rx, text):
                problems.append(Problem(inc.heading.line,
                                        f"Incremental reads: the strategy does not name the {name} "
                                        f"(looked for the word(s) {_words(rx)} in the subsection's text)"))
    deletes = doc.find_section("Deletes", 3, sec)
    if deletes is None:
        problems.append(Problem(sec.heading.line, "Read API: no '### Deletes' subsection"))
    elif not re.search(r"delet|archiv|tombstone", doc.text_of(deletes).lower()):
        problems.append(Problem(deletes.heading.line,
                                "Deletes: the subsection does not say how deletes are detected"))
    return problems


def _has_tbd_reason(cell: str) -> bool:
    m = re.search(r"TBD:`?\s*(.*)", cell)
    return bool(m and re.search(r"[^\W\d_]{2,}", m.group(1)))


def check_research_log(doc: Doc) -> list[Problem]:
    """The Research log section has a table with a URL column and a date column; every row
    gives a full URL (``https://host/...``) — or ``TBD: <reason>`` when the source has none —
    and an access date written ``YYYY-MM-DD``."""
    sec = doc.find_section("Research log", 2)
    if sec is None:
        return []  # the missing section is reported by check_required_headings
    tables = [t for t in doc.tables(sec) if t.column("url") is not None]
    if not tables:
        return [Problem(sec.heading.line, "Research log: no table with a 'Full URL' column")]
    problems = []
    rows = 0
    for t in tables:
        url_col, date_col = t.column("url"), t.column("date")
        if date_col is None:
            problems.append(Problem(t.line, "Research log: the table has no 'Date accessed' column"))
        for line, cells in t.rows:
            if not any(_plain(c) for c in cells):
                continue
            rows += 1
            url = cells[url_col] if url_col < len(cells) else ""
            if not _URL.search(url) and not _has_tbd_reason(url):
                problems.append(Problem(line, "Research log: row without a full URL (https://...)"))
            if date_col is not None:
                date = cells[date_col] if date_col < len(cells) else ""
                if not _DATE.search(date):
                    problems.append(Problem(line, "Research log: row without a date (YYYY-MM-DD)"))
    if rows == 0:
        problems.append(Problem(sec.heading.line, "Research log: the table has no rows"))
    return problems


def check_sources(doc: Doc) -> list[Problem]:
    """The Sources section cites at least one full URL (or says ``TBD: <reason>`` why there
    is none)."""
    sec = doc.find_section("Sources", 2)
    if sec is None:
        return []  # the missing section is reported by check_required_headings
    body = doc.text_of(sec)
    if _URL.search(body) or _has_tbd_reason(body):
        return []
    return [Problem(sec.heading.line, "Sources: no URL cited")]


def check_schema_tables(doc: Doc) -> list[Problem]:
    """The Object schema section has at least one markdown table with a field / name /
    property column and at least one filled row in it."""
    sec = doc.find_section("Object schema", 2)
    if sec is None:
        return []  # the missing section is reported by check_required_headings
    for t in doc.tables(sec):
        col = t.column("field", "name", "property")
        if col is not None and _table_has_rows(t, col):
            return []
    return [Problem(sec.heading.line, "Object schema: no table listing fields "
                                      "(a table with a Field column and filled rows)")]


def check_no_vendor_docs_deferral(doc: Doc) -> list[Problem]:
    """No "see the vendor docs for the full list" entry (the template forbids it: list every
    field)."""
    rx = re.compile(r"see (the )?(vendor|official|api)('s)? (docs?|documentation|reference)"
                    r"[^.|]*\b(full|complete) list", re.IGNORECASE)
    return [Problem(i + 1, "'see the vendor docs for the full list' is not an acceptable entry: "
                           "list every field")
            for i, line in enumerate(doc.lines) if not doc.in_code[i] and rx.search(line)]


API_DOC_CHECKS: tuple[Callable[[Doc], list[Problem]], ...] = (
    check_single_auth_method,
    check_read_api,
    check_incremental_strategy,
    check_research_log,
    check_sources,
    check_schema_tables,
    check_tbd_reasons,
    check_no_placeholders,
    check_no_vendor_docs_deferral,
)


def _check_against(text: str, template: Path | str, checks: Sequence[Callable[[Doc], list[Problem]]]) -> list[Problem]:
    """The template's required headings and guidance, then ``checks``; sorted by line."""
    doc = Doc(text)
    problems = check_required_headings(doc, template_headings(str(template)))
    for check in checks:
        problems += check(doc)
    problems += check_no_guidance(doc, Path(template))
    return sorted(set(problems))


def check_api_doc(text: str, template: Path | str = API_DOC_TEMPLATE) -> list[Problem]:
    """All checks of a ``<source>_api_doc.md`` text, sorted by line."""
    return _check_against(text, template, API_DOC_CHECKS)


# --------------------------------------------------------------------------------------
# README
# --------------------------------------------------------------------------------------

_PARAM_COLUMNS = ("name", "required", "default", "description")


def check_parameters_table(doc: Doc) -> list[Problem]:
    """The 'Connection parameters' section has a table with Name, Required, Default and
    Description columns, at least one parameter row, and a row for
    ``externalOptionsAllowList`` (the template asks to state it either way)."""
    sec = doc.find_section("Connection parameters", 2)
    if sec is None:
        return []  # the missing section is reported by check_required_headings
    for t in doc.tables(sec):
        if all(t.column(c) is not None for c in _PARAM_COLUMNS):
            if not _table_has_rows(t, t.column("name")):
                return [Problem(t.line, "Connection parameters: the table has no rows")]
            names = [_plain(c[t.column("name")]) for _, c in t.rows if c]
            if "externalOptionsAllowList" not in names:
                return [Problem(t.line, "Connection parameters: no 'externalOptionsAllowList' row")]
            return []
    return [Problem(sec.heading.line,
                    "Connection parameters: no parameters table with Name | Required | Default | "
                    "Description columns")]


# Names that always count as internal, whatever the code looks like today.
_BASE_INTERNAL = frozenset({
    "LakeflowConnect", "SupportsPartition", "SupportsPartitionedStream", "SupportsReadLimits",
    "read_table", "read_table_deletes", "read_table_metadata", "get_table_schema",
    "list_tables", "get_partitions", "read_partition", "latest_offset", "is_partitioned",
})
_INTERNAL_PATTERNS = (
    re.compile(r"\b\w*LakeflowConnect\w*\b"),  # connector classes and test bases
    re.compile(r"\bSupports[A-Z]\w+\b"),  # interface mix-ins
)
# `_name` called, accessed as an attribute, or alone in an inline code span.
_PRIVATE = re.compile(r"(?:(?<=\.)|(?<![\w=/.-]))(_{1,2}[A-Za-z]\w*)(?=\(|`)|(?<=\.)(_{1,2}[A-Za-z]\w*)\b")


def _is_identifier_like(name: str) -> bool:
    """snake_case with an underscore, or CamelCase with two capitals: unlikely in prose."""
    return ("_" in name.strip("_")) or bool(re.match(r"^[A-Z][a-z0-9]+[A-Z]\w*$", name))


@functools.lru_cache(maxsize=None)
def internal_names() -> frozenset[str]:
    """Internal names the README must not mention: the base list, plus every class and
    public method / function defined by the connector interface (``sources/interface``) and
    the runtime (``datasource``), plus the class names of every connector package. Only
    identifier-like names (snake_case with an underscore or CamelCase) are kept, so English
    words such as ``option`` are never flagged."""
    names = set(_BASE_INTERNAL)
    everything = [PROJECT_ROOT / "sources" / "interface", PROJECT_ROOT / "datasource"]
    classes_only = [p for p in (PROJECT_ROOT / "sources").iterdir()
                    if p.is_dir() and p.name not in ("interface", "__pycache__")]
    for roots, with_functions in ((everything, True), (classes_only, False)):
        for root in roots:
            for path in root.glob("*.py"):
                try:
                    tree = ast.parse(path.read_text(encoding="utf-8"))
                except (OSError, SyntaxError):
                    continue
                for node in ast.walk(tree):
                    if isinstance(node, ast.ClassDef):
                        names.add(node.name)
                    elif with_functions and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        if not node.name.startswith("__"):
                            names.add(node.name)
    return frozenset(n for n in names if not n.startswith("_") and _is_identifier_like(n))


def check_no_internal_names(doc: Doc, names: Iterable[str] | None = None) -> list[Problem]:
    """Outside fenced code blocks, the README does not name internal classes, methods or
    modules of the connector or the runtime (the template's writing rule): no name from
    :func:`internal_names`, nothing matching ``*LakeflowConnect*`` or ``Supports<Name>``,
    and no ``_private`` name (called, accessed as an attribute, or alone in inline code)."""
    names = internal_names() if names is None else frozenset(names)
    word = re.compile(r"(?<![\w-])(" + "|".join(sorted(map(re.escape, names), key=len, reverse=True))
                      + r")(?![\w-])") if names else None
    problems = []
    for i, line in enumerate(doc.lines):
        if doc.in_code[i]:
            continue
        hits = set()
        if word is not None:
            hits.update(m.group(1) for m in word.finditer(line))
        for rx in _INTERNAL_PATTERNS:
            hits.update(m.group(0) for m in rx.finditer(line))
        for m in _PRIVATE.finditer(line):
            hits.add(m.group(1) or m.group(2))
        for name in sorted(hits):
            problems.append(Problem(i + 1, f"internal name '{name}' outside a code block; describe "
                                           f"the behaviour the user sees instead"))
    return problems


README_CHECKS: tuple[Callable[[Doc], list[Problem]], ...] = (
    check_parameters_table,
    check_no_internal_names,
    check_tbd_reasons,
    check_no_placeholders,
)


def check_readme(text: str, template: Path | str = README_TEMPLATE) -> list[Problem]:
    """All checks of a ``sources/<name>/README.md`` text, sorted by line."""
    return _check_against(text, template, README_CHECKS)


# --------------------------------------------------------------------------------------
# Files and command line
# --------------------------------------------------------------------------------------


def _check_file(path: str | Path, check: Callable[[str], list[Problem]]) -> list[Problem]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [Problem(0, f"cannot read the file: {exc}")]
    return check(text)


def check_doc_file(path: str | Path) -> list[Problem]:
    """:func:`check_api_doc` on a file."""
    return _check_file(path, check_api_doc)


def check_readme_file(path: str | Path) -> list[Problem]:
    """:func:`check_readme` on a file."""
    return _check_file(path, check_readme)


_KINDS = {"doc": check_doc_file, "readme": check_readme_file}
USAGE = "usage: python -m harness.doc_checks {doc|readme} PATH..."


def main(argv: Sequence[str] | None = None) -> int:
    """``doc PATH...`` or ``readme PATH...``: print ``PATH:LINE: message`` per problem and a
    summary; return 1 if any problem was found, 0 if none, 2 on a usage error."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 2 or args[0] not in _KINDS:
        print(USAGE, file=sys.stderr)
        return 2
    check = _KINDS[args[0]]
    total = bad = 0
    for path in args[1:]:
        problems = check(path)
        for p in problems:
            print(f"{path}:{p.line}: {p.message}")
        total += len(problems)
        bad += bool(problems)
    files = len(args) - 1
    if total:
        print(f"{total} problem(s) in {bad} of {files} file(s)")
        return 1
    print(f"OK: {files} file(s) checked, no problems")
    return 0


if __name__ == "__main__":
    sys.exit(main())
