"""A certain fault is reported as what it is, whatever the load: the reach probe settles a TLS
endpoint on a plain-HTTP port, or a port nothing listens on, before the exit budget matters;
anything uncertain changes nothing."""

from __future__ import annotations

import time

from runner.otel.export.reach import ReachProbe
from tests.otlp_receiver import OTLPHttpReceiver
from tests.support.backends import free_port


def _settled(probe: ReachProbe) -> str | None:
    thread = probe._thread
    assert thread is not None
    thread.join(30)
    return probe.verdict


def test_https_to_a_plain_http_port_is_certainly_tls() -> None:
    backend = OTLPHttpReceiver()
    try:
        assert _settled(ReachProbe(backend.url.replace("http://", "https://") + "/v1")) == "tls"
    finally:
        backend.stop()


def test_a_port_nothing_listens_on_is_certainly_refused() -> None:
    assert _settled(ReachProbe(f"http://127.0.0.1:{free_port()}/v1/traces")) == "refused"


def test_a_reachable_backend_is_no_verdict() -> None:
    backend = OTLPHttpReceiver()
    try:
        assert _settled(ReachProbe(backend.url + "/v1/traces")) is None
    finally:
        backend.stop()


def test_a_url_without_a_host_starts_no_probe() -> None:
    probe = ReachProbe("stderr")
    time.sleep(0.01)
    assert probe._thread is None and probe.verdict is None
