"""The network's promises hold under many seeds of the default strategy, and
with faults on (bench/echo_seeds.py runs a thousand).

Covers simloop/net/_tcp.py, _transport.py, simloop/strategies/_network.py.
"""

from __future__ import annotations

from echo_scenario import run_seed

from simloop.strategies import Random


def test_a_healthy_network_completes_every_connection() -> None:
    for seed in range(40):
        outcome = run_seed(seed)
        assert outcome.violations == [], f"seed {seed}: {outcome.violations}"
        assert outcome.open_left == [], f"seed {seed}: {outcome.open_left}"
        assert (outcome.complete, outcome.cut_short, outcome.refused) == (3, 0, 0), seed


def test_echo_with_faults_never_loses_duplicates_or_reorders_bytes_and_leaves_nothing_open() -> (
    None
):
    complete = cut_short = refused = 0
    for seed in range(40):
        outcome = run_seed(seed, Random(faults=True))
        assert outcome.violations == [], f"seed {seed}: {outcome.violations}"
        assert outcome.open_left == [], f"seed {seed}: {outcome.open_left}"
        complete += outcome.complete
        cut_short += outcome.cut_short
        refused += outcome.refused
    # Most connections complete; faults cut or refuse a few.
    assert complete > cut_short + refused
    assert cut_short + refused > 0


def test_echo_under_fifo_always_completes() -> None:
    outcome = run_seed(0, strategy="fifo")
    assert (outcome.violations, outcome.complete, outcome.open_left) == ([], 3, [])
