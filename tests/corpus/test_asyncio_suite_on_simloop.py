"""The pytest-asyncio file of the corpus (asyncio_suite/), unchanged, on
simloop's sweep with --simloop-all: every test passes every seed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SUITE = Path(__file__).parent / "asyncio_suite"


def test_a_pytest_asyncio_file_passes_every_seed_with_simloop_all(tmp_path: Path) -> None:
    seeds = os.environ.get("SIMLOOP_CORPUS_SEEDS", "100")
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(SUITE),
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            "--simloop-all",
            f"--simloop-seeds={seeds}",
            "-q",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    summary = [line for line in completed.stdout.splitlines() if f": {seeds} seeds in " in line]
    assert len(summary) == 6, completed.stdout
