"""``metaopt dashboard``: the running daemon's page with its token, a clear error when the
daemon serves none, and the store served read-only when no daemon runs."""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request

import pytest

from tests.helpers import CLI
from tests.helpers import metaopt
from tests.helpers import submit_quadratic


def test_url_points_to_the_running_daemon_with_its_token(start_daemon):
    daemon = start_daemon("--http", "0")
    out = metaopt(daemon.data_dir, "dashboard", "--url")
    assert out.returncode == 0, out.stderr
    url = out.stdout.strip()
    token = (daemon.data_dir / "http.token").read_text().strip()
    assert url == f"http://{daemon.call('ping')['http']}/?token={token}"
    with urllib.request.urlopen(url, timeout=10) as reply:
        assert reply.headers["Content-Type"].startswith("text/html")
        assert b'<script src="/static/dashboard.js"' in reply.read()


def test_a_daemon_without_http_is_told_how_to_serve_one(start_daemon):
    daemon = start_daemon()
    out = metaopt(daemon.data_dir, "dashboard", "--no-browser")
    assert out.returncode == 1
    assert "serves no dashboard: restart it with --http PORT" in out.stderr


def test_with_no_daemon_the_store_is_served_read_only(start_daemon, tmp_path):
    daemon = start_daemon()
    submit_quadratic(daemon, "exp", "--x~uniform(0, 1)", max_trials=3)
    daemon.wait_status("done")
    daemon.stop()
    assert metaopt(daemon.data_dir, "dashboard", "--url").returncode == 1  # nothing to point to
    served = subprocess.Popen(
        [*CLI, "dashboard", "--no-browser", "--data-dir", str(daemon.data_dir)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert served.stdout is not None
        assert "serving its store read-only; Ctrl-C ends it" in served.stdout.readline()
        url = served.stdout.readline().strip()
        base = url.split("/?")[0]
        with urllib.request.urlopen(base + "/api/experiments", timeout=10) as reply:
            (row,) = json.loads(reply.read())
        assert (row["name"], row["status"], row["counts"]) == ("exp", "done", {"completed": 3})
        with urllib.request.urlopen(base + "/api/state", timeout=10) as reply:
            assert json.loads(reply.read())["writable"] is False
        token = url.split("token=")[1]
        stop = urllib.request.Request(
            base + "/api/experiments/exp/stop",
            data=b"{}",
            headers={"Authorization": f"Bearer {token}"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(stop, timeout=10)
        assert refused.value.code == 403
        assert "read-only: no daemon runs" in json.loads(refused.value.read())["error"]
    finally:
        served.terminate()
        code = served.wait(timeout=30)
        served.stdout.close()
    assert code == 0
