"""pytest plugin for simloop: run ``@pytest.mark.simloop`` tests under many seeds."""
