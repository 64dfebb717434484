"""Three real daemons on loopback, one cluster: one history, each point once, failover, stop.

Each daemon has its own data dir and port; they share one key file and join the first.
"""

from __future__ import annotations

import json
import os
import re
import signal

import pytest

from tests.helpers import history_json as history
from tests.helpers import metaopt
from tests.helpers import submit_quadratic as submit
from tests.helpers import wait_until

pytestmark = pytest.mark.slow


def starts(daemon) -> list[str]:
    """The trial ids this daemon started, from its log."""
    return re.findall(r": started trial (\w+) \(attempt", daemon.log.read_text())


def test_three_daemons_run_one_experiment_and_show_one_history(cluster):
    a, b, c = (cluster.start(n) for n in "abc")
    cluster.wait_members(3)
    submit(b, "exp", "--x~uniform(0, 1)", "--sleep=0.3", max_trials=9, objective="loss")
    for d in (a, b, c):
        d.wait_status("done", timeout=120)
    wait_until(lambda: len({d.call("ping")["digest"] for d in (a, b, c)}) == 1, 30, "one digest")
    histories = [history(d, "exp") for d in (a, b, c)]
    assert histories[0] == histories[1] == histories[2]
    trials = histories[0]
    assert len(trials) == 9
    assert {t["status"] for t in trials} == {"completed"}
    ids = {d.call("ping")["node"] for d in (a, b, c)}
    assert {t["node"] for t in trials} == ids  # trials ran on all three
    peers = metaopt(a.data_dir, "peers")
    assert peers.returncode == 0, peers.stderr
    assert peers.stdout.count(" alive ") == 3


def test_a_3x3_grid_on_three_nodes_runs_each_point_once(cluster):
    nodes = [cluster.start(n) for n in "abc"]
    cluster.wait_members(3)
    submit(nodes[0], "grid", "--x~choice(0.1, 0.2, 0.3)", "--y~choice(0.1, 0.5, 0.9)",
           "--sleep=0.2", algo="grid", max_trials=100)  # fmt: skip
    for d in nodes:
        d.wait_status("done", name="grid", timeout=120)
    trials = history(nodes[0], "grid")
    assert len(trials) == 9
    assert len({(t["params"]["x"], t["params"]["y"]) for t in trials}) == 9
    assert all(t["status"] == "completed" and t["attempt"] == 1 for t in trials)
    started = [tid for d in nodes for tid in starts(d)]
    assert sorted(started) == sorted(t["id"] for t in trials)  # each started once, anywhere


def test_a_node_killed_with_its_trials_loses_nothing(cluster):
    a, b, c = (cluster.start(n) for n in "abc")
    cluster.wait_members(3)
    submit(a, "exp", "--x~uniform(0, 1)", "--sleep=1", "--steps=4", max_trials=12)
    victim_id = c.call("ping")["node"]
    assert c.address
    wait_until(lambda: any(t["node"] == victim_id and t["status"] == "running"
                           for t in history(a, "exp")), 60, "a trial running on c")  # fmt: skip
    for path in c.data_dir.glob("trials/*/*/supervisor.json"):  # kill -9: trials, then daemon
        os.killpg(json.loads(path.read_text())["pid"], signal.SIGKILL)
    c.proc.send_signal(signal.SIGKILL)
    c.proc.wait()
    for d in (a, b):
        d.wait_status("done", timeout=180)
    trials = history(a, "exp")
    completed = [t for t in trials if t["status"] == "completed"]
    assert len(completed) == 12
    assert len({t["id"] for t in trials}) == len(trials)  # none counted twice
    adopted = [t for t in trials if t["attempt"] > 1]
    assert adopted, "c's trials were not taken up"
    assert all(t["node"] != victim_id for t in adopted)
    back = cluster.restart(c)
    wait_until(lambda: back.call("ping")["digest"] == a.call("ping")["digest"], 60, "c catches up")
    assert back.call("ping")["running"] == 0  # it starts nothing of what is done


def test_a_returning_node_stops_its_copies_that_were_adopted(cluster):
    a, b = cluster.start("a"), cluster.start("b")
    cluster.wait_members(2)
    submit(a, "exp", "--x~uniform(0, 1)", "--sleep=20", "--steps=3", max_trials=2)
    b_id = b.call("ping")["node"]
    assert b.address
    wait_until(
        lambda: len(list(b.data_dir.glob("trials/exp/*/supervisor.json"))) > 0, 60, "b runs"
    )
    b.proc.send_signal(signal.SIGKILL)  # the daemon alone: its trial runs on
    b.proc.wait()
    orphan = json.loads(next(b.data_dir.glob("trials/exp/*/supervisor.json")).read_text())["pid"]
    wait_until(lambda: any(t["node"] != b_id and t["attempt"] == 2 for t in history(a, "exp")),
               90, "a takes b's trial over")  # fmt: skip
    assert os.path.exists(f"/proc/{orphan}")  # still running on b: nobody told it
    back = cluster.restart(b)
    wait_until(lambda: not os.path.exists(f"/proc/{orphan}"), 60, "b stops its lost copy")
    assert "lost claim" in back.log.read_text()


def test_stop_on_one_node_stops_the_experiment_on_all(cluster):
    a, b, c = (cluster.start(n) for n in "abc")
    cluster.wait_members(3)
    submit(a, "exp", "--x~uniform(0, 1)", "--sleep=30", max_trials=6)
    wait_until(lambda: all(d.call("ping")["running"] > 0 for d in (a, b, c)), 60, "all busy")
    out = metaopt(c.data_dir, "stop", "exp")
    assert out.returncode == 0, out.stderr
    for d in (a, b, c):
        wait_until(lambda d=d: d.call("ping")["running"] == 0, 60, "its trials stopped")
        assert d.summary("exp")["status"] == "stopped"
    resumed = metaopt(b.data_dir, "resume", "exp")
    assert "exp: resumed" in resumed.stdout
    wait_until(lambda: a.call("ping")["running"] > 0, 60, "a runs again after a resume on b")


def test_a_node_with_another_key_neither_joins_nor_injects(cluster, tmp_path):
    a, b = cluster.start("a"), cluster.start("b")
    cluster.wait_members(2)
    other = tmp_path / "other.key"
    other.write_text("ab" * 32 + "\n")
    other.chmod(0o600)
    stranger = cluster.start("stranger", key=other)
    submit(stranger, "injected", "--x~uniform(0, 1)", max_trials=1)
    stranger.wait_status("done", name="injected", timeout=60)  # it runs alone
    wait_until(lambda: "wrong cluster key" in a.log.read_text(), 30, "a logs the stranger")
    line = next(x for x in a.log.read_text().splitlines() if "wrong cluster key" in x)
    assert f"rejected packets from 127.0.0.1:{stranger.address.rpartition(':')[2]}" in line
    assert [m["node"] for m in a.call("peers")] == sorted(d.call("ping")["node"] for d in (a, b))
    assert a.call("status") == []  # nothing got in
    assert b.call("status") == []
    wait_until(lambda: "no node answered" in stranger.log.read_text(), 60, "the stranger says so")


def test_a_node_says_whether_it_has_settled(cluster):
    a = cluster.start("a")
    b = cluster.start("b", "--settle", "60")  # the last flag wins over FLAGS' one second
    cluster.wait_members(2)
    assert a.call("ping")["settled"]  # no seed to wait for
    assert not b.call("ping")["settled"]  # it acts on nothing until it may hold the history
