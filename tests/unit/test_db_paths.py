"""Where the SQLite writers' lock file goes: beside the database file, whatever the URL's form."""

import pytest
from sqlalchemy.engine import make_url

from empowerment.db import _writer_lock_path


@pytest.mark.parametrize(
    ("url", "lock_path"),
    [
        ("sqlite:////srv/data/a.db", "/srv/data/a.db.writelock"),
        ("sqlite:///data/a.db", "data/a.db.writelock"),
        # A read-only URI names the same file: its lock is that file's, not a folder called "file:".
        ("sqlite:///file:/srv/data/a.db?mode=ro&uri=true", "/srv/data/a.db.writelock"),
        ("sqlite:///file:data/a.db?mode=ro&uri=true", "data/a.db.writelock"),
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
        ("sqlite:///file:shared?mode=memory&uri=true", None),
    ],
)
def test_writer_lock_sits_beside_the_database_file(url: str, lock_path: str | None) -> None:
    assert _writer_lock_path(make_url(url)) == lock_path
