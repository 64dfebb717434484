"""Early stopping on a real daemon: trials frozen at a rung, thawed from their checkpoints."""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import signal

from metaopt import history
from metaopt.records import Trial
from metaopt.records import TrialStatus
from tests.helpers import metaopt
from tests.helpers import wait_until

ASHA = ["--algo", "asha", "--max-trials", "9", "--seed", "3"]
SPACE = ["--x~uniform(0, 1)", "--epochs~fidelity(1, 9, base=3)"]


def run(tmp_path, *flags: str):
    out = metaopt(tmp_path, *ASHA, "--name", "exp", "epochs.py", *SPACE, *flags, timeout=300)
    assert out.returncode == 0, out.stderr
    return history("exp", data_dir=tmp_path).trials


def continuous(trial) -> bool:
    steps = [step for step, _ in trial.curve]
    return steps == list(range(len(steps)))


def test_frozen_trials_thaw_from_their_checkpoints_with_one_continuous_curve(tmp_path):
    trials = run(tmp_path)
    assert len(trials) == 9
    assert all(continuous(t) for t in trials)
    assert all(t.params.keys() == {"x"} for t in trials)  # the budget is not part of the point
    # frozen at rungs 1 and 3, with checkpoints; none trained past its budget
    frozen = [t for t in trials if t.status == TrialStatus.FROZEN]
    assert frozen
    assert {len(t.curve) for t in frozen} <= {1, 3}
    assert all(t.checkpoint_bytes > 0 for t in frozen)
    # ASHA's end: the best third of rung 1 went on to 3, the best of rung 3 on to 9, thawed
    # twice and completed
    assert_rungs_promoted(trials)
    full = [t for t in trials if len(t.curve) == 9]
    assert all(t.status == TrialStatus.COMPLETED and t.attempt == 3 for t in full)


def assert_rungs_promoted(trials) -> None:
    def at(trial, rung: int) -> float:
        return trial.curve[rung - 1][1]["loss"]

    first = sorted(trials, key=lambda t: at(t, 1))
    assert all(len(t.curve) >= 3 for t in first[:3])
    third = sorted((t for t in trials if len(t.curve) >= 3), key=lambda t: at(t, 3))
    assert len(third[0].curve) == 9


def test_a_script_that_trains_past_its_budget_is_stopped_at_its_end(tmp_path):
    trials = run(tmp_path, "--past-budget", "--sleep=0.3")
    assert all(continuous(t) for t in trials)
    frozen = [t for t in trials if t.status == TrialStatus.FROZEN]
    assert all(t.exit_code == 75 for t in frozen)  # report said stop: FROZEN_EXIT
    assert {len(t.curve) for t in frozen} <= {1, 3}  # not one step beyond its budget
    assert_rungs_promoted(trials)


def test_a_script_that_opted_in_is_stopped_by_an_exception(tmp_path):
    trials = run(tmp_path, "--by-exception")
    assert all(continuous(t) for t in trials)
    frozen = [t for t in trials if t.status == TrialStatus.FROZEN]
    assert frozen
    assert all(t.exit_code == 75 for t in frozen)
    assert_rungs_promoted(trials)


def test_a_script_that_ignores_the_answer_is_stopped_after_the_grace_period(tmp_path):
    (tmp_path / "metaoptd.toml").write_text("grace_period = 0.5\n")
    trials = run(tmp_path, "--past-budget", "--ignore-stop", "--sleep=0.2")
    assert all(continuous(t) for t in trials)
    frozen = [t for t in trials if t.status == TrialStatus.FROZEN]
    assert frozen
    assert any(t.exit_code is None for t in frozen)  # by a signal, not by its own exit
    assert all(t.checkpoint_bytes > 0 for t in frozen)
    assert any(len(t.curve) == 9 and t.status == TrialStatus.COMPLETED for t in trials)
    log = (tmp_path / "metaoptd.log").read_text()
    assert "stopping trial" in log
    assert "early stopping" in log


def test_a_script_without_checkpoints_is_stopped_early_and_never_thawed(tmp_path):
    trials = run(tmp_path, "--no-checkpoint")
    assert len(trials) == 9
    assert all(t.attempt == 1 for t in trials)
    assert all(t.status == TrialStatus.COMPLETED for t in trials)
    assert all(len(t.curve) == 1 for t in trials)


def test_a_frozen_trial_survives_kill_9_of_its_daemon_and_is_thawed_after_the_restart(
    start_daemon,
):
    daemon = start_daemon("--slots", "1")
    epochs = ["--x~uniform(0, 1)", "--epochs~fidelity(1, 9, base=3)", "--sleep=0.2"]
    daemon.submit("epochs.py", *epochs, algo="asha", max_trials=9, objective="loss")

    def frozen() -> list[Trial]:
        trials = [Trial.from_json(t) for t in daemon.call("trials", name="exp")["trials"]]
        return [t for t in trials if t.status == TrialStatus.FROZEN]

    before = wait_until(lambda: len(f := frozen()) >= 3 and f, what="three frozen trials")
    daemon.stop(signal.SIGKILL)
    for path in daemon.data_dir.glob("trials/exp/*/supervisor.json"):  # a power cut
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.killpg(json.loads(path.read_text())["pid"], signal.SIGKILL)

    daemon = start_daemon("--slots", "1", data_dir=daemon.data_dir)
    daemon.wait_status("done", timeout=120)
    trials = history("exp", data_dir=daemon.data_dir).trials
    assert len(trials) == 9
    assert all(continuous(t) for t in trials)
    # ASHA's promotions all happened, those due after the restart included, from checkpoints
    # that outlived the kill: what was frozen kept its steps and went on from them
    assert_rungs_promoted(trials)
    after = {t.id: t for t in trials}
    assert all(len(after[t.id].curve) >= len(t.curve) for t in before)
    assert all(after[t.id].attempt >= t.attempt for t in before)


def checkpoints(tmp_path) -> set[str]:
    return {p.parent.name for p in tmp_path.glob("trials/exp/*/checkpoint.pkl")}


def test_checkpoints_live_as_long_as_their_trials_may_be_thawed(tmp_path):
    trials = run(tmp_path)
    frozen = {t.id for t in trials if t.status == TrialStatus.FROZEN}
    assert frozen
    assert checkpoints(tmp_path) == frozen  # a completed trial's checkpoint is gone


def test_frozen_checkpoints_beyond_the_limit_stop_the_least_promising_for_good(tmp_path):
    size = len(pickle.dumps({"epoch": 1}, protocol=pickle.HIGHEST_PROTOCOL))
    limit_mb = 2.5 * size / 1e6  # room for two checkpoints
    (tmp_path / "metaoptd.toml").write_text(f"frozen_limit_mb = {limit_mb!r}\n")
    trials = run(tmp_path)
    frozen = [t for t in trials if t.status == TrialStatus.FROZEN]
    assert 0 < len(frozen) <= 2
    assert sum(t.checkpoint_bytes for t in frozen) <= limit_mb * 1e6
    assert checkpoints(tmp_path) == {t.id for t in frozen}
    assert all(continuous(t) for t in trials)
    assert "stopped for good" in (tmp_path / "metaoptd.log").read_text()


def test_freezethaw_freezes_and_thaws_under_the_daemon_with_one_curve_per_trial(tmp_path):
    out = metaopt(tmp_path, "--algo", "freezethaw", "--max-trials", "8", "--seed", "3",
                  "--name", "exp", "epochs.py", *SPACE, "--sleep=0.2", timeout=300)  # fmt: skip
    assert out.returncode == 0, out.stderr
    trials = history("exp", data_dir=tmp_path).trials
    assert len(trials) == 8
    assert all(continuous(t) for t in trials)
    assert all(t.params.keys() == {"x"} for t in trials)
    assert any(t.status == TrialStatus.COMPLETED and len(t.curve) == 9 for t in trials)
    assert any(len(t.curve) < 9 for t in trials)  # some were not trained to the end
