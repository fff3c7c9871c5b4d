"""Whether a trace destination can be reached at all, known early and off the agent loop.

A backend fault can be certain before any span is sent: nothing listens on the port (refused),
or it speaks plain HTTP where the endpoint says https (the TLS handshake cannot succeed). On a
busy machine the exporter may not learn that before the exit budget runs out, and its in-flight
batch would be reported as "not confirmed" (the backend may have stored it). A probe started
with the pipeline — one TCP connection and, for https, one TLS handshake without certificate
checks, on a daemon thread — settles it: spans still in flight to a destination the probe found
certainly unreachable are reported as not delivered, with the cause. Anything else (a timeout,
an unknown certificate) is no certainty, and changes nothing.
"""

from __future__ import annotations

import socket
import ssl
import threading
from urllib.parse import urlparse

PROBE_TIMEOUT_S = 10.0


class ReachProbe:
    """Probes `endpoint` once on a daemon thread; `verdict` is `refused`, `tls` or None."""

    def __init__(self, endpoint: str) -> None:
        self.verdict: str | None = None
        parsed = urlparse(endpoint)
        self._https = parsed.scheme == "https"
        self._host = parsed.hostname or ""
        self._port = parsed.port or (443 if self._https else 80)
        self._thread: threading.Thread | None = None
        if parsed.scheme in ("http", "https") and self._host:
            self._thread = threading.Thread(target=self._probe, name="reach-probe", daemon=True)
            self._thread.start()

    def _probe(self) -> None:
        try:
            with socket.create_connection((self._host, self._port), PROBE_TIMEOUT_S) as raw:
                if not self._https:
                    return
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE  # a certificate question is no certainty
                raw.settimeout(PROBE_TIMEOUT_S)
                with context.wrap_socket(raw, server_hostname=self._host):
                    return
        except ConnectionRefusedError:
            self.verdict = "refused"
        except ssl.SSLError as exc:
            if "wrong version" in str(exc).lower() or "http request" in str(exc).lower():
                self.verdict = "tls"  # a plain-HTTP port behind an https endpoint
        except OSError:
            return  # unreachable for now, a timeout: no certainty
