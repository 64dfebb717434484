"""The examples run under metaopt as the README says, with a real embedded daemon."""

from __future__ import annotations

from pathlib import Path

from metaopt import history
from metaopt.records import TrialStatus
from tests.helpers import metaopt

EXAMPLES = Path(__file__).parents[2] / "examples"


def test_the_freeze_thaw_example_is_frozen_and_thawed_and_shows_it_in_status(tmp_path):
    out = metaopt(
        tmp_path,
        *("--algo", "asha", "--max-trials", "9", "--seed", "4", "--name", "digits"),
        str(EXAMPLES / "freeze_thaw.py"),
        "--lr~loguniform(1e-3, 1e-1)",
        "--alpha~loguniform(1e-6, 1e-2)",
        "--hidden~choice(16, 32)",
        "--epochs~fidelity(1, 9, base=3)",
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    trials = history("digits", data_dir=tmp_path).trials
    assert len(trials) == 9
    for trial in trials:
        assert [step for step, _ in trial.curve] == list(range(len(trial.curve)))
    frozen = [t for t in trials if t.status == TrialStatus.FROZEN]
    thawed = [t for t in trials if t.attempt > 1]
    assert frozen
    assert thawed
    # ASHA's promotion: the best at rung 3 (its best value in 3 epochs) went the whole way,
    # through two thaws (an MLP may overfit after, so its final value need not be the best)
    third = [t for t in trials if len(t.curve) >= 3]
    best_at_3 = min(third, key=lambda t: min(m["val_loss"] for _, m in t.curve[:3]))
    assert len(best_at_3.curve) == 9
    assert best_at_3.status == TrialStatus.COMPLETED
    assert best_at_3.attempt == 3
    assert best_at_3.curve[-1][1]["accuracy"] > 0.8  # it learned the digits
    status = metaopt(tmp_path, "status")
    assert status.returncode == 0, status.stderr
    header, row = (line.split() for line in status.stdout.splitlines()[:2])
    assert row[header.index("frozen")] == str(len(frozen))
