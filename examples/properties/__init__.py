"""Bugs a final assert misses, and the checks that catch them.

- `worker_pool.py`: a pool that never drains after a partition heals
  (`simloop.converge`: heal, then converge).
- `cache_update.py`: an update that is not cancellation-safe, found only by
  cancelling it at every await (`strategies.InjectCancellation`).
- `replicated_register.py`: a register replicated on two hosts that loses
  linearizability under a partition (`simloop.check.History` and the
  linearizability checker).

Each module has a buggy version and its fixed twin; `test_properties.py` runs
them as simloop tests: the buggy versions fail, the fixed twins pass.
"""
