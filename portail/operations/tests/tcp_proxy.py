"""A TCP forwarder the test controls, to cut a server away from the portal and bring it back.

`TcpProxy(target=("127.0.0.1", 5432))` listens on 127.0.0.1 (a free port) and forwards each connection to
the target. `pause()` closes every open connection and refuses new ones (accepted, then closed at once,
as a crashed server or a dropped link looks to the client); `resume()` forwards again. Loopback only.
"""

import contextlib
import selectors
import socket
import threading


class TcpProxy:
    def __init__(self, *, target: tuple[str, int], host: str = "127.0.0.1"):
        self.target = target
        self._listener = socket.create_server((host, 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._pairs: set[tuple[socket.socket, socket.socket]] = set()
        self._paused = threading.Event()
        self._stopped = threading.Event()
        self._threads: list[threading.Thread] = []
        self.connections_forwarded = 0
        self.connections_refused = 0

    def __enter__(self):
        self._start(self._accept_loop)
        return self

    def __exit__(self, *exc_info):
        self.close()

    def _start(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    def pause(self) -> None:
        """Close every forwarded connection, and refuse new ones until resume()."""
        self._paused.set()
        with self._lock:
            pairs, self._pairs = self._pairs, set()
        for pair in pairs:
            self._close_pair(pair)

    def resume(self) -> None:
        self._paused.clear()

    def close(self) -> None:
        self._stopped.set()
        self.pause()
        for thread in self._threads:
            thread.join(timeout=5)
        self._listener.close()

    @staticmethod
    def _close_pair(pair) -> None:
        for sock in pair:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self._paused.is_set():
                self.connections_refused += 1
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            client.settimeout(None)
            pair = (client, upstream)
            with self._lock:
                self._pairs.add(pair)
            self.connections_forwarded += 1
            self._start(self._forward, pair)

    def _forward(self, pair) -> None:
        client, upstream = pair
        other = {client: upstream, upstream: client}
        with selectors.DefaultSelector() as selector:
            selector.register(client, selectors.EVENT_READ)
            selector.register(upstream, selectors.EVENT_READ)
            try:
                while not self._stopped.is_set():
                    for key, _ in selector.select(timeout=0.2):
                        data = key.fileobj.recv(65536)
                        if not data:
                            raise ConnectionResetError
                        other[key.fileobj].sendall(data)
            except (OSError, ValueError):
                pass
        with self._lock:
            self._pairs.discard(pair)
        self._close_pair(pair)
