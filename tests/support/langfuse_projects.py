"""One Langfuse-like server with several projects, as Langfuse Cloud is: every project shares
the URL and the keys pick the project. Each POST goes to the project whose Basic credential it
carries (an OTLPHttpReceiver(auth=...) of its own, which checks the header again); a credential
of no project is answered 401, as Langfuse does, and counted here."""

from __future__ import annotations

import base64
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.otlp_receiver import OTLPHttpReceiver


def basic(public: str, secret: str) -> str:
    """Langfuse's Authorization header value for a key pair."""
    return "Basic " + base64.b64encode(f"{public}:{secret}".encode()).decode()


class LangfuseProjects:
    """`keys`: project name → (public key, secret key)."""

    def __init__(self, keys: dict[str, tuple[str, str]]) -> None:
        self.auth = {name: basic(*pair) for name, pair in keys.items()}
        self.projects = {name: OTLPHttpReceiver(auth=auth) for name, auth in self.auth.items()}
        self.refused: list[str | None] = []
        """The Authorization of each request no project took (None: it carried none)."""
        by_auth = {auth: self.projects[name] for name, auth in self.auth.items()}
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                auth = self.headers.get("Authorization")
                project = by_auth.get(auth or "")
                status, answer = 401, b""
                if project is None:
                    front.refused.append(auth)
                else:
                    headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                    request = urllib.request.Request(
                        project.url + self.path, data=body, headers=headers, method="POST"
                    )
                    try:
                        with urllib.request.urlopen(request, timeout=10) as response:
                            status, answer = response.status, response.read()
                    except urllib.error.HTTPError as exc:
                        status, answer = exc.code, b""
                self.send_response(status)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        for project in self.projects.values():
            project.stop()
