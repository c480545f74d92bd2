"""House rules a reader can check by looking at the source, checked here so they stay true.

- Icons are Streamlit's Material icons, never emoji: emoji are boxes on a tablet without a
  colour-emoji font (issue 10).
- Nothing reads the server's clock zone: stored times come from `clock.utc_now`, today's date from
  `clock.business_today` (issue 11: the server's TZ must never matter).
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([*ROOT.glob("pages/*.py"), ROOT / "app.py", *(ROOT / "empowerment").rglob("*.py")])
# Pictographs and dingbats (the emoji people would see as boxes); arrows, bullets and dashes are text.
EMOJI = re.compile("[\u231A\u231B\u23E9-\u23FA\U0001F300-\U0001FAFF\u2600-\u2604\u2607-\u27BF\u2B50\u2B55]")  # not ★ ☆: text stars
SERVER_CLOCK = re.compile(r"\bdatetime\.now\(\)|\bdate\.today\(\)|\bdatetime\.utcnow\(\)")


def _lines(pattern: re.Pattern[str], *, skip: set[str]) -> list[str]:
    found = []
    for path in SOURCES:
        relative = path.relative_to(ROOT).as_posix()
        if relative in skip:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line.split("#", 1)[0]):
                found.append(f"{relative}:{number}: {line.strip()}")
    return found


def test_no_emoji_on_screen() -> None:
    # The digest is plain text and HTML mail, read outside the app: its check boxes are text there.
    assert _lines(EMOJI, skip={"empowerment/reports/digest.py"}) == []


def test_no_server_clock() -> None:
    assert _lines(SERVER_CLOCK, skip={"empowerment/clock.py"}) == []
