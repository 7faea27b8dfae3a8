"""The simloop pytest plugin (registered under ``pytest11`` as ``simloop``).

Kept light: it imports the engine only inside hooks, so loading the plugin
costs nothing for suites that do not use it.
"""
