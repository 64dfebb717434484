"""Conformance suites a backend (ours or a user's) must pass: subclass and provide a factory."""

from metaopt.testing._storage import StorageTestCase

__all__ = ["StorageTestCase"]
