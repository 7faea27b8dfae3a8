"""The simulated network of one run: hosts, names, links and faults.

Every simulation has one `Network` (``loop.network`` or `simloop.network()`),
made on first use. It starts with one host, ``main``, which owns 127.0.0.1,
::1, 10.0.0.1 and fd00::1; the program runs there unless it says otherwise with
`Network.on`. More hosts come with `Network.add_host`.

Every delivery (a connect, an accept, a TCP segment, a datagram, a DNS answer)
goes through `Network.arrival`, which asks the run's `Choices` how long it
takes and applies the faults a test scripted (`partition`, `clog`,
`set_latency`) or the strategy drew.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import itertools
import socket
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ._addresses import (
    EPHEMERAL_FIRST,
    EPHEMERAL_LAST,
    IPV4_ANY,
    IPV4_LOOPBACK,
    IPV6_ANY,
    IPV6_LOOPBACK,
    family_of,
    is_loopback,
    is_wildcard,
    parse_ip,
)
from ._states import CLOGGED, OPEN, PARTITIONED

if TYPE_CHECKING:
    from .._core import CoreLoop
    from ._socket import SimSocket
    from ._tcp import Connection, Listener
    from ._udp import UdpEndpoint

#: The host the running code is on (task-local: tasks inherit it when created).
_current_host: contextvars.ContextVar[Host | None] = contextvars.ContextVar(
    "simloop_host", default=None
)

DEFAULT_HOST = "main"
DEFAULT_ADDRESSES = ("10.0.0.1", "fd00::1")
#: Deliveries that TCP sends again when they are lost (a fault): data and SYNs.
_RETRANSMITTED = frozenset({"segment", "connect"})


class Host:
    """A machine on the simulated network: its addresses and its ports.

    Every host also has its own loopback (127.0.0.1 and ::1 mean "this host").
    """

    def __init__(self, network: Network, name: str, addresses: Sequence[str]) -> None:
        self.network = network
        self.name = name
        #: its own addresses, loopback excluded, in the order given
        self.addresses = list(addresses)
        #: virtual time until which everything to or from this host waits
        self.clogged_until = 0.0
        #: (family, ip, port) -> what is bound there (a listener, a socket, an endpoint)
        self.tcp_bound: dict[tuple[int, str, int], object] = {}
        self.udp_bound: dict[tuple[int, str, int], UdpEndpoint] = {}
        self.listeners: dict[tuple[int, str, int], Listener] = {}
        self._next_port = EPHEMERAL_FIRST

    def __repr__(self) -> str:
        return f"<Host {self.name} {' '.join(self.addresses)}>"

    def owns(self, ip: str) -> bool:
        """Whether `ip` is one of this host's addresses (loopback and wildcards included)."""
        return is_loopback(ip) or is_wildcard(ip) or ip in self.addresses

    def source_address(self, family: int, destination: str) -> str:
        """The address this host's packets to `destination` come from."""
        if is_loopback(destination) or is_wildcard(destination) or destination in self.addresses:
            if destination in self.addresses:
                return destination
            return IPV6_LOOPBACK if family == socket.AF_INET6 else IPV4_LOOPBACK
        for address in self.addresses:
            if family_of(address) == family:
                return address
        # No address of that family: no route, as the kernel would say.
        raise OSError(errno.ENETUNREACH, "Network is unreachable")

    def free_port(self, bound: dict[tuple[int, str, int], Any], family: int) -> int:
        """An unused ephemeral port, handed out in order as a fresh kernel does."""
        span = EPHEMERAL_LAST - EPHEMERAL_FIRST + 1
        for _ in range(span):
            port = self._next_port
            self._next_port = EPHEMERAL_FIRST + (port + 1 - EPHEMERAL_FIRST) % span
            if not any(key[2] == port and key[0] == family for key in bound):
                return port
        raise OSError(98, "Address already in use")

    def conflicts(
        self, bound: dict[tuple[int, str, int], Any], family: int, ip: str, port: int
    ) -> bool:
        """Whether binding (ip, port) clashes with something bound already."""
        for other_family, other_ip, other_port in bound:
            if other_port != port or other_family != family:
                continue
            if other_ip == ip or is_wildcard(other_ip) or is_wildcard(ip):
                return True
        return False

    def listener_at(self, family: int, ip: str, port: int) -> Listener | None:
        listeners = self.listeners
        found = listeners.get((family, ip, port))
        if found is None:
            found = listeners.get(
                (family, IPV6_ANY if family == socket.AF_INET6 else IPV4_ANY, port)
            )
        return found


class Link:
    """The one-way path from one host to another, with the faults on it."""

    __slots__ = ("clogged_until", "destination", "held", "latency", "partitioned", "source")

    def __init__(self, source: Host, destination: Host) -> None:
        self.source = source
        self.destination = destination
        #: fixed one-way latency set by a test (None: the strategy decides)
        self.latency: float | None = None
        #: cut by `Network.partition` until `Network.heal`
        self.partitioned = False
        self.clogged_until = 0.0
        #: deliveries waiting for the partition to heal: callbacks to re-send them
        self.held: list[Callable[[], None]] = []

    def __repr__(self) -> str:
        return f"<Link {self.source.name} -> {self.destination.name}>"


class Network:
    """The hosts, names and links of one simulation, and the faults on them.

    Tests script faults with `partition`, `heal`, `clog`, `set_latency` and
    `reset`; strategies draw them (see `simloop.strategies.NetworkProfile`).
    """

    def __init__(self, loop: CoreLoop) -> None:
        self.loop = loop
        self.choices = loop.choices
        self.choices.network_used = True
        self.hosts: dict[str, Host] = {}
        self._by_address: dict[str, Host] = {}
        #: DNS: name -> addresses
        self._names: dict[str, list[str]] = {}
        self._links: dict[tuple[str, str], Link] = {}
        #: transports, servers and sockets the program has not closed, in creation order
        self._open: dict[int, object] = {}
        self._open_serials = itertools.count()
        self._descriptors = itertools.count(1000)
        #: TCP connections alive, for `reset`
        self.connections: set[Connection] = set()
        #: numbers connections in the order they were made (resets go in that order)
        self.connection_serials = itertools.count()
        self.default_host = self.add_host(DEFAULT_HOST, *DEFAULT_ADDRESSES)
        #: no fault has been scripted and the strategy injects no partition
        self._calm = True
        window = self.choices.partition_window()
        #: the partition the strategy injects: [start, end) and the index of the host cut off
        self._window_start, self._window_end, self._window_victim = (
            (window[0], window[0] + window[1], window[2]) if window else (0.0, 0.0, 0)
        )
        if window:
            self._calm = False
        #: whether the strategy may refuse connects, reset streams, lose,
        #: retransmit or duplicate (until `stop_faults`)...
        self.injects_faults = self.choices.injects_faults
        #: ... and when: only inside these [start, end) spans of virtual time
        self._episodes = self.choices.fault_episodes() if self.injects_faults else ()

    def __repr__(self) -> str:
        return f"<Network hosts={list(self.hosts)}>"

    # -- hosts and names ---------------------------------------------------

    def add_host(self, name: str, *addresses: str) -> Host:
        """Add a host called `name` (resolvable by that name) owning `addresses`.

        Example: ``net.add_host("db", "10.0.0.2")``. Raises ValueError for a
        name or address already taken, or an address that is not numeric.
        """
        if not name:
            raise ValueError(f"a host needs a non-empty name, not {name!r}")
        key = name.lower()
        if key in self.hosts or key == "localhost":
            raise ValueError(f"there is already a host called {name!r}; hosts: {list(self.hosts)}")
        if not addresses:
            raise ValueError(f"host {name!r} needs at least one address, like '10.0.0.2'")
        canonical = []
        for address in addresses:
            parsed = parse_ip(address)
            if parsed is None:
                raise ValueError(f"{address!r} is not a numeric IPv4 or IPv6 address")
            ip = parsed[1]
            if is_loopback(ip) or is_wildcard(ip):
                raise ValueError(
                    f"{address!r} is a loopback or wildcard address; every host has those"
                )
            owner = self._by_address.get(ip)
            if owner is not None:
                raise ValueError(f"address {ip} already belongs to host {owner.name!r}")
            canonical.append(ip)
        host = Host(self, name, canonical)
        self.hosts[key] = host
        for ip in canonical:
            self._by_address[ip] = host
        self._names[key] = list(canonical)
        return host

    def host(self, name: str | Host) -> Host:
        """The host called `name` (or `name` itself, if it is a host of this network)."""
        if isinstance(name, Host):
            if name.network is not self:
                raise ValueError(f"{name!r} belongs to another simulation's network")
            return name
        found = self.hosts.get(str(name).lower())
        if found is None:
            raise ValueError(f"no host called {name!r}; hosts: {', '.join(self.hosts)}")
        return found

    def add_name(self, name: str, *addresses: str) -> None:
        """Make `name` resolve to `addresses` (which need not belong to any host:
        connecting to an address nobody owns times out, as on a real network)."""
        canonical = []
        for address in addresses:
            parsed = parse_ip(address)
            if parsed is None:
                raise ValueError(f"{address!r} is not a numeric IPv4 or IPv6 address")
            canonical.append(parsed[1])
        if not canonical:
            raise ValueError(f"name {name!r} needs at least one address")
        self._names[name.lower().rstrip(".")] = canonical

    def lookup(self, name: str) -> list[str] | None:
        """The addresses DNS gives for `name` on the current host, or None."""
        key = name.lower().rstrip(".")
        if key == "localhost":
            return [IPV4_LOOPBACK]
        return self._names.get(key)

    def name_of(self, ip: str) -> str | None:
        """The name reverse DNS gives for `ip`, or None."""
        if is_loopback(ip):
            return "localhost"
        host = self._by_address.get(ip)
        if host is not None:
            return host.name
        for name, addresses in self._names.items():
            if ip in addresses:
                return name
        return None

    def host_at(self, ip: str, source: Host) -> Host | None:
        """The host that answers at `ip` for packets sent by `source`."""
        if is_loopback(ip) or is_wildcard(ip):
            return source
        return self._by_address.get(ip)

    # -- running on a host -------------------------------------------------

    def current_host(self) -> Host:
        """The host the running code is on (`default_host` unless `on` says otherwise)."""
        host = _current_host.get()
        if host is None or host.network is not self:
            return self.default_host
        return host

    @contextlib.contextmanager
    def on(self, host: str | Host) -> Iterator[Host]:
        """Run the block (and the tasks it creates) on `host`::

            with net.on("db"):
                server = await asyncio.start_server(handle, port=6379)

        Servers bind to that host's addresses and its connections come from
        them. The setting is task-local: it lives in the context, which
        tasks copy when they are created.
        """
        target = self.host(host)
        token = _current_host.set(target)
        try:
            yield target
        finally:
            _current_host.reset(token)

    # -- links and faults --------------------------------------------------

    def link(self, source: Host, destination: Host) -> Link:
        key = (source.name, destination.name)
        found = self._links.get(key)
        if found is None:
            found = self._links[key] = Link(source, destination)
        return found

    def _pairs(
        self, a: str | Host | Iterable[str | Host], b: str | Host | Iterable[str | Host] | None
    ) -> list[tuple[Host, Host]]:
        left = self._hosts_of(a)
        right = list(self.hosts.values()) if b is None else self._hosts_of(b)
        return [(x, y) for x in left for y in right if x is not y]

    def _hosts_of(self, spec: str | Host | Iterable[str | Host]) -> list[Host]:
        if isinstance(spec, (str, Host)):
            return [self.host(spec)]
        return [self.host(item) for item in spec]

    def partition(
        self,
        a: str | Host | Iterable[str | Host],
        b: str | Host | Iterable[str | Host] | None = None,
        *,
        one_way: bool = False,
    ) -> None:
        """Cut the links between hosts `a` and `b` (each a host, a name or
        several) until `heal`; with `one_way`, only from `a` to `b`. With `b`
        None, cut `a` off from every other host.

        TCP segments wait (TCP retransmits them) and arrive after the heal; a
        connect waits too, and fails with TimeoutError after 127 s, as
        Linux's does; datagrams are lost.
        """
        self._calm = False
        for x, y in self._pairs(a, b):
            self.link(x, y).partitioned = True
            if not one_way:
                self.link(y, x).partitioned = True

    def heal(
        self,
        a: str | Host | Iterable[str | Host] | None = None,
        b: str | Host | Iterable[str | Host] | None = None,
    ) -> None:
        """Undo `partition` between `a` and `b` (both ways), or everywhere when
        no host is given. Held TCP segments go on their way, in order."""
        if a is None:
            links = list(self._links.values())
        else:
            links = []
            for x, y in self._pairs(a, b):
                links.extend((self.link(x, y), self.link(y, x)))
        for link in links:
            if link.partitioned:
                link.partitioned = False
                held, link.held = link.held, []
                for resend in held:
                    resend()

    def clog(
        self,
        a: str | Host,
        b: str | Host | None = None,
        *,
        seconds: float,
    ) -> None:
        """Hold everything sent to or from host `a` (or, with `b`, from `a` to
        `b`) for `seconds` of virtual time from now: it arrives after that."""
        self._calm = False
        if not seconds >= 0:
            raise ValueError(f"seconds must be a non-negative number, not {seconds!r}")
        until = self.loop.time() + seconds
        if b is None:
            host = self.host(a)
            host.clogged_until = max(host.clogged_until, until)
            return
        link = self.link(self.host(a), self.host(b))
        link.clogged_until = max(link.clogged_until, until)

    def set_latency(self, a: str | Host, b: str | Host, seconds: float | None) -> None:
        """Make every delivery between hosts `a` and `b` (both ways) take
        exactly `seconds`, whatever the strategy; None gives the link back
        to the strategy."""
        self._calm = False
        if seconds is not None and not seconds >= 0:
            raise ValueError(f"seconds must be a non-negative number or None, not {seconds!r}")
        x, y = self.host(a), self.host(b)
        self.link(x, y).latency = seconds
        self.link(y, x).latency = seconds

    def faulty(self) -> bool:
        """Whether the strategy's faults may strike now (inside a fault episode)."""
        if not self.injects_faults:
            return False
        now = self.loop.time()
        return any(start <= now < end for start, end in self._episodes)

    def stop_faults(self) -> None:
        """The faults are over: heal every partition, lift every clog, end the
        strategy's partition and stop it injecting faults from now on (what
        was already delayed still arrives when its delay ends). The network
        may still be slow; it no longer loses, refuses or cuts anything."""
        now = self.loop.time()
        self.heal()
        for host in self.hosts.values():
            host.clogged_until = min(host.clogged_until, now)
        for link in self._links.values():
            link.clogged_until = min(link.clogged_until, now)
        self._window_end = min(self._window_end, now)
        self.injects_faults = False
        self.trace_event("heal", self, "faults stopped")

    def reset(self, a: str | Host | None = None, b: str | Host | None = None) -> int:
        """Reset the TCP connections between hosts `a` and `b` (all of `a`'s
        when `b` is None, every connection when both are): both ends get
        ConnectionResetError. Returns how many were reset."""
        hosts = None if a is None else {self.host(a)}
        others = None if b is None else {self.host(b)}
        chosen = []
        for connection in self.connections:
            ends = {connection.client.host, connection.server.host}
            if hosts is not None and not hosts & ends:
                continue
            if others is not None and not others & ends:
                continue
            chosen.append(connection)
        chosen.sort(key=lambda connection: connection.serial)
        for connection in chosen:
            connection.reset("reset by the test")
        return len(chosen)

    # -- deliveries --------------------------------------------------------

    def route(self, link: Link) -> tuple[int, float]:
        """The state of `link` now and when it opens: (OPEN, now), (CLOGGED,
        time) or (PARTITIONED, time it heals, or 0 until a test heals it)."""
        if link.partitioned:
            return PARTITIONED, 0.0
        now = self.loop.time()
        opens = now
        source, destination = link.source, link.destination
        clogged = max(link.clogged_until, source.clogged_until, destination.clogged_until)
        if clogged > now:
            opens = clogged
        if self._window_start <= now < self._window_end and self._cuts_off(link):
            # The strategy's partition: TCP waits for its end, datagrams are lost.
            return PARTITIONED, max(opens, self._window_end)
        return (OPEN if opens == now else CLOGGED), opens

    def _cuts_off(self, link: Link) -> bool:
        """Whether the strategy's partition cuts `link`."""
        hosts = list(self.hosts.values())
        victim = hosts[self._window_victim % len(hosts)]
        if len(hosts) == 1:
            return True  # a lone host: its loopback stalls
        source, destination = link.source, link.destination
        return source is not destination and victim in (source, destination)

    def arrival(self, link: Link, kind: str, what: Callable[[], str]) -> float | None:
        """Virtual time at which a delivery of `kind` sent now over `link`
        arrives, or None while the link is partitioned."""
        if self._calm:
            # Nothing scripted or drawn disturbs any link: the common, fast case.
            when = self.delivery_time(kind, what)
        else:
            if link.partitioned:
                return None
            _, opens = self.route(link)
            latency = link.latency
            when = self.delivery_time(kind, what, opens) if latency is None else opens + latency
        if self.injects_faults and kind in _RETRANSMITTED and self.faulty():
            when += self.choices.retransmission(what)
        return when

    def delivery_time(
        self, kind: str, what: Callable[[], str], start: float | None = None
    ) -> float:
        """Virtual time at which a delivery of `kind` arrives when it leaves at
        `start` (now by default), as the strategy draws it."""
        # A delay steered onto a deadline lands on it exactly: in floating
        # point, now + (deadline - now) == deadline.
        return (self.loop.time() if start is None else start) + self.choices.delivery(
            kind, what, self.pending_delays
        )

    def pending_delays(self) -> list[float]:
        """Seconds from now to the deadlines of the program's pending timers
        (the network's own deliveries left out), soonest first."""
        now = self.loop.time()
        delays: list[float] = []
        for handle in self.loop.pending_timers():
            owner = getattr(getattr(handle, "_callback", None), "__self__", None)
            if getattr(owner, "_simloop_network_timer", False):
                continue
            deadline = handle.when()
            delay = deadline - now
            if delay > 0 and (not delays or delay != delays[-1]):
                delays.append(delay)
        return delays

    # -- sockets and resources -------------------------------------------

    def socket(
        self, family: int = socket.AF_INET, type: int = socket.SOCK_STREAM, proto: int = 0
    ) -> SimSocket:
        """A simulated socket on the current host, for the ``loop.sock_*`` API
        (what ``socket.socket(family, type, proto)`` would give)."""
        from ._socket import SimSocket

        return SimSocket(self, family, type, proto)

    def trace_event(self, kind: str, subject: object, detail: str) -> None:
        """Record a network event in the run's timeline (when it records events)."""
        trace = self.loop.trace
        if trace.events is not None:
            trace.record(kind, "net", f"{subject!r}: {detail}")

    def descriptor(self) -> int:
        """A file descriptor number for a simulated socket (never a real one)."""
        return next(self._descriptors)

    def opened(self, resource: object) -> int:
        key = next(self._open_serials)
        self._open[key] = resource
        return key

    def closed(self, key: int) -> None:
        self._open.pop(key, None)

    def tear_down(self) -> None:
        """The simulated world ends: abort every transport and close every
        server and socket still open (as a process exiting would), so that
        nothing reports itself unclosed once its loop is gone."""
        for resource in list(self._open.values()):
            end = getattr(resource, "abort", None) or getattr(resource, "close", None)
            if end is not None:
                with contextlib.suppress(Exception):
                    end()
        self._open.clear()

    def open_resources(self) -> list[str]:
        """Descriptions of the transports, servers and sockets not closed yet."""
        return [repr(resource) for resource in self._open.values()]
