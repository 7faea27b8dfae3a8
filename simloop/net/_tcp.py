"""TCP as the kernel keeps it: connections, their byte pipes, listening ports.

A `Connection` joins two `TcpEndpoint`s (the kernel's side of a socket: a
receive buffer, a window, FIN and RST). Each direction is a `Pipe`: what one
end sent, in flight, in order. A write is cut into segments (the strategy
says where), each arrives at a virtual time the strategy draws, never before
the segment sent ahead of it, as a loop timer (``call_at``), so timer-tie
ordering applies to deliveries too. Bytes are never lost, duplicated or
reordered inside a connection; only a reset (RST) ends a stream early, and
both ends see it.

What user code touches sits on top: transports (`_transport.py`) and socket
objects (`_socket.py`) read and write endpoints the way asyncio's transports
read and write kernel sockets.
"""

from __future__ import annotations

import errno
import socket
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._addresses import SockAddr, connect_failed, format_address, reset_by_peer

if TYPE_CHECKING:
    import asyncio

    from ._network import Host, Link, Network

#: Bytes a receiver buffers before the sender must wait (its receive window).
RECEIVE_WINDOW = 256 * 1024
#: Seconds a connect waits for an answer before it fails, as Linux's (6 SYN retries).
CONNECT_TIMEOUT = 127.0
#: Control items that travel in a pipe between data.
FIN = "FIN"
RST = "RST"
ACK = "ACK"
#: Deliveries due within this much of now are due (the loop's clock resolution).
_DUE = 1e-9


class Pipe:
    """One direction of a connection: segments in flight, delivered in order."""

    __slots__ = (
        "held",
        "label",
        "last_arrival",
        "link",
        "loop",
        "network",
        "queue",
        "target",
        "timer_at",
    )
    #: marks the network's own timers, which deliveries are never steered onto
    _simloop_network_timer = True

    def __init__(self, network: Network, link: Link, target: TcpEndpoint, label: str) -> None:
        self.network = network
        self.loop = network.loop
        self.link = link
        self.target = target
        #: "data to 10.0.0.2:6379" or "reply from 10.0.0.2:6379", for traces
        self.label = label
        self.queue: deque[tuple[float, Any]] = deque()
        self.last_arrival = 0.0
        self.timer_at = -1.0
        #: items waiting for a partition to heal, in order
        self.held: list[tuple[Any, str]] = []

    def send(self, item: Any, kind: str = "segment") -> None:
        """Put `item` (bytes, FIN, RST or ACK) on the wire."""
        if self.held:  # behind segments a partition holds: wait behind them
            self.held.append((item, kind))
            return
        arrival = self.network.arrival(self.link, kind, lambda: self.describe(item))
        if arrival is None:
            self.held.append((item, kind))
            self.link.held.append(self.release)
            return
        if arrival < self.last_arrival:
            arrival = self.last_arrival
        self.last_arrival = arrival
        self.queue.append((arrival, item))
        if arrival != self.timer_at:
            self.timer_at = arrival
            self.loop.call_at(arrival, self.arrive)

    def describe(self, item: Any) -> str:
        if isinstance(item, str):
            return f"{item} {self.label.split(' ', 1)[1]}"
        return f"{self.label} ({len(item)} bytes)"

    def release(self) -> None:
        """The partition healed: send what it held, in order."""
        held, self.held = self.held, []
        for item, kind in held:
            self.send(item, kind)

    def arrive(self) -> None:
        """A delivery timer: hand everything due by now to the target, in order."""
        queue = self.queue
        horizon = self.loop.time() + _DUE
        data = None
        target = self.target
        while queue and queue[0][0] <= horizon:
            item = queue.popleft()[1]
            if isinstance(item, str):
                if data is not None:
                    target.receive(data)
                    data = None
                target.control(item)
            elif data is None:
                data = item
            else:
                data += item
        if not queue:
            # Nothing left in flight: the next send needs a timer of its own,
            # even one due at the instant this timer fired (a zero latency).
            self.timer_at = -1.0
        if data is not None:
            target.receive(data)


class TcpEndpoint:
    """One end of a TCP connection as the kernel keeps it.

    Its owner (a transport or a socket object) reads with `take`, writes with
    `send`, and sets `reader`/`writer`: called when something arrives (data,
    EOF, a reset) and when the window opens again after a `send` fell short.
    """

    __slots__ = (
        "ack_sent",
        "closed",
        "connection",
        "error",
        "fin_received",
        "host",
        "in_flight",
        "inbox",
        "local",
        "network",
        "out",
        "peer",
        "reader",
        "remote",
        "rst_sent",
        "shut_write",
        "waiting_for_window",
        "writer",
    )

    def __init__(self, network: Network, host: Host, local: SockAddr, remote: SockAddr) -> None:
        self.network = network
        self.host = host
        self.local = local
        self.remote = remote
        self.inbox = bytearray()
        self.fin_received = False
        #: the error every further read or write raises (a reset)
        self.error: OSError | None = None
        self.closed = False
        self.shut_write = False
        self.rst_sent = False
        self.peer: TcpEndpoint | None = None
        self.out: Pipe | None = None
        self.connection: Connection | None = None
        #: bytes sent that have not reached the peer's receive buffer yet
        self.in_flight = 0
        self.waiting_for_window = False
        #: a window update to the peer is on its way
        self.ack_sent = False
        self.reader: Callable[[], object] | None = None
        self.writer: Callable[[], object] | None = None

    def __repr__(self) -> str:
        return f"<TcpEndpoint {format_address(self.local)} -> {format_address(self.remote)}>"

    # -- what the owner calls ---------------------------------------------

    def send(self, data: bytes | bytearray | memoryview) -> int:
        """Send what the window takes of `data`; how many bytes went (like
        ``socket.send`` on a non-blocking socket)."""
        if self.error is not None:
            raise self.error
        if self.shut_write or self.closed:
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")
        peer = self.peer
        assert peer is not None
        assert self.out is not None
        room = RECEIVE_WINDOW - self.in_flight - len(peer.inbox)
        size = len(data)
        if size > room:
            self.waiting_for_window = True
            if room <= 0:
                return 0
            data = data[:room]
            size = room
        chunk = bytes(data)
        network = self.network
        if network.faulty() and network.choices.reset_stream(
            lambda: f"{self.out.label} ({size} bytes)"  # type: ignore[union-attr]
        ):
            assert self.connection is not None
            self.connection.reset("reset mid-stream by the strategy")
            return size
        self.in_flight += size
        out = self.out
        sizes = (
            network.choices.segment_sizes(size, lambda: f"{out.label} ({size} bytes)")
            if network.choices.splits_segments
            else None
        )
        if sizes is None:
            out.send(chunk)
        else:
            start = 0
            for piece in sizes:
                out.send(chunk[start : start + piece])
                start += piece
        return size

    def take(self, limit: int) -> bytes:
        """Up to `limit` received bytes, removed from the receive buffer."""
        inbox = self.inbox
        if len(inbox) <= limit:
            data = bytes(inbox)
            inbox.clear()
        else:
            data = bytes(inbox[:limit])
            del inbox[:limit]
        peer = self.peer
        if peer is not None and peer.waiting_for_window and not self.ack_sent and self.out:
            # The window opened: tell the sender, which waits for it.
            self.ack_sent = True
            if not self.closed and self.error is None:
                self.out.send(ACK, "ack")
        return data

    def shutdown_write(self) -> None:
        """No more data from this end: send FIN after what is in flight."""
        if self.shut_write or self.closed or self.error is not None:
            return
        self.shut_write = True
        assert self.out is not None
        self.out.send(FIN)

    def close(self, *, reset: bool = False) -> None:
        """Close this end, as ``socket.close`` does: FIN, or RST when received
        data was never read (Linux's rule) or `reset` asks for it."""
        if self.closed:
            return
        self.closed = True
        self.reader = self.writer = None
        connection = self.connection
        if self.error is None and self.out is not None:
            if self.inbox or reset:
                self.inbox.clear()
                self.rst_sent = True
                self.out.send(RST)
            elif not self.shut_write:
                self.shut_write = True
                self.out.send(FIN)
        if connection is not None:
            connection.end_closed()

    # -- what arrives -----------------------------------------------------

    def receive(self, data: bytes) -> None:
        peer = self.peer
        if peer is not None:
            peer.in_flight -= len(data)
        if self.error is not None:
            return
        if self.closed:
            # Data for a closed socket: the kernel answers with a reset.
            if not self.rst_sent and self.out is not None:
                self.rst_sent = True
                self.out.send(RST)
            return
        self.inbox += data
        reader = self.reader
        if reader is not None:
            reader()

    def control(self, item: str) -> None:
        if item == ACK:
            peer = self.peer
            if peer is not None:
                peer.ack_sent = False
            if self.waiting_for_window and not self.closed and self.error is None:
                self.waiting_for_window = False
                writer = self.writer
                if writer is not None:
                    writer()
            return
        if self.error is not None or self.closed:
            return
        if item == FIN:
            self.fin_received = True
        else:  # RST
            self.error = reset_by_peer()
            self.inbox.clear()
            if self.connection is not None:
                self.connection.end_closed()
            writer = self.writer
            if writer is not None and self.waiting_for_window:
                self.waiting_for_window = False
                writer()
        reader = self.reader
        if reader is not None:
            reader()

    @property
    def is_dead(self) -> bool:
        return self.closed or self.error is not None


class Connection:
    """A TCP connection: a client endpoint and a server endpoint, joined."""

    __slots__ = ("client", "network", "serial", "server")

    def __init__(self, network: Network, client: TcpEndpoint, server: TcpEndpoint) -> None:
        self.network = network
        self.serial = next(network.connection_serials)
        self.client = client
        self.server = server
        client.peer, server.peer = server, client
        client.connection = server.connection = self
        address = format_address(server.local)
        client.out = Pipe(
            network, network.link(client.host, server.host), server, f"data to {address}"
        )
        server.out = Pipe(
            network, network.link(server.host, client.host), client, f"reply from {address}"
        )
        network.connections.add(self)

    def __repr__(self) -> str:
        client, server = format_address(self.client.local), format_address(self.server.local)
        return f"<Connection {client} -> {server}>"

    def reset(self, why: str) -> None:
        """Reset both ends, as a middlebox's RST would (each arrives after
        what is already in flight towards it)."""
        for end in (self.client, self.server):
            if not end.is_dead and end.out is not None:
                end.rst_sent = True
                end.out.send(RST)
        self.network.trace_event("reset", self, why)

    def end_closed(self) -> None:
        if self.client.is_dead and self.server.is_dead:
            self.network.connections.discard(self)


class Listener:
    """A listening TCP port: connections wait in its accept queue until the
    owner (a server, or `loop.sock_accept`) takes them."""

    __slots__ = (
        "address",
        "closed",
        "family",
        "host",
        "key",
        "last_ready",
        "network",
        "on_ready",
        "queue",
    )
    _simloop_network_timer = True

    def __init__(self, network: Network, host: Host, family: int, address: SockAddr) -> None:
        self.network = network
        self.host = host
        self.family = family
        self.address = address
        self.key = (family, address[0], address[1])
        #: (virtual time the owner may accept it, connection), in arrival order
        self.queue: deque[tuple[float, TcpEndpoint]] = deque()
        self.last_ready = 0.0
        #: called when a connection is ready to accept
        self.on_ready: Callable[[], object] | None = None
        self.closed = False
        host.listeners[self.key] = self

    def __repr__(self) -> str:
        return f"<Listener {self.host.name} {format_address(self.address)}>"

    def offer(self, endpoint: TcpEndpoint) -> None:
        """A handshake completed: queue the connection; the owner accepts it
        after a delay the strategy draws."""
        network = self.network
        when = network.delivery_time(
            "accept",
            lambda: (
                f"accept on {format_address(self.address)} of {format_address(endpoint.remote)}"
            ),
        )
        # The accept queue is first in, first out: never ready before the one ahead.
        when = max(when, self.last_ready)
        self.last_ready = when
        self.queue.append((when, endpoint))
        network.loop.call_at(when, self.ready)

    def ready(self) -> None:
        if self.on_ready is not None and self.accept_due():
            self.on_ready()

    def accept_due(self) -> bool:
        """Whether the connection at the head of the queue may be accepted now."""
        return bool(self.queue) and self.queue[0][0] <= self.network.loop.time() + _DUE

    def accept(self) -> TcpEndpoint | None:
        """The next connection whose accept time has come, if any."""
        return self.queue.popleft()[1] if self.accept_due() else None

    def close(self) -> None:
        """Stop listening; connections never accepted are reset."""
        if self.closed:
            return
        self.closed = True
        self.on_ready = None
        if self.host.listeners.get(self.key) is self:
            del self.host.listeners[self.key]
        while self.queue:
            self.queue.popleft()[1].close(reset=True)


class Connector:
    """One connect attempt: SYN, then SYN-ACK or RST, or silence until the timeout."""

    __slots__ = ("address", "client", "future", "link", "network", "target", "timeout")
    _simloop_network_timer = True

    def __init__(
        self,
        network: Network,
        client: TcpEndpoint,
        target: Host | None,
        address: SockAddr,
        future: asyncio.Future[None],
    ) -> None:
        self.network = network
        self.client = client
        self.target = target
        self.address = address
        self.future = future
        self.timeout: asyncio.TimerHandle | None = None
        self.link = None if target is None else network.link(client.host, target)

    def start(self) -> None:
        if self.link is None:
            self._wait_for_timeout()  # nobody owns the address: the SYN is never answered
            return
        self._send_syn()

    def _send_syn(self) -> None:
        assert self.link is not None
        network = self.network
        arrival = network.arrival(
            self.link, "connect", lambda: f"connect to {format_address(self.address)}"
        )
        if arrival is None:
            self.link.held.append(self._send_syn)
            self._wait_for_timeout()
            return
        network.loop.call_at(arrival, self.syn_arrived)

    def _wait_for_timeout(self) -> None:
        if self.timeout is None:
            loop = self.network.loop
            self.timeout = loop.call_at(loop.time() + CONNECT_TIMEOUT, self.timed_out)

    def timed_out(self) -> None:
        if not self.future.done():
            self.future.set_exception(connect_failed(errno.ETIMEDOUT, self.address))

    def syn_arrived(self) -> None:
        """The SYN reached the target host: answer SYN-ACK if something listens."""
        if self.future.done():
            return  # the connect was given up (cancelled or timed out)
        network = self.network
        target = self.target
        assert target is not None
        client = self.client
        ip, port = self.address[0], self.address[1]
        family = socket.AF_INET6 if len(self.address) == 4 else socket.AF_INET
        listener = target.listener_at(family, ip, port)
        what = lambda: f"connect to {format_address(self.address)}"  # noqa: E731
        back = network.link(target, client.host)
        if listener is None or (network.faulty() and network.choices.refuse_connect(what)):
            self._answer(back, self.refused)
            return
        server = TcpEndpoint(network, target, self.address, client.local)
        Connection(network, client, server)
        listener.offer(server)
        self._answer(back, self.established)

    def _answer(self, back: Link, callback: Callable[[], None]) -> None:
        network = self.network
        arrival = network.arrival(
            back, "connect", lambda: f"answer from {format_address(self.address)}"
        )
        if arrival is None:
            back.held.append(lambda: self._answer(back, callback))
            return
        network.loop.call_at(arrival, callback)

    def refused(self) -> None:
        if not self.future.done():
            self._cancel_timeout()
            self.future.set_exception(connect_failed(errno.ECONNREFUSED, self.address))

    def established(self) -> None:
        if self.future.done():
            # The connect was given up meanwhile: the client's socket is gone.
            self.client.close(reset=True)
            return
        self._cancel_timeout()
        self.future.set_result(None)

    def _cancel_timeout(self) -> None:
        if self.timeout is not None:
            self.timeout.cancel()
            self.timeout = None
