"""A long sweep shows seeds done and seeds per second while it runs.

Covers pytest_simloop/_progress.py.
"""

from __future__ import annotations

import re

import pytest

from pytest_simloop import _progress


def test_a_long_sweep_writes_progress_lines_to_a_log(
    tester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Not a terminal: a line every PROGRESS_LOG_EVERY seconds, here every seed.
    monkeypatch.setattr(_progress, "PROGRESS_AFTER", 0.0)
    monkeypatch.setattr(_progress, "PROGRESS_LOG_EVERY", 0.0)
    tester.makepyfile(
        test_long="""
        import pytest

        @pytest.mark.simloop(seeds=5)
        async def test_sweep():
            pass
        """
    )
    result = tester.runpytest()
    result.assert_outcomes(passed=1)
    progress = [line for line in result.outlines if line.startswith("simloop: test_long.py")]
    assert [re.sub(r", \d+ seeds/s$", "", line) for line in progress] == [
        f"simloop: test_long.py::test_sweep: {done}/5 seeds" for done in range(1, 6)
    ]


def test_a_short_sweep_writes_no_progress(tester: pytest.Pytester) -> None:
    tester.makepyfile(
        test_short="""
        import pytest

        @pytest.mark.simloop(seeds=5)
        async def test_sweep():
            pass
        """
    )
    result = tester.runpytest()
    assert not [line for line in result.outlines if line.startswith("simloop: test_short.py")]
