"""`.ci/run` on a machine that lacks the system packages the suite needs: it installs them with apt-get.

The commands it calls (pg_isready, redis-cli, dpkg-query, apt-get, make…) are stand-ins on PATH that
record their arguments, so the script runs as it would on a fresh CI machine without installing
anything here.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _stub(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f'#!/bin/sh\necho "{name} $*" >> "$CALLS"\n{body}\n')
    path.chmod(0o755)


@pytest.mark.parametrize(
    ("installed", "wanted"),
    [
        ("", {"chromium", "poppler-utils", "fonts-noto-cjk"}),
        ("chromium pdftotext", {"fonts-noto-cjk"}),
    ],
)
def test_ci_installs_chromium_poppler_and_japanese_fonts_when_missing(tmp_path, installed, wanted):
    bin_dir, calls = tmp_path / "bin", tmp_path / "calls"
    bin_dir.mkdir()
    for name in ("pg_isready", "redis-cli", "apt-get", "make"):
        _stub(bin_dir, name, "exit 0")
    _stub(bin_dir, "dpkg-query", "exit 1")  # no package is installed
    for name in installed.split():
        _stub(bin_dir, name, "exit 0")
    # Only the stand-ins and the shell's own tools: no real chromium or pdftotext is found.
    tools = tmp_path / "tools"
    tools.mkdir()
    for tool in ("bash", "sh", "dirname", "grep", "seq", "ls", "head", "cat", "env"):
        real = next(Path(d) / tool for d in ("/usr/bin", "/bin") if (Path(d) / tool).exists())
        (tools / tool).symlink_to(real)
    env = {"PATH": f"{bin_dir}:{tools}", "CALLS": str(calls), "HOME": os.environ.get("HOME", "/tmp")}
    result = subprocess.run(
        [str(tools / "bash"), str(ROOT / ".ci" / "run")], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    install = [line for line in calls.read_text().splitlines() if line.startswith("apt-get install")]
    assert len(install) == 1
    assert set(install[0].split()) - {"apt-get", "install", "-y", "-qq"} == wanted
    assert "make test" in calls.read_text()
