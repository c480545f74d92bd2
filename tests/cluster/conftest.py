"""The cluster harness: two Streamlit replicas, the notification worker and nginx in front
(`scripts/cluster.py`, the same code as `make cluster`) on a fresh PostgreSQL database holding the
browser tests' small organisation. Needs PostgreSQL, nginx and Chromium; without one of them the
tests skip with the reason, except on CI (`CI=true`), where that fails the run.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from empowerment.db import Database, upgrade
from tests.conftest import PG_AVAILABLE, drop_pg_database, make_pg_database
from tests.e2e.conftest import Org, _fill, _need_browser

ROOT = Path(__file__).resolve().parents[2]


def load_cluster_module() -> ModuleType:
    """scripts/cluster.py as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("empowerment_cluster_script", ROOT / "scripts" / "cluster.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def _need(problem: str | None) -> None:
    if problem is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI requires the cluster tests to run, but {problem}.")
    pytest.skip(f"Cluster tests skipped: {problem}.")


def free_port_run(count: int) -> int:
    """A port p such that p ... p+count-1 are all free on 127.0.0.1 (asked of the kernel, then checked)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = int(probe.getsockname()[1])
        if base + count >= 65535:
            continue
        taken = False
        for port in range(base, base + count):
            with socket.socket() as sock:
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    taken = True
                    break
        if not taken:
            return base
    raise RuntimeError(f"no run of {count} free ports")


@dataclass
class Running:
    cluster: Any  # scripts/cluster.py's Cluster
    org: Org


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    _need_browser()
    _need(None if PG_AVAILABLE else "no PostgreSQL server answers")
    module = load_cluster_module()
    _need(None if shutil.which("nginx") or Path(module.NGINX).exists() else "nginx is not installed")
    url, name = make_pg_database()
    db = Database(url)
    try:
        upgrade(db)
        org = _fill(db)
        cluster = module.Cluster(url, replicas=2, port=free_port_run(3),
                                 run_dir=tmp_path_factory.mktemp("cluster"),
                                 extra_env={"EMPOWERMENT_SECRET_KEY": "cluster-" + "k" * 40,
                                            "EMPOWERMENT_DEMO_ON_EMPTY": "0"})
        with cluster:
            yield Running(cluster, org)
    finally:
        db.dispose()
        drop_pg_database(name)
