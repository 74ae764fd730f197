"""Hostile documents and pages (issue 12): nesting, tag-set size, surrogates, escapes,
schemes. Each property bounds the time and memory one document may cost and checks the
verdict against an oracle written here (the stated rule, or packaging's own parsers).
"""

from __future__ import annotations

import json
import re
import time
import tracemalloc
import unicodedata
import urllib.parse
from collections.abc import Callable
from typing import Any
from typing import TypeVar

from hypothesis import example
from hypothesis import given
from hypothesis import strategies as st
from packaging.utils import parse_wheel_filename

from devtools.fuzz import FUZZ
from poetry_wheelmirror.errors import FetchError
from poetry_wheelmirror.errors import ManifestError
from poetry_wheelmirror.jsonload import JsonDocumentError
from poetry_wheelmirror.jsonload import load_json
from poetry_wheelmirror.manifest import parse_package_document
from poetry_wheelmirror.simple_index import parse_project_page
from poetry_wheelmirror.simple_index import render_project_html
from poetry_wheelmirror.simple_index import render_project_json

T = TypeVar("T")

#: Per-document bounds, measured with room for a shared, loaded machine.
MAX_SECONDS = 2.0
MAX_PEAK_BYTES = 32 * 1024 * 1024


def bounded(work: Callable[[], T]) -> T:
    """Run *work* and assert it stayed within the per-document time and memory bounds."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        return work()
    finally:
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert elapsed < MAX_SECONDS, f"{elapsed:.2f} s"
        assert peak < MAX_PEAK_BYTES, f"{peak / 1e6:.1f} MB"


def outcome(work: Callable[[], T]) -> T | Exception:
    def run() -> T | Exception:
        try:
            return work()
        except (ManifestError, FetchError, JsonDocumentError) as e:
            return e

    result = bounded(run)
    if isinstance(result, Exception):
        assert "\n" not in str(result)  # one-line messages only
    return result


# -- nesting ------------------------------------------------------------------------------


@FUZZ
@given(st.integers(1, 200_000), st.sampled_from(["[", "{", "mixed"]))
@example(64, "[")
@example(65, "{")
@example(100_000, "[")
def test_nesting_is_refused_past_64_levels(depth: int, kind: str) -> None:
    opens = ['{"k":' if (kind == "{" or (kind == "mixed" and i % 2)) else "[" for i in range(depth)]
    closes = ["}" if o.startswith("{") else "]" for o in reversed(opens)]
    body = ("".join(opens) + "0" + "".join(closes)).encode()
    result = outcome(lambda: load_json(body))
    # oracle: the depth is the number of containers generated
    if depth <= 64:
        assert not isinstance(result, Exception), result
    else:
        assert isinstance(result, JsonDocumentError)
        assert "nested deeper than 64" in str(result)


# -- text: surrogates and control characters -----------------------------------------------

GOOD_DOC = {
    "schema": "poetry-wheelmirror/package",
    "schema_version": "1.0",
    "name": "demo",
    "versions": {
        "1.0": {
            "source": {"filename": "demo-1.0.tar.gz", "sha256": "0" * 64, "url": "https://f/d"},
            "wheels": [
                {
                    "filename": "demo-1.0-py3-none-any.whl",
                    "url": "../files/demo/demo-1.0-py3-none-any.whl",
                    "sha256": "1" * 64,
                    "size": 10,
                    "yanked": True,
                    "yanked_reason": "",
                }
            ],
        }
    },
}


def _unsafe_text(text: str) -> bool:
    """The rule, stated independently: C0/C1 controls and lone surrogates are refused."""
    return any(unicodedata.category(c) in ("Cc", "Cs") for c in text)


@FUZZ
@given(st.text(alphabet=st.characters(codec=None), max_size=40))
@example("\ud800")
@example("\x1b[2J")
@example("\x9b31m")
@example("caf\u00e9 \U0001f600")
def test_text_reaching_a_page_or_terminal_is_clean_or_refused(text: str) -> None:
    doc = json.loads(json.dumps(GOOD_DOC))
    doc["versions"]["1.0"]["wheels"][0]["yanked_reason"] = text
    raw = json.dumps(doc)  # ensure_ascii: surrogates travel as \\udxxx escapes, as on the wire
    result = outcome(lambda: parse_package_document(raw, source="doc.json"))
    if _unsafe_text(text):
        assert isinstance(result, ManifestError), repr(text)
        return
    assert not isinstance(result, Exception), result
    # and whatever was accepted renders as UTF-8 without escape sequences
    page = parse_project_page(
        json.dumps(
            {"files": [{**doc["versions"]["1.0"]["wheels"][0], "hashes": {"sha256": "1" * 64},
                        "url": "https://f/demo-1.0-py3-none-any.whl", "yanked": text}]}
        ).encode(),
        "https://up/simple/demo/",
        "demo",
    )
    for body in (render_project_html(page), render_project_json(page)):
        body.decode("utf-8")
        assert b"\x1b" not in body


# -- wheel tag sets that multiply out ---------------------------------------------------------


@FUZZ
@given(st.integers(1, 120), st.integers(1, 120), st.integers(1, 120))
@example(100, 100, 100)
@example(8, 8, 4)
@example(7, 7, 7)
def test_tag_sets_are_capped_before_expansion(py: int, abi: int, plat: int) -> None:
    def part(prefix: str, n: int) -> str:
        return ".".join(f"{prefix}{i}" for i in range(n))

    filename = f"demo-1.0-{part('py', py)}-{part('a', abi)}-{part('p', plat)}.whl"
    doc = json.loads(json.dumps(GOOD_DOC))
    doc["versions"]["1.0"]["wheels"][0]["filename"] = filename
    result = outcome(lambda: parse_package_document(json.dumps(doc), source="doc.json"))
    # oracle: the stated caps, with the count taken from packaging's own expansion when
    # the name is short enough to expand at all
    if len(filename) > 255:
        assert isinstance(result, ManifestError)
        assert "longer than 255" in str(result)
        return
    count = len(parse_wheel_filename(filename)[3])
    assert count == py * abi * plat
    if count > 256:
        assert isinstance(result, ManifestError)
        assert f"expands to {count} tags" in str(result)
    else:
        assert not isinstance(result, Exception), result


# -- schemes --------------------------------------------------------------------------------

SCHEMES = ["https", "http", "file", "javascript", "data", "FILE", "Https", "ftp", "vbscript"]
urls = st.builds(
    lambda scheme, sep, rest: f"{scheme}:{sep}{rest}",
    st.sampled_from(SCHEMES),
    st.sampled_from(["", "/", "//"]),
    st.sampled_from(["evil.example/x.whl", "127.0.0.1/x.whl", "etc/passwd", "alert(1)", ""]),
) | st.sampled_from(["../files/x.whl", "x.whl", "//evil.example/x.whl", "%0ajavascript:x"])


def _manifest_allows(url: str) -> bool:
    """The manifest's URL rule, stated independently of urls.py."""
    parts = urllib.parse.urlsplit(url)
    if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", url):
        return not url.startswith("//")  # a relative reference
    if parts.scheme != url.split(":", 1)[0]:
        return False  # not lowercase
    if parts.scheme == "https":
        return bool(parts.hostname)
    if parts.scheme == "http":
        return parts.hostname in ("127.0.0.1", "localhost")
    return parts.scheme == "file"


@FUZZ
@given(urls)
def test_urls_in_documents_follow_the_scheme_rule(url: str) -> None:
    doc = json.loads(json.dumps(GOOD_DOC))
    doc["versions"]["1.0"]["wheels"][0]["url"] = url
    result = outcome(lambda: parse_package_document(json.dumps(doc), source="doc.json"))
    assert isinstance(result, Exception) != _manifest_allows(url), (url, result)


@FUZZ
@given(st.lists(urls, min_size=1, max_size=5), st.sampled_from(["", "file:///", "https://o/"]))
def test_remote_pages_never_pass_on_local_or_script_links(links: list[str], base: str) -> None:
    anchors = "".join(f'<a href="{u}#sha256={"a" * 64}">demo-1.0.tar.gz</a>' for u in links)
    head = f'<base href="{base}">' if base else ""
    body = f"<html><head>{head}</head><body>{anchors}</body></html>".encode()
    page = outcome(lambda: parse_project_page(body, "https://pypi.example/simple/demo/", "demo"))
    assert not isinstance(page, Exception)
    for f in page.files:
        parts = urllib.parse.urlsplit(f.url)
        # oracle: https anywhere, http only on loopback, nothing else from a remote page
        assert parts.scheme == "https" or (
            parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost")
        ), f.url
    for body_out in (render_project_html(page), render_project_json(page)):
        assert b"javascript:" not in body_out.lower()
        assert b"file:" not in body_out.lower()


def _pages_json(entries: list[dict[str, Any]]) -> bytes:
    return json.dumps({"meta": {"api-version": "1.1"}, "files": entries}).encode()


def test_a_large_ordinary_page_stays_fast() -> None:
    # Not hostile: the baseline. PyPI's largest pages hold tens of thousands of files,
    # and the guarded loader and the safety rules must not make them slow (20,000 files
    # parse in ~0.3 s on an idle core; the bound leaves room for a loaded machine).
    entries = [
        {
            "filename": f"demo-{i}.tar.gz",
            "url": f"https://f/demo-{i}.tar.gz",
            "hashes": {"sha256": "a" * 64},
            "size": i,
        }
        for i in range(20_000)
    ]
    body = _pages_json(entries)
    started = time.perf_counter()
    page = parse_project_page(body, "https://up/simple/demo/", "demo")
    assert len(page.files) == 20_000
    assert time.perf_counter() - started < 10.0
