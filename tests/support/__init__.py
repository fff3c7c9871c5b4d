"""Helpers the tests share (never imported from a test file: tests import these)."""
