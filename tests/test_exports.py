"""The public API, pinned: what `import simloop` and its packages offer.
A change here is a change users see: add to the lists on purpose, and say
so in the docs.

Covers simloop/__init__.py, simloop/strategies/__init__.py, simloop/net/__init__.py,
simloop/check/__init__.py, pytest_simloop/__init__.py.
"""

from __future__ import annotations

import importlib
import inspect

import pytest

PUBLIC = {
    "simloop": [
        "ChoiceLog", "Convergence", "DEFAULT_STEP_LIMIT", "DEFAULT_TIME_LIMIT", "Deadlock",
        "EventLoopPolicy", "Explanation", "Findings", "InvariantViolation", "Leftovers",
        "Livelock", "LivenessViolation", "Minimized", "Network", "RealIOError", "ShrinkResult",
        "SimLoop", "SimulationError", "StepLimitExceeded", "Strategy", "TimeLimitExceeded",
        "UnhandledError", "always", "buggify", "check", "converge", "eventually", "explain",
        "failure_signature", "in_simulation", "invariant", "minimize", "net", "network", "run",
        "run_on", "shrink", "sometimes", "strategies",
    ],
    "simloop.strategies": [
        "CATEGORIES", "CancellingSchedule", "ChoiceKind", "ChoiceLog", "ChoicePoint",
        "DELIVERY_KINDS", "FIFO_LATENCY", "FaultPlan", "Fifo", "HEALTHY_BOUND",
        "InjectCancellation", "KINDS", "NETWORK_KINDS", "NO_COST", "NetworkProfile", "PCT",
        "PCTSchedule", "POINTS", "Position", "Profile", "Random", "RandomSchedule", "Replay",
        "ReplaySchedule", "STRATEGIES", "Schedule", "Strategy", "Streams", "TRACE_KINDS",
        "derive_seed", "fifo_value", "register_kind", "register_point", "resolve",
    ],
    "simloop.net": [
        "CONNECT_TIMEOUT", "Host", "Link", "Network", "RECEIVE_WINDOW", "SimServer", "SimSocket",
        "TcpTransport", "UdpTransport", "network",
    ],
    "simloop.check": [
        "Counter", "DEFAULT_MAX_STATES", "FifoQueue", "History", "KeyValueMap", "Model",
        "NotLinearizable", "Operation", "Register", "Status", "Undecided", "assert_linearizable",
        "is_linearizable",
    ],
    "pytest_simloop": ["SimloopLeftoversWarning", "SimloopUnhandledErrorWarning", "SimloopWarning"],
}  # fmt: skip


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_the_public_names_are_these(module: str) -> None:
    loaded = importlib.import_module(module)
    assert sorted(loaded.__all__) == sorted(PUBLIC[module])
    for name in loaded.__all__:
        assert hasattr(loaded, name), f"{module}.{name} is listed but missing"


def test_simloop_run_is_the_function_and_its_module_is_private() -> None:
    import simloop

    assert inspect.isfunction(simloop.run)
    assert simloop.run.__module__ == "simloop._run"
    assert simloop.run_on.__module__ == "simloop._run"
    assert importlib.import_module("simloop._run").run is simloop.run
