"""The generated nginx configuration, without starting anything: nginx itself accepts both the
local and the server variant, and each carries what docs/DEPLOYMENT.md promises."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cluster.conftest import load_cluster_module

cluster = load_cluster_module()


def _nginx_accepts(run_dir: Path, text: str) -> None:
    if not (shutil.which("nginx") or Path(cluster.NGINX).exists()):
        pytest.skip("nginx is not installed")
    conf = run_dir / "nginx.conf"
    conf.write_text(text)
    result = subprocess.run([cluster.NGINX, "-t", "-p", str(run_dir), "-e", str(run_dir / "error.log"),
                             "-c", str(conf)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("server", [False, True], ids=["local", "server"])
def test_the_configuration_is_valid_sticky_and_websocket_friendly(tmp_path: Path, server: bool) -> None:
    text = cluster.nginx_config(tmp_path, 18500, [18501, 18502, 18503],
                                listen_address="0.0.0.0" if server else "127.0.0.1", replica_header=not server)
    _nginx_accepts(tmp_path, text)
    assert "hash $route_key consistent;" in text and "ip_hash" not in text
    assert text.count("server 127.0.0.1:185") == 3
    assert "proxy_set_header Upgrade $http_upgrade;" in text
    assert "proxy_set_header Connection $connection_upgrade;" in text
    read_timeout = int(re.search(r"proxy_read_timeout (\d+)s;", text).group(1))  # type: ignore[union-attr]
    assert read_timeout >= 600  # well past AWS ALB's 60 s and nginx's own 60 s default
    assert 'add_header Set-Cookie $route_cookie always;' in text
    assert (cluster.REPLICA_HEADER in text) is (not server)
    assert f"listen {'0.0.0.0' if server else '127.0.0.1'}:18500;" in text
    assert str(tmp_path) in text and "/var/" not in text and "/etc/" not in text


def test_the_print_option_gives_the_server_variant(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert cluster.main(["--print-nginx", str(tmp_path), "--replicas", "2", "--port", "9000"]) == 0
    text = capsys.readouterr().out
    assert "listen 0.0.0.0:9000;" in text and "127.0.0.1:9001" in text and "127.0.0.1:9002" in text
    assert cluster.REPLICA_HEADER not in text
    _nginx_accepts(tmp_path, text)
