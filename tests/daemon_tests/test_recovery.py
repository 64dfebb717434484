"""Nothing is lost: kill -9 of the daemon, trials dying while it is down, SIGTERM to the daemon."""

from __future__ import annotations

import json
import os
import signal

import metaopt
from metaopt.records import TrialStatus
from tests.helpers import wait_until


def _trial_pids(data_dir):
    return {p.parent.name: int(p.read_text()) for p in data_dir.glob("trials/exp/*/trial.pid")}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_kill_9_then_restart_readopts_running_trials(start_daemon):
    daemon = start_daemon("--slots", "2")
    daemon.submit("sleeper.py", "--x~uniform(0, 1)", "--seconds=3", max_trials=4, objective="loss")
    wait_until(lambda: len(_trial_pids(daemon.data_dir)) == 2, what="two trials started")
    running = _trial_pids(daemon.data_dir)
    daemon.stop(signal.SIGKILL)
    assert all(_alive(pid) for pid in running.values())  # trials outlive their daemon

    daemon = start_daemon("--slots", "2", data_dir=daemon.data_dir)
    summary = daemon.wait_status("done")
    assert summary["counts"] == {"completed": 4}
    hist = {t.id: t for t in metaopt.history("exp", data_dir=daemon.data_dir)}
    for tid in running:
        trial = hist[tid]
        assert trial.attempt == 1, "a re-adopted trial is not started again"
        # the report written after the restart landed: step 1 exists, from the first run
        assert trial.curve[-1] == (1, {"loss": trial.params["x"] / 2, "runs": 1.0})


def test_trials_dead_while_daemon_down_are_requeued_and_resume(start_daemon):
    daemon = start_daemon("--slots", "2")
    daemon.submit(
        "sleeper.py", "--x~uniform(0, 1)", "--seconds=30", max_trials=2, objective="loss"
    )
    wait_until(lambda: len(_trial_pids(daemon.data_dir)) == 2, what="two trials started")
    wait_until(lambda: daemon.summary()["counts"].get("running") == 2, what="two trials running")
    daemon.stop(signal.SIGKILL)
    for path in daemon.data_dir.glob("trials/exp/*/supervisor.json"):  # as if the machine rebooted
        os.killpg(json.loads(path.read_text())["pid"], signal.SIGKILL)

    daemon = start_daemon("--slots", "2", data_dir=daemon.data_dir)
    summary = daemon.wait_status("done")
    assert summary["counts"] == {"completed": 2}
    for trial in metaopt.history("exp", data_dir=daemon.data_dir):
        assert trial.attempt == 2
        assert trial.curve[-1][1]["runs"] == 2.0  # resumed from its checkpoint


def test_sigterm_interrupts_trials_and_a_restart_resumes(start_daemon):
    daemon = start_daemon("--slots", "2")
    daemon.submit(
        "sleeper.py", "--x~uniform(0, 1)", "--seconds=30", max_trials=2, objective="loss"
    )
    wait_until(lambda: daemon.summary()["counts"].get("running") == 2, what="two trials running")
    pids = wait_until(lambda: len(p := _trial_pids(daemon.data_dir)) == 2 and p, what="trial pids")
    assert daemon.stop(signal.SIGTERM) == 0
    assert not any(_alive(pid) for pid in pids.values())
    trials = metaopt.history("exp", data_dir=daemon.data_dir).trials
    assert [t.status for t in trials] == [TrialStatus.INTERRUPTED] * 2
    assert all(t.signal == signal.SIGTERM for t in trials)

    daemon = start_daemon("--slots", "2", data_dir=daemon.data_dir)
    assert daemon.wait_status("done")["counts"] == {"completed": 2}


def test_stop_and_resume_over_the_socket(start_daemon):
    daemon = start_daemon()
    daemon.submit(
        "sleeper.py", "--x~uniform(0, 1)", "--seconds=30", max_trials=1, objective="loss"
    )
    wait_until(lambda: daemon.summary()["counts"].get("running") == 1, what="trial running")
    assert daemon.call("stop", name="exp")["interrupted"] == 1
    summary = daemon.summary()
    assert summary["status"] == "stopped"
    assert summary["counts"] == {"interrupted": 1}
    daemon.call("resume", name="exp")
    assert daemon.wait_status("done")["counts"] == {"completed": 1}


def test_a_trial_that_ends_while_its_daemon_is_down_is_recorded_not_run_again(start_daemon):
    daemon = start_daemon("--slots", "1")
    daemon.submit("sleeper.py", "--x~uniform(0, 1)", "--seconds=2", max_trials=1, objective="loss")
    wait_until(lambda: len(_trial_pids(daemon.data_dir)) == 1, what="the trial started")
    daemon.stop(signal.SIGKILL)
    ends = lambda: list(daemon.data_dir.glob("trials/exp/*/exit.json"))  # noqa: E731
    wait_until(ends, what="the trial's end, with no daemon to see it", timeout=30)

    daemon = start_daemon("--slots", "1", data_dir=daemon.data_dir)
    assert daemon.wait_status("done")["counts"] == {"completed": 1}
    (trial,) = metaopt.history("exp", data_dir=daemon.data_dir)
    assert trial.attempt == 1, "a trial that completed is not run again"
    x = trial.params["x"]
    assert trial.curve == ((0, {"loss": x, "runs": 1.0}), (1, {"loss": x / 2, "runs": 1.0}))


def test_a_report_the_daemon_died_before_recording_is_kept_with_its_checkpoint(start_daemon):
    daemon = start_daemon("--slots", "1")
    flags = ["--x~uniform(0, 1)", "--epochs=4", "--cut-at=2", f"--daemon-pid={daemon.proc.pid}"]
    daemon.submit("power_cut.py", *flags, max_trials=1, objective="loss")
    assert daemon.proc.wait(timeout=60) == -signal.SIGKILL  # the trial cut the power

    daemon = start_daemon("--slots", "1", data_dir=daemon.data_dir)
    assert daemon.wait_status("done")["counts"] == {"completed": 1}
    (trial,) = metaopt.history("exp", data_dir=daemon.data_dir)
    assert trial.attempt == 2
    # epoch 2 was reported and checkpointed by the first run, recorded after the restart; the
    # second run went on from the checkpoint at epoch 3: one curve, no step missing or repeated
    assert [(step, m["start"]) for step, m in trial.curve] == [(0, 0), (1, 0), (2, 0), (3, 3)]
