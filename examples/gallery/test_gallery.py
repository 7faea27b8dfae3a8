"""The gallery as simloop tests: every buggy version fails, every fixed twin passes.

    pytest examples/gallery --simloop-seeds=1000

Each ``test_buggy`` is expected to FAIL: the failure report shows the seed
that found the bug, the command that replays it, and the simplest schedule
that still fails. Each ``test_fixed`` must pass every seed. ``make demo``
runs this file and checks exactly that.
"""

from __future__ import annotations

import pytest

from examples.gallery import Bug, bugs

GALLERY = bugs()
#: the stdlib's own classes, where the running Python still has the bug
STDLIB = [bug for bug in GALLERY if bug.stdlib is not None and bug.stdlib_has_bug]
#: the bugs that show only when the network misbehaves
WITH_FAULTS = [bug for bug in GALLERY if bug.faults]


def label(bug: Bug) -> str:
    return bug.label.replace(" ", "_")


def as_asked(bug: Bug) -> object:
    """The bug as a test parameter, with faults on where it needs them."""
    marks = [pytest.mark.simloop(faults=True)] if bug.faults else []
    return pytest.param(bug, marks=marks, id=label(bug))


@pytest.mark.simloop
@pytest.mark.parametrize("bug", [as_asked(bug) for bug in GALLERY])
async def test_buggy(bug: Bug) -> None:
    await bug.scenario(bug.buggy)


@pytest.mark.simloop
@pytest.mark.parametrize("bug", [as_asked(bug) for bug in GALLERY])
async def test_fixed(bug: Bug) -> None:
    await bug.scenario(bug.fixed)


@pytest.mark.simloop
@pytest.mark.parametrize("bug", WITH_FAULTS, ids=label)
async def test_buggy_passes_without_faults(bug: Bug) -> None:
    """The default world injects no fault: a bug that needs one is no red test there."""
    await bug.scenario(bug.buggy)


@pytest.mark.simloop
@pytest.mark.parametrize("bug", STDLIB, ids=label)
async def test_stdlib(bug: Bug) -> None:
    await bug.scenario(bug.stdlib)
