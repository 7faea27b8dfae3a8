"""The property examples as simloop tests: buggy versions fail, fixed twins pass.

pytest examples/properties --simloop-seeds=200
"""

from __future__ import annotations

import pytest

from examples.properties import cache_update, replicated_register, worker_pool
from simloop.strategies import InjectCancellation

cancel_updates = InjectCancellation("update-*", rate=0.5)


@pytest.mark.simloop
async def test_worker_pool_buggy() -> None:
    await worker_pool.buggy()


@pytest.mark.simloop
async def test_worker_pool_fixed() -> None:
    await worker_pool.fixed()


@pytest.mark.simloop
async def test_cache_update_buggy_passes_a_plain_sweep() -> None:
    await cache_update.buggy()


@pytest.mark.simloop(strategy=cancel_updates)
async def test_cache_update_buggy() -> None:
    await cache_update.buggy()


@pytest.mark.simloop(strategy=cancel_updates)
async def test_cache_update_fixed() -> None:
    await cache_update.fixed()


@pytest.mark.simloop
async def test_replicated_register_buggy() -> None:
    await replicated_register.buggy()


@pytest.mark.simloop
async def test_replicated_register_fixed() -> None:
    await replicated_register.fixed()
