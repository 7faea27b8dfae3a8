"""The seed pool that xdist workers share: claims, failures, and nobody waits forever.

Covers pytest_simloop/_xdist.py.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from pytest_simloop._xdist import BlockResult, Pool, primary_nodeid


def test_two_workers_claim_disjoint_blocks_covering_every_seed(tmp_path: Path) -> None:
    test, helper = (Pool(tmp_path, "t.py::test", range(100), workers=2) for _ in range(2))
    claimed: dict[str, list[int]] = {"test": [], "helper": []}
    blocks_of_test, blocks_of_helper = test.unclaimed_blocks(), helper.unclaimed_blocks()
    for name, blocks in [("test", blocks_of_test), ("helper", blocks_of_helper)] * 50:
        index = next(blocks, None)
        if index is not None:
            claimed[name].append(index)
    assert sorted(claimed["test"] + claimed["helper"]) == list(range(test.blocks))
    assert claimed["test"]
    assert claimed["helper"]
    seeds = [seed for index in range(test.blocks) for seed in test.block(index)]
    assert seeds == list(range(100))


def test_blocks_after_a_known_failure_are_not_claimed(tmp_path: Path) -> None:
    pool = Pool(tmp_path, "t.py::test", range(100), workers=2)
    pool.publish(1, BlockResult(ran=3, failed=pool.block(1).start + 2))
    remaining = list(pool.unclaimed_blocks())
    assert remaining == [0, 1]  # block 1 holds the failure; 2 and later start after it
    assert pool.best_failure() == pool.block(1).start + 2


def test_the_smallest_failure_wins(tmp_path: Path) -> None:
    pool = Pool(tmp_path, "t.py::test", range(100), workers=2)
    pool.publish(3, BlockResult(ran=1, failed=pool.block(3).start))
    pool.publish(1, BlockResult(ran=1, failed=pool.block(1).start + 1))
    assert pool.best_failure() == pool.block(1).start + 1


def test_a_released_block_is_run_by_the_test_instead_of_waited_for(tmp_path: Path) -> None:
    test = Pool(tmp_path, "t.py::test", range(40), workers=2)
    helper = Pool(tmp_path, "t.py::test", range(40), workers=2)
    for index in range(test.blocks):
        assert helper.claim(index)
    helper.release(2)  # the helper was interrupted in block 2
    for index in range(test.blocks):
        if index != 2:
            helper.publish(index, BlockResult(ran=len(helper.block(index))))
    # (the test runs each yielded block before asking for the next)
    assert next(test.wait_for_others()) == 2


def test_a_helper_id_leads_back_to_its_test() -> None:
    def item(nodeid: str, part: int) -> pytest.Item:
        callspec = SimpleNamespace(params={"_simloop_part": part})
        return SimpleNamespace(nodeid=nodeid, callspec=callspec)  # type: ignore[return-value]

    assert primary_nodeid(item("a.py::test[simloop-helper-1]", 1)) == "a.py::test"
    assert primary_nodeid(item("a.py::test[x-2-simloop-helper-3]", 3)) == "a.py::test[x-2]"
    assert primary_nodeid(item("a.py::test[x]", 0)) == "a.py::test[x]"
