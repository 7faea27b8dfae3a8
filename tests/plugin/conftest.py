"""The plugin's tests run pytest on generated files (pytester)."""

from __future__ import annotations

import hypothesis  # noqa: F401 - imported once here, not again in every in-process run
import pytest
from plugin_helpers import INI


@pytest.fixture
def tester(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester project with a strict ini (extra ini lines via `ini()`)."""
    pytester.makeini(INI.format(extra=""))
    return pytester
