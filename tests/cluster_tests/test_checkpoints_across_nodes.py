"""Checkpoints across real daemons on loopback: a trial frozen on one node is thawed on another
from the checkpoint fetched from the first, and a running trial whose node is killed resumes on
its adopter from the copy of its checkpoint, not from step 0."""

from __future__ import annotations

import json
import os
import re
import signal

import pytest

from tests.helpers import history_json as history
from tests.helpers import wait_until

pytestmark = pytest.mark.slow
SPACE = ("--x~uniform(0, 1)", "--epochs~fidelity(1, 9, base=3)")


def fetched(daemon) -> list[tuple[str, str]]:
    """(trial id, from node) of each checkpoint this daemon fetched, from its log."""
    found = re.findall(r"fetched the checkpoint of trial (\w+) from (\S+)", daemon.log.read_text())
    return [(tid, node) for tid, node in found]


def test_a_frozen_trial_is_thawed_on_another_node_from_the_fetched_checkpoint(cluster):
    a = cluster.start("a")
    a.submit("epochs.py", *SPACE, "--sleep=0.3", algo="asha", max_trials=9, objective="loss")

    def thawing() -> bool:
        return any(t["attempt"] > 1 and t["status"] == "running" for t in history(a, "exp"))

    wait_until(thawing, 120, "a thaw running on a")
    a.call("stop", name="exp")  # the thaw is interrupted; the frozen trials wait on a
    # a's one slot is taken by a long trial of another experiment; b, free, joins
    a.submit("epochs.py", "--x~uniform(0, 1)", "--epochs=1", "--sleep=120", name="blocker",
             algo="random", max_trials=1, objective="loss")  # fmt: skip
    wait_until(lambda: a.call("ping")["running"] == 1, 60, "a busy")
    b = cluster.start("b")
    cluster.wait_members(2)
    a.call("resume", name="exp")
    b.wait_status("done", timeout=240)
    a_id, b_id = a.call("ping")["node"], b.call("ping")["node"]
    moved = {tid for tid, src in fetched(b) if src == a_id}
    assert moved, "b fetched none of a's checkpoints"
    trials = {t["id"]: t for t in history(b, "exp")}
    assert len(trials) == 9
    for tid in moved:
        assert trials[tid]["node"] == b_id
    for trial in trials.values():
        steps = [point["step"] for point in trial["curve"]]
        assert steps == list(range(len(steps)))  # one continuous curve, wherever it ran
        # every step past the first was trained by a thaw that went on from a checkpoint
        for point in trial["curve"]:
            step, start = point["step"], point["start"]
            assert (start == 0) if step == 0 else (1 <= start <= step), trial
    assert not list(b.data_dir.glob("trials/*/*/*.part"))


@pytest.mark.parametrize("shared", [False, True], ids=["copy-on-a-peer", "shared-dir"])
def test_a_node_killed_mid_trial_is_resumed_by_its_adopter_from_the_copied_checkpoint(
    cluster, shared
):
    flags = ["--copy-interval", "0.3"]
    if shared:  # a folder both mount: the copy goes there, not onto the peer
        flags += ["--shared-dir", str(cluster.root / "shared")]
    a, b = cluster.start("a", *flags), cluster.start("b", *flags)
    cluster.wait_members(2)
    a.submit("epochs.py", "--x~uniform(0, 1)", "--epochs=40", "--sleep=0.25", algo="random",
             max_trials=1, objective="loss")  # fmt: skip
    daemons = {d.call("ping")["node"]: d for d in (a, b)}

    def copied() -> dict | None:
        trials = history(a, "exp")
        ok = trials and trials[0]["status"] == "running" and trials[0]["copy"]["step"] >= 4
        return trials[0] if ok else None

    trial = wait_until(copied, 90, "a running trial's checkpoint copied at step 4 or later")
    victim = daemons[trial["node"]]
    (adopter,) = (d for d in (a, b) if d is not victim)
    assert trial["copy"]["node"] == ("(shared dir)" if shared else adopter.call("ping")["node"])
    for path in victim.data_dir.glob("trials/*/*/supervisor.json"):  # kill -9: trials, daemon
        os.killpg(json.loads(path.read_text())["pid"], signal.SIGKILL)
    victim.proc.send_signal(signal.SIGKILL)
    victim.proc.wait()
    adopter.wait_status("done", timeout=180)
    done = history(adopter, "exp")[0]
    assert done["status"] == "completed"
    assert done["node"] == adopter.call("ping")["node"]
    assert done["attempt"] == 2
    assert [point["step"] for point in done["curve"]] == list(range(40))
    resumed_at = done["curve"][-1]["start"]
    assert resumed_at >= trial["copy"]["step"] - 1 > 0  # from the copy, not from step 0
    where = "in the shared folder" if shared else "held here"
    assert f"resumes from the copy of its checkpoint {where}" in adopter.log.read_text()
    if shared:  # the copy of a finished trial is deleted from the shared folder too
        assert not list((cluster.root / "shared").glob("*/*/checkpoint.pkl"))
