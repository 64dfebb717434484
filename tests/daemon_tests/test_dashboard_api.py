"""The dashboard's JSON API on a real daemon over real sockets: every endpoint, bad input on
each, the OpenAPI document, the token beyond loopback, cross-site requests, malformed HTTP."""

from __future__ import annotations

import json
import math
import socket
import stat
import urllib.error
import urllib.request

import pytest

from metaopt._history import History
from metaopt.records import Experiment
from metaopt.records import Trial
from metaopt.records import TrialStatus
from metaoptd.web.charts import leaderboard
from metaoptd.web.charts import series
from metaoptd.web.openapi import DOCUMENT
from tests.helpers import SCRIPTS
from tests.helpers import metaopt
from tests.helpers import metaoptd
from tests.helpers import submit_quadratic
from tests.helpers import wait_until


def get(base: str, path: str, **headers: str) -> tuple[int, object]:
    return send(urllib.request.Request(base + path, headers=headers))


def post(base: str, path: str, body: object = None, token: str = "") -> tuple[int, object]:
    data = json.dumps(body).encode() if body is not None else b""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return send(urllib.request.Request(base + path, data=data, headers=headers, method="POST"))


def token_of(daemon) -> str:
    return (daemon.data_dir / "http.token").read_text().strip()


def send(request: urllib.request.Request) -> tuple[int, object]:
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def raw(address: tuple[str, int], data: bytes) -> bytes:
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)  # all there is to send
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.fixture
def served(start_daemon):
    daemon = start_daemon("--slots", "2", "--http", "0")
    submit_quadratic(daemon, "exp", "--x~uniform(0, 1)", max_trials=6, objective="loss")
    daemon.wait_status("done")
    host, port = daemon.call("ping")["http"].rsplit(":", 1)
    return daemon, f"http://{host}:{port}", (host, int(port))


def test_experiments_and_their_trials_page_by_page(served):
    daemon, base, _ = served
    status, experiments = get(base, "/api/experiments")
    assert status == 200
    (exp,) = experiments
    assert (exp["name"], exp["status"], exp["counts"]) == ("exp", "done", {"completed": 6})
    status, one = get(base, "/api/experiments/exp")
    assert status == 200
    assert one["space"] == {"x": "uniform(0, 1)"}
    assert one["best_value"] == exp["best_value"]

    status, page = get(base, "/api/experiments/exp/trials?sort=objective&limit=4")
    assert status == 200
    assert (page["total"], page["offset"], page["limit"], len(page["trials"])) == (6, 0, 4, 4)
    values = [t["objective"] for t in page["trials"]]
    assert values == sorted(values)
    assert values[0] == exp["best_value"]
    _, rest = get(base, "/api/experiments/exp/trials?sort=objective&limit=4&offset=4")
    ids = [t["id"] for t in page["trials"] + rest["trials"]]
    assert len(set(ids)) == 6  # two pages, every trial once
    row = page["trials"][0]
    assert row["status"] == "completed"
    assert row["steps"] == 3
    assert row["node"] == daemon.call("ping")["node"]
    _, worst = get(base, "/api/experiments/exp/trials?sort=-objective&limit=1")
    assert worst["trials"][0]["objective"] == max(
        t["objective"] for t in page["trials"] + rest["trials"]
    )
    _, none = get(base, "/api/experiments/exp/trials?status=failed")
    assert (none["total"], none["trials"]) == (0, [])
    _, board = get(base, "/api/experiments/exp/leaderboard?top=3")
    assert board["experiments"] == ["exp"]
    assert [e["value"] for e in board["top"]] == values[:3]  # the best three, best first
    assert board["trend"] == [{"experiment": "exp", "best": exp["best_value"]}]


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/api/experiments/nope", 404, "no experiment named 'nope'"),
        ("/api/experiments/nope/trials", 404, "no experiment named 'nope'"),
        ("/api/experiments/exp/trials?limit=0", 400, "limit=0: must be 1..1000"),
        ("/api/experiments/exp/trials?limit=5000", 400, "limit=5000: must be 1..1000"),
        ("/api/experiments/exp/trials?offset=-1", 400, "offset=-1: must be >= 0"),
        ("/api/experiments/exp/trials?offset=two", 400, "offset='two': not an integer"),
        ("/api/experiments/exp/trials?sort=name", 400, "sort='name': one of created"),
        ("/api/nothing", 404, "no such endpoint: /api/nothing"),
        ("/../../etc/passwd", 404, "no such page"),
        ("/api/experiments/..%2F..%2Fetc", 404, "no experiment named '../../etc'"),
        ("/static/..%2Fapi.py", 404, "no such page: /static/../api.py"),
        ("/static/../openapi.py", 404, "no such page"),
        ("/static/index.html/..", 404, "no such page"),
    ],
)
def test_bad_requests_are_answered_with_what_is_wrong(served, path, status, words):
    _, base, _ = served
    code, body = get(base, path)
    assert code == status
    assert words in body["error"]


def test_the_openapi_document_describes_every_endpoint_served(served):
    _, base, _ = served
    status, document = get(base, "/api/openapi.json")
    assert status == 200
    assert document == json.loads(json.dumps(DOCUMENT))
    assert document["openapi"].startswith("3.1")
    for path in (p for p, methods in document["paths"].items() if "get" in methods):
        concrete = path.replace("{name}", "exp")
        code, _ = get(base, concrete)
        assert code == 200, path
    # every documented enum value of a query parameter is accepted
    trials = document["paths"]["/api/experiments/{name}/trials"]["get"]["parameters"]
    (sort,) = [p for p in trials if p["name"] == "sort"]
    for value in sort["schema"]["enum"]:
        assert get(base, f"/api/experiments/exp/trials?sort={value}")[0] == 200


def test_cross_site_requests_and_other_methods_are_refused(served):
    daemon, _, address = served
    host = f"{address[0]}:{address[1]}"
    answer = raw(address, f"POST /api/experiments HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 401")  # a write needs the token, on loopback too
    auth = f"Authorization: Bearer {token_of(daemon)}"
    answer = raw(address, f"PUT /api/experiments HTTP/1.1\r\n{auth}\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 405")
    answer = raw(address, f"POST /api/experiments HTTP/1.1\r\n{auth}\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 400")
    assert b'expected {\\"args\\"' in answer
    cross = (
        f"POST /api/experiments HTTP/1.1\r\nHost: {host}\r\nOrigin: http://evil.example\r\n"
        "Content-Length: 2\r\n\r\n{}"
    )
    assert raw(address, cross.encode()).startswith(b"HTTP/1.1 403")
    site = "Sec-Fetch-Site: cross-site"
    fetch = f"DELETE /api/experiments/exp HTTP/1.1\r\nHost: {host}\r\n{site}\r\n\r\n"
    assert raw(address, fetch.encode()).startswith(b"HTTP/1.1 403")


def test_malformed_http_gets_an_error_not_a_crash(served):
    _, base, address = served
    assert raw(address, b"hello\r\n\r\n").startswith(b"HTTP/1.1 400")
    assert raw(address, b"GET /api HTTP/1.1\r\nbad header\r\n\r\n").startswith(b"HTTP/1.1 400")
    huge = b"GET /api/experiments HTTP/1.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n"
    assert raw(address, huge).startswith(b"HTTP/1.1 431")
    body = b"POST /api HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n"
    assert raw(address, body).startswith(b"HTTP/1.1 413")
    cut = raw(address, b"GET /api/experiments HTTP/1.1\r\n")  # went away mid-request
    assert cut.startswith(b"HTTP/1.1 400")
    assert b"the request ended before its headers did" in cut
    assert get(base, "/api/experiments")[0] == 200  # and the server still answers
    head = raw(address, b"HEAD /api/experiments HTTP/1.1\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert head.endswith(b"\r\n\r\n")  # the headers GET would send, and no body


def test_beyond_loopback_every_request_needs_the_token(start_daemon):
    daemon = start_daemon("--http", "0.0.0.0:0")
    port = int(daemon.call("ping")["http"].rsplit(":", 1)[1])
    path = daemon.data_dir / "http.token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = path.read_text().strip()
    base = f"http://127.0.0.1:{port}"
    status, body = get(base, "/api/experiments")
    assert status == 401
    assert "http.token of the daemon's data dir" in body["error"]
    assert get(base, "/api/experiments", Authorization="Bearer wrong")[0] == 401
    assert get(base, "/api/experiments", Authorization=f"Bearer {token}") == (200, [])
    assert get(base, f"/api/experiments?token={token}") == (200, [])
    # the same token after a restart
    daemon.stop()
    daemon = start_daemon("--http", "0.0.0.0:0", data_dir=daemon.data_dir)
    port = int(daemon.call("ping")["http"].rsplit(":", 1)[1])
    assert get(f"http://127.0.0.1:{port}", f"/api/experiments?token={token}")[0] == 200


def test_a_bad_http_address_is_refused_at_start(tmp_path):
    out = metaoptd("--data-dir", str(tmp_path / "n"), "--http", "localhost:http", "--no-zeroconf")
    assert out.returncode != 0
    assert "--http 'localhost:http': expected [ADDR:]PORT" in out.stderr


def test_the_form_schedules_an_experiment_checked_as_the_cli_checks_it(served, tmp_path):
    daemon, base, _ = served
    token = token_of(daemon)
    args = ["--max-trials", "3", "--name", "web", "quadratic.py", "--x~uniform(0, 1)"]
    status, body = post(base, "/api/experiments", {"args": args, "cwd": str(SCRIPTS)}, token)
    assert (status, body) == (201, {"name": "web", "state": "created"})
    assert daemon.wait_status("done", name="web")["counts"] == {"completed": 3}
    _, exp = get(base, "/api/experiments/web")
    assert exp["command"][1] == str(SCRIPTS / "quadratic.py")
    assert exp["cwd"] == str(SCRIPTS)
    # a malformed prior, a missing script, a bad option: the CLI's own words
    for bad in (
        ["quadratic.py", "--x~uniform(1)"],
        ["nope.py", "--x~uniform(0, 1)"],
        ["--max-trials", "many", "quadratic.py", "--x~uniform(0, 1)"],
        ["quadratic.py"],
    ):
        shell = metaopt(tmp_path / "cli", *bad)
        assert shell.returncode == 2
        said = shell.stderr[shell.stderr.rfind("metaopt: ") :].removeprefix("metaopt: ")
        said = said.removeprefix("error: ").rstrip()  # argparse's words begin with "error: "
        status, body = post(base, "/api/experiments", {"args": bad, "cwd": str(SCRIPTS)}, token)
        assert status == 400, bad
        assert body["error"].rstrip() == said, bad
    for body, words in (
        (
            {
                "args": ["--parallel", "2", "quadratic.py", "--x~uniform(0, 1)"],
                "cwd": str(SCRIPTS),
            },
            "--parallel: an option of `metaopt` run from a shell",
        ),
        (
            {"args": ["quadratic.py", "--x~uniform(0, 1)"], "cwd": "relative"},
            "working directory 'relative': not an absolute path",
        ),
        ({"args": "quadratic.py"}, 'expected {"args"'),
        ({"args": ["-h"], "cwd": str(SCRIPTS)}, "-h/--help: `metaopt --help` in a shell"),
        ({"line": "quadratic.py --x~'uniform(0, 1)", "cwd": str(SCRIPTS)}, "cannot be split"),
    ):
        status, answer = post(base, "/api/experiments", body, token)
        assert status == 400
        assert words in answer["error"]
    assert daemon.call("ping")["http"]  # still serving: argparse's exit on -h never ran
    line = {"line": "--max-trials 2 -n line quadratic.py --x~'uniform(0, 1)'", "cwd": str(SCRIPTS)}
    assert post(base, "/api/experiments", line, token) == (
        201,
        {"name": "line", "state": "created"},
    )


def test_stop_and_resume_from_the_api(start_daemon):
    daemon = start_daemon("--slots", "1", "--http", "0")
    base = "http://" + daemon.call("ping")["http"]
    submit_quadratic(daemon, "long", "--x~uniform(0, 1)", "--sleep=0.5", max_trials=20)
    daemon.wait_status("running", name="long")

    def running_here() -> list[dict[str, object]]:
        (member,) = get(base, "/api/members")[1]
        return member["trials"] if member["card"]["free"] == 0 else []

    (trial,) = wait_until(running_here, what="the member running a trial")
    assert trial["experiment"] == "long"
    (member,) = get(base, "/api/members")[1]
    assert (member["node"], member["self"], member["state"]) == (
        daemon.call("ping")["node"],
        True,
        "alive",
    )
    assert member["card"]["slots"] == 1
    assert post(base, "/api/experiments/long/stop")[0] == 401  # no token: refused
    token = token_of(daemon)
    status, body = post(base, "/api/experiments/long/stop", token=token)
    assert status == 200
    assert body["was"] == "running"
    assert get(base, "/api/experiments/long")[1]["status"] == "stopped"
    status, body = post(base, "/api/experiments/long/resume", {"max_trials": 2}, token)
    assert status == 200
    assert daemon.wait_status("done", name="long")["counts"].get("completed", 0) >= 2
    assert post(base, "/api/experiments/nope/stop", token=token)[0] == 404
    status, body = post(base, "/api/experiments/long/resume", {"max_trials": 0}, token)
    assert status == 400
    assert "--max-trials must be at least 1" in body["error"]
    for wrong in ("", "5", 2.5, True):
        status, body = post(base, "/api/experiments/long/resume", {"max_trials": wrong}, token)
        assert status == 400, wrong
        assert "expected a whole number" in body["error"]


def test_trials_without_a_value_sort_last_best_first_or_worst_first(start_daemon):
    daemon = start_daemon("--slots", "2", "--http", "0")
    flags = ["--lr~choice(0.001, 0.003, 0.05, 0.1)", "--layers=3", "--act=relu"]
    daemon.submit("mixed.py", *flags, max_trials=10, max_broken=20, algo="grid")
    daemon.wait_status("done")
    base = "http://" + daemon.call("ping")["http"]
    for sort in ("objective", "-objective"):
        _, page = get(base, f"/api/experiments/exp/trials?sort={sort}&limit=1000")
        values = [t["objective"] for t in page["trials"]]
        assert values[2:] == [None, None]  # lr > 0.01 fails: no value, last either way
        assert values[:2] == sorted(values[:2], reverse=sort.startswith("-"))
        assert {t["status"] for t in page["trials"][2:]} == {"failed"}


def test_a_trial_that_reported_inf_leaves_the_plots_drawable():
    exp = Experiment("e", ("/usr/bin/python3", "/p/train.py"), "/", {"x": "uniform(0, 1)"})
    trials = [
        Trial(
            f"t{i}",
            "e",
            {"x": x},
            status=TrialStatus.COMPLETED,
            ended=1000.0 + i,
            curve=((0, {"loss": v}),),
        )
        for i, (x, v) in enumerate([(0.1, 0.5), (0.2, math.inf), (0.3, 0.25), (0.4, -math.inf)])
    ]
    history = History(exp, trials)
    drawn = json.loads(json.dumps(series(history), allow_nan=False))
    assert drawn["samples"]["trial_ids"] == ["t0", "t2"]
    assert drawn["history"]["best"] == [0.5, 0.25]
    board = json.loads(json.dumps(leaderboard([history], 10), allow_nan=False))
    assert [e["id"] for e in board["top"]] == ["t2", "t0"]
