"""The cluster key: made owner-only at first start, refused when it is not one, never made
where the user named a file that is not there."""

from __future__ import annotations

import logging
import stat

import pytest

from metaopt.errors import MetaoptError
from metaoptd import keys
from tests.helpers import DaemonProcess
from tests.helpers import metaoptd


def test_a_first_start_makes_an_owner_only_key_and_says_its_fingerprint(tmp_path):
    daemon = DaemonProcess(tmp_path / "node")
    try:
        path = tmp_path / "node" / "cluster.key"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        key = bytes.fromhex(path.read_text())
        assert len(key) == keys.KEY_BYTES
        assert daemon.call("ping")["key"] == keys.fingerprint(key)
        assert f"key fingerprint {keys.fingerprint(key)}" in daemon.log.read_text()
    finally:
        daemon.stop()
    again = DaemonProcess(tmp_path / "node")  # the same key at the next start
    try:
        assert bytes.fromhex(path.read_text()) == key
        assert again.call("ping")["key"] == keys.fingerprint(key)
    finally:
        again.stop()


def test_a_key_readable_by_others_is_made_owner_only(tmp_path, caplog):
    path = tmp_path / "cluster.key"
    made = keys.load_or_create(path)
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="metaoptd"):
        assert keys.load_or_create(path) == made
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "could be read by others" in caplog.text


@pytest.mark.parametrize("text", ["", "not hex at all", "ab" * 16, "ab" * 33])
def test_a_file_that_is_not_a_key_is_refused_and_left_alone(tmp_path, text):
    path = tmp_path / "cluster.key"
    path.write_text(text)
    path.chmod(0o600)
    with pytest.raises(MetaoptError, match="not a cluster key"):
        keys.load_or_create(path)
    assert path.read_text() == text


def test_a_named_key_file_that_is_missing_is_an_error_not_a_new_cluster(tmp_path):
    missing = tmp_path / "typo.key"
    out = metaoptd("--data-dir", str(tmp_path / "node"), "--port", "0", "--key-file", str(missing))
    assert out.returncode == 1
    assert f"{missing}: no such cluster key file" in out.stderr
    assert not missing.exists()
    assert not (tmp_path / "node" / "cluster.key").exists()


def test_fingerprints_tell_keys_apart_without_showing_them():
    a, b = b"a" * keys.KEY_BYTES, b"b" * keys.KEY_BYTES
    assert keys.fingerprint(a) == keys.fingerprint(a)
    assert keys.fingerprint(a) != keys.fingerprint(b)
    assert a.hex()[:12] not in keys.fingerprint(a)
