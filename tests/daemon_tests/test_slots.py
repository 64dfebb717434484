"""Slots: fake GPUs with several trials each, and experiments sharing the slots fairly."""

from __future__ import annotations

import collections

import metaopt
from tests.helpers import wait_until


def test_two_fake_gpus_two_trials_each_see_their_gpu(start_daemon):
    daemon = start_daemon("--trials-per-gpu", "2", env={"METAOPT_FAKE_GPUS": "2"})
    slots = daemon.call("ping")["slots"]
    assert [(s["id"], s["gpu"]) for s in slots] == [
        ("gpu0.0", "0"),
        ("gpu0.1", "0"),
        ("gpu1.0", "1"),
        ("gpu1.1", "1"),
    ]
    daemon.submit("quadratic.py", "--x~uniform(0, 1)", "--steps=2", "--sleep=1", max_trials=4)
    wait_until(lambda: daemon.summary()["counts"].get("running") == 4, what="4 trials at once")
    daemon.wait_status("done")
    per_gpu: collections.Counter[str] = collections.Counter()
    for trial in metaopt.history("exp", data_dir=daemon.data_dir):
        stdout = (daemon.data_dir / "trials" / "exp" / trial.id / "stdout.log").read_text()
        assert f"cuda={trial.gpu!r}" in stdout, f"trial on {trial.slot} printed {stdout!r}"
        per_gpu[trial.gpu] += 1
    assert per_gpu == {"0": 2, "1": 2}


def test_cpu_slots_hide_gpus(start_daemon):
    daemon = start_daemon()
    daemon.submit("quadratic.py", "--x~uniform(0, 1)", max_trials=1)
    daemon.wait_status("done")
    trial = metaopt.history("exp", data_dir=daemon.data_dir).trials[0]
    stdout = (daemon.data_dir / "trials" / "exp" / trial.id / "stdout.log").read_text()
    assert "cuda=''" in stdout


def test_two_experiments_share_slots(start_daemon):
    daemon = start_daemon("--slots", "2")
    daemon.submit("sleeper.py", "--x~uniform(0, 1)", "--seconds=1", name="a", max_trials=4)
    daemon.submit("sleeper.py", "--x~uniform(0, 1)", "--seconds=1", name="b", max_trials=4)

    def one_each():
        running = [daemon.summary(n)["counts"].get("running", 0) for n in ("a", "b")]
        return running == [1, 1]

    wait_until(one_each, what="one trial of each experiment running")
    daemon.wait_status("done", name="a")
    daemon.wait_status("done", name="b")
