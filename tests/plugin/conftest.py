"""The plugin's tests run pytest on generated files (pytester)."""

from __future__ import annotations

import pytest
from plugin_helpers import INI


@pytest.fixture
def tester(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester project with a strict ini (extra ini lines via `ini()`)."""
    pytester.makeini(INI.format(extra=""))
    return pytester
