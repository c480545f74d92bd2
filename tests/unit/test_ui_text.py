"""User text on pages: Markdown is escaped and URLs or e-mail addresses never become links."""

from __future__ import annotations

import re

import pytest

from empowerment.ui.components import md, name, unmd

# The patterns of GFM autolink literals (mdast-util-gfm-autolink-literal), which Streamlit's
# Markdown applies to the text after escapes are resolved: a backslash cannot stop them.
_URL = re.compile(r"(https?://|www(?=\.))[-.\w]+", re.IGNORECASE)
_EMAIL = re.compile(r"[-.\w+]+@[-\w]+(?:\.[-\w]+)+")


def _as_rendered(markdown: str) -> str:
    """The text the autolinker sees: escapes resolved, nothing else."""
    return re.sub(r"\\(.)", r"\1", markdown)


@pytest.mark.parametrize("note", [
    "Call back https://evil.example/login?next=1",
    "see WWW.example.com for the menu",
    "mail guest@example.org please",
    "http://a.b and www.c.d and e@f.gh",
])
def test_urls_and_addresses_in_user_text_do_not_become_links(note: str) -> None:
    for shown in (md(note), name(note)):
        seen = _as_rendered(shown)
        assert not _URL.search(seen) and not _EMAIL.search(seen), seen
        assert unmd(shown) == note  # what a person reads is what was typed


def test_markdown_in_user_text_is_shown_literally() -> None:
    shown = md("[click](javascript:alert(1)) **bold** $5 <b>x</b>")
    assert "\\[" in shown and "\\*" in shown and "\\$" in shown and "\\<" in shown
    assert unmd(shown) == "[click](javascript:alert(1)) **bold** $5 <b>x</b>"


def test_times_show_on_the_business_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import datetime

    from empowerment.ui import components

    monkeypatch.setenv("EMPOWERMENT_TIME_ZONE", "Europe/Paris")
    monkeypatch.setenv("TZ", "Asia/Tokyo")  # the server's own zone never shows
    assert components.when(datetime(2026, 7, 1, 10, 0)) == "01 Jul 2026, 12:00"  # stored UTC, CEST
    assert components.when(datetime(2026, 1, 15, 23, 30)) == "16 Jan 2026, 00:30"  # CET, the next day
    assert components.when_local(datetime(2026, 7, 1, 10, 0)) == "01 Jul 2026, 10:00"  # already local
    assert components.when(None) == "—"
