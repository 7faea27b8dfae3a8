"""Nothing escapes: real sockets and real DNS stay out of a simulation.

While a `SimLoop` runs, on a thread the simulation controls,
``socket.socket(family, type)`` makes a *simulated* socket (for TCP and UDP
over IPv4 and IPv6): libraries that create their sockets themselves and hand
them to the loop (aiohttp's happy eyeballs, pytest-aiohttp's test server)
run unchanged, whenever they were imported. What cannot be simulated is
refused with `simloop.RealIOError` naming the call: a socket wrapping a real
descriptor (``socket.socketpair``, ``fromfd``), other families (Unix
sockets), and real name lookups (``socket.getaddrinfo``, ``gethostbyname``,
``getnameinfo``...). Other threads (pytest's, xdist's) are untouched, and
everything is restored when the loop stops.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Iterator
from typing import Any

from .._core import active_loop
from .._determinism import in_simulation
from .._errors import RealIOError
from ._network import Network

_real_socket_new = socket.socket.__new__
_LOOKUPS = ("getaddrinfo", "getnameinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr")
_real_lookups: dict[str, Callable[..., Any]] = {name: getattr(socket, name) for name in _LOOKUPS}
_SIMULATED_FAMILIES = (-1, socket.AF_INET, socket.AF_INET6)
_SIMULATED_TYPES = (-1, socket.SOCK_STREAM, socket.SOCK_DGRAM)
_TYPE_FLAGS = getattr(socket, "SOCK_NONBLOCK", 0) | getattr(socket, "SOCK_CLOEXEC", 0)


def _refusal(call: str, instead: str) -> RealIOError:
    loop = active_loop()
    return RealIOError(
        f"{call} would use the real network inside a simulation; {instead}",
        seed=None if loop is None else loop.seed,
        virtual_time=0.0 if loop is None else loop.virtual_time(),
    )


def _simulated_socket_new(
    cls: type[socket.socket],
    family: int = -1,
    type: int = -1,
    proto: int = -1,
    fileno: Any = None,
) -> Any:
    """``socket.socket.__new__`` while a simulation runs: a simulated socket
    on the simulation's thread (its ``__init__`` is then not called, since it
    is no real socket), the real one elsewhere."""
    if not in_simulation():
        return _real_socket_new(cls)
    loop = active_loop()
    assert loop is not None
    if fileno is not None:
        raise _refusal(
            "socket.socket(fileno=...)",
            "a real descriptor cannot join the simulated network (socketpair() and "
            "fromfd() make one); use asyncio's streams or loop.network.socket()",
        )
    kind = type if type == -1 else type & ~_TYPE_FLAGS
    if family not in _SIMULATED_FAMILIES or kind not in _SIMULATED_TYPES:
        raise _refusal(
            f"socket.socket({family!r}, {type!r})",
            "only TCP and UDP over IPv4 and IPv6 are simulated",
        )
    network: Network = getattr(loop, "network")  # noqa: B009 - a SimLoop's, typed here
    return network.socket(
        socket.AF_INET if family == -1 else family,
        socket.SOCK_STREAM if type == -1 else type,
        max(proto, 0),
    )


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
_DESCRIPTORS = ("socketpair", "fromfd")
_real_descriptors: dict[str, Callable[..., Any]] = {
    name: getattr(socket, name) for name in _DESCRIPTORS
}


def _guarded_descriptor(name: str) -> Callable[..., Any]:
    real = _real_descriptors[name]

    def make(*args: Any, **kwargs: Any) -> Any:
        if in_simulation():
            raise _refusal(
                f"socket.{name}()",
                "it makes real descriptors, which cannot join the simulated network; "
                "use asyncio's streams, or loop.network.socket() for the loop.sock_* API",
            )
        return real(*args, **kwargs)

    make.__name__ = name
    make.__doc__ = f"simloop: socket.{name}, refused inside a simulation."
    return make


_guarded_descriptors = {name: _guarded_descriptor(name) for name in _DESCRIPTORS}


def install_guard() -> None:
    """Simulate the sockets the program makes, and refuse real DNS and real
    descriptors, until `remove_guard` (a loop holds it while it runs)."""
    socket.socket.__new__ = _simulated_socket_new  # type: ignore[assignment]
    for name, guarded in (*_guarded_lookups.items(), *_guarded_descriptors.items()):
        setattr(socket, name, guarded)


def remove_guard() -> None:
    for name, real in (*_real_lookups.items(), *_real_descriptors.items()):
        setattr(socket, name, real)
    with contextlib.suppress(AttributeError):
        del socket.socket.__new__  # back to _socket.socket's own


@contextlib.contextmanager
def guard_real_network() -> Iterator[None]:
    """`install_guard` for the length of a block."""
    install_guard()
    try:
        yield
    finally:
        remove_guard()
