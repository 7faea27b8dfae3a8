"""Nothing escapes: real sockets and real DNS are refused inside a simulation.

While a `SimLoop` runs, a real socket (``socket.socket(...)``, and so
``socket.create_connection``, ``socketpair``...) or a real name lookup
(``socket.getaddrinfo``, ``gethostbyname``, ``getnameinfo``...) made on a
thread the simulation controls raises `simloop.RealIOError` naming the call.
Other threads (pytest's, xdist's) are untouched, and everything is restored
when the loop stops.

Shims for libraries that make sockets themselves live here too, never in
user code: aiohttp connects through aiohappyeyeballs, which creates a
``socket.socket`` and hands it to ``loop.sock_connect``; inside a simulation
its ``socket`` module is one whose ``socket()`` makes a simulated socket.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import types
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from .._determinism import active_loop, in_simulation
from .._errors import RealIOError

if TYPE_CHECKING:
    from ._loop_api import NetworkLoop

_real_socket_init = socket.socket.__init__
_LOOKUPS = ("getaddrinfo", "getnameinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr")
_real_lookups: dict[str, Callable[..., Any]] = {name: getattr(socket, name) for name in _LOOKUPS}
#: modules whose global ``socket`` is swapped for `_SimulatedSocketModule` during a run
_SHIMMED_MODULES = ("aiohappyeyeballs.impl",)


def _refusal(call: str, instead: str) -> RealIOError:
    loop = active_loop()
    return RealIOError(
        f"{call} would use the real network inside a simulation; {instead}",
        seed=None if loop is None else loop.seed,
        virtual_time=0.0 if loop is None else loop.virtual_time(),
    )


def _guarded_socket_init(self: socket.socket, *args: Any, **kwargs: Any) -> None:
    if in_simulation():
        raise _refusal(
            "socket.socket()",
            "use asyncio.open_connection / loop.create_connection / loop.create_server, "
            "or loop.network.socket() for the loop.sock_* API",
        )
    _real_socket_init(self, *args, **kwargs)


def _guarded_lookup(name: str) -> Callable[..., Any]:
    real = _real_lookups[name]

    def lookup(*args: Any, **kwargs: Any) -> Any:
        if in_simulation():
            shown = ", ".join(repr(arg) for arg in args[:2])
            raise _refusal(
                f"socket.{name}({shown})",
                f"use await loop.{'getnameinfo' if name == 'getnameinfo' else 'getaddrinfo'}"
                "(...), which the simulated network answers "
                "(add names with loop.network.add_host)",
            )
        return real(*args, **kwargs)

    lookup.__name__ = name
    lookup.__doc__ = f"simloop: socket.{name}, refused inside a simulation."
    return lookup


_guarded_lookups = {name: _guarded_lookup(name) for name in _LOOKUPS}


class _SimulatedSocketModule(types.ModuleType):
    """The socket module, except that ``socket()`` inside a simulation makes a
    simulated socket (for libraries that create sockets for ``loop.sock_*``)."""

    def __init__(self) -> None:
        super().__init__("socket")

    def __getattr__(self, name: str) -> Any:
        return getattr(socket, name)

    @staticmethod
    def socket(
        family: int = socket.AF_INET,
        type: int = socket.SOCK_STREAM,
        proto: int = 0,
        fileno: Any = None,
    ) -> Any:
        loop = active_loop()
        if loop is None or not in_simulation() or fileno is not None:
            return socket.socket(family, type, proto, fileno)
        return loop.network.socket(family, type, proto)


_simulated_socket_module = _SimulatedSocketModule()


@contextlib.contextmanager
def guard_real_network(loop: NetworkLoop) -> Iterator[None]:
    """Refuse real sockets and DNS, and install library shims, while `loop` runs."""
    socket.socket.__init__ = _guarded_socket_init  # type: ignore[method-assign]
    for name, guarded in _guarded_lookups.items():
        setattr(socket, name, guarded)
    shimmed = []
    for module_name in _SHIMMED_MODULES:
        module = sys.modules.get(module_name)
        if module is not None and getattr(module, "socket", None) is socket:
            module.socket = _simulated_socket_module  # type: ignore[attr-defined]
            shimmed.append(module)
    try:
        yield
    finally:
        for module in shimmed:
            module.socket = socket  # type: ignore[attr-defined]
        for name, real in _real_lookups.items():
            setattr(socket, name, real)
        socket.socket.__init__ = _real_socket_init  # type: ignore[method-assign]
