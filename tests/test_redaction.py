"""Redaction: credential shapes and the process's own secret values never survive."""

from __future__ import annotations

import pytest

from runner.redaction import REDACTED, Redactor, secret_values, truncate

PLANTED = [
    "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    "sk-lf-1234abcd-5678-efgh-9012-ijklmnopqrst",
    "pk-lf-1234abcd-5678-efgh-9012-ijklmnopqrst",
    "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
]


@pytest.mark.parametrize("secret", PLANTED)
def test_credential_shapes_are_redacted(secret: str) -> None:
    out = Redactor().redact(f"before {secret} after")
    assert secret not in out
    assert REDACTED in out
    assert out.startswith("before ") and out.endswith(" after")


def test_assignments_keep_the_name_and_hide_the_value() -> None:
    out = Redactor().redact("password=hunter2hunter2 and api_key: 'abcdef123456'")
    assert out == f"password={REDACTED} and api_key: '{REDACTED}'"


def test_secret_env_values_are_redacted_even_without_a_known_shape() -> None:
    env = {
        "LANGFUSE_SECRET_KEY": "plainvalue-xyz",
        "OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Basic%20abc,x-tenant=tenant-secret-1",
        "HOME": "/home/someone",
    }
    redactor = Redactor(secret_values(env))
    out = redactor.redact("a plainvalue-xyz b tenant-secret-1 c /home/someone")
    assert "plainvalue-xyz" not in out and "tenant-secret-1" not in out
    assert "/home/someone" in out


def test_short_secret_values_are_not_used_as_literals() -> None:
    assert secret_values({"SOME_TOKEN": "abc"}) == ()


def test_truncate_marks_the_cut() -> None:
    assert truncate("x" * 10, 10) == "x" * 10
    assert truncate("x" * 15, 10) == "x" * 10 + "…[truncated 5 chars]"


def test_clean_redacts_before_truncating() -> None:
    secret = PLANTED[0]
    out = Redactor(max_chars=20).clean("k " + secret)
    assert "sk-ant-api03" not in out


def test_keys_inside_structures_are_redacted_before_json_escaping_hides_them() -> None:
    value = {
        "stdout": "line\nAKIAHOSTILE0EXAMPLE9\neyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    }
    out = Redactor().clean_value(value)
    assert "AKIAHOSTILE0EXAMPLE9" not in out and "eyJzdWIiOiJ4In0" not in out
    assert out.count("[REDACTED]") == 2
    # The serialised form alone defeats a \b-anchored pattern: the leaf pass is what saves it.
    assert "AKIAHOSTILE0EXAMPLE9" not in Redactor().redact('"\\nAKIAHOSTILE0EXAMPLE9"')
