"""The CI entry point is a shell script nothing else runs before CI does: check its syntax here.

A merge once spliced a block into its header comment; CI then failed in 0 s on a syntax error
that no test had looked for.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("script", [".ci/run"])
def test_shell_script_parses(script: str) -> None:
    bash = shutil.which("bash")
    assert bash, "bash is needed to check the CI script"
    result = subprocess.run([bash, "-n", str(ROOT / script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_ci_script_ends_by_running_make_test() -> None:
    lines = [line.strip() for line in (ROOT / ".ci/run").read_text().splitlines() if line.strip()]
    assert lines[-1] == "make test"
    # Helpers it calls are defined before their first use.
    text = (ROOT / ".ci/run").read_text()
    assert text.index("as_root()") < text.index("as_root ")
