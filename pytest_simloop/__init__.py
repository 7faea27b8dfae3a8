"""pytest plugin for simloop: run ``@pytest.mark.simloop`` tests under many seeds."""

from ._warnings import SimloopLeftoversWarning, SimloopUnhandledErrorWarning, SimloopWarning

__all__ = ["SimloopLeftoversWarning", "SimloopUnhandledErrorWarning", "SimloopWarning"]
