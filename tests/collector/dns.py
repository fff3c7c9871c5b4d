"""A DNS server on 127.0.0.1 (UDP) whose answer a test changes: it plays a headless Service
whose ready pods come and go. Every A query is answered with the current addresses (127.0.0.x:
loopback addresses any process may bind, so replicas can share one port), AAAA with none.
The collector's traceidrouting exporter asks it through its `resolver.dns.nameserver` option;
no system resolver configuration is touched."""

from __future__ import annotations

import socket
import struct
import threading

A, AAAA, IN = 1, 28, 1


class ChangingDNS:
    def __init__(self, addresses: list[str]) -> None:
        self.addresses = list(addresses)
        self.queries = 0
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def nameserver(self) -> str:
        return f"127.0.0.1:{self._sock.getsockname()[1]}"

    def answer(self, addresses: list[str]) -> None:
        self.addresses = list(addresses)

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)
        self._sock.close()

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                query, peer = self._sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            reply = self._reply(query)
            if reply:
                self._sock.sendto(reply, peer)

    def _reply(self, query: bytes) -> bytes | None:
        if len(query) < 12:
            return None
        ident, _flags, qdcount = struct.unpack("!HHH", query[:6])
        if qdcount != 1:
            return None
        end = 12
        while end < len(query) and query[end] != 0:  # the question's name, label by label
            end += 1 + query[end]
        end += 1
        if end + 4 > len(query):
            return None
        qtype, qclass = struct.unpack("!HH", query[end : end + 4])
        question = query[12 : end + 4]
        self.queries += 1
        records = list(self.addresses) if qtype == A and qclass == IN else []
        header = struct.pack("!HHHHHH", ident, 0x8180, 1, len(records), 0, 0)
        answers = b"".join(
            struct.pack("!HHHIH", 0xC00C, A, IN, 0, 4) + socket.inet_aton(address)
            for address in records
        )
        return header + question + answers
