"""Slots, settings, report parsing, the trial API and the daemon's command-line entry points."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import metaopt
from metaopt._reports import parse_metrics_line
from metaopt._reports import parse_stdout_line
from metaopt.errors import MetaoptError
from metaoptd import settings
from metaoptd.slots import Slot
from metaoptd.slots import inventory
from tests.helpers import wait_until


def test_inventory_packs_trials_per_gpu(monkeypatch):
    monkeypatch.setenv("METAOPT_FAKE_GPUS", "2")
    assert [s.id for s in inventory(trials_per_gpu=3)] == [
        "gpu0.0",
        "gpu0.1",
        "gpu0.2",
        "gpu1.0",
        "gpu1.1",
        "gpu1.2",
    ]
    monkeypatch.setenv("METAOPT_FAKE_GPUS", "0")
    assert inventory(cpu_slots=2) == [Slot("cpu0", None), Slot("cpu1", None)]
    assert Slot("cpu0", None).cuda_visible_devices == ""
    monkeypatch.setenv("METAOPT_FAKE_GPUS", "two")
    with pytest.raises(ValueError, match="METAOPT_FAKE_GPUS"):
        inventory()


def test_settings_file_then_flags(tmp_path):
    (tmp_path / "metaoptd.toml").write_text('slots = 4\nstorage = "tinydb"\n')
    loaded = settings.load(tmp_path, {"slots": 2, "storage": None})
    assert (loaded.slots, loaded.storage) == (2, "tinydb")
    (tmp_path / "metaoptd.toml").write_text("slot = 4\n")
    with pytest.raises(MetaoptError, match=r"unknown setting.*slot"):
        settings.load(tmp_path, {})
    (tmp_path / "metaoptd.toml").write_text("slots = [\n")
    with pytest.raises(MetaoptError, match=r"metaoptd\.toml"):
        settings.load(tmp_path, {})


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("metaopt: step=3 loss=0.25 acc=0.9", (3, {"loss": 0.25, "acc": 0.9})),
        ("metaopt: loss=nan", (7, {"loss": float("nan")})),
        ("metaopt: step=1.5 loss=1", None),
        ("metaopt: loss=high", None),
        ("metaopt: loss", None),
        ("metaopt: step=2", None),
        ("epoch 3 loss=0.2", None),
    ],
)
def test_stdout_report_lines(line, expected):
    got = parse_stdout_line(line, next_step=7)
    if expected is None or got is None:
        assert got == expected
    else:
        assert got[0] == expected[0]
        assert got[1].keys() == expected[1].keys()


def test_metrics_file_lines_tolerate_torn_writes():
    assert parse_metrics_line('{"step":1,"metrics":{"loss":0.5}}') == (1, {"loss": 0.5})
    assert parse_metrics_line('{"step":1,"metr') is None
    assert parse_metrics_line('{"step":"x","metrics":{}}') is None


def test_report_outside_metaopt_notices_once(monkeypatch, capsys):
    monkeypatch.delenv("METAOPT_TRIAL_DIR", raising=False)
    metaopt.report(0, loss=1.0)
    metaopt.report(1, loss=0.5)
    assert capsys.readouterr().err.count("not running under metaopt") <= 1
    assert metaopt.save_checkpoint({"a": 1}) is None
    assert metaopt.load_checkpoint("default") == "default"
    with pytest.raises(TypeError, match="'loss' must be a number"):
        metaopt.report(2, loss="low")


def test_report_and_checkpoint_inside_a_trial(monkeypatch, tmp_path):
    monkeypatch.setenv("METAOPT_TRIAL_DIR", str(tmp_path))
    metaopt.report(0, loss=1, acc=0.5)
    assert parse_metrics_line((tmp_path / "metrics.jsonl").read_text()) == (
        0,
        {"loss": 1.0, "acc": 0.5},
    )
    metaopt.save_checkpoint({"epoch": 3})
    assert metaopt.load_checkpoint() == {"epoch": 3}
    assert not list(tmp_path.glob("*.tmp"))


def test_a_trial_that_reports_loads_nothing_it_does_not_use(tmp_path):
    # every trial pays for this import at start-up: storage, the core, logging, typing and
    # pickle wait until a call needs them
    code = (
        "import sys; import metaopt; metaopt.report(0, loss=1.0); "
        "unused = ('pathlib', 'pickle', 'logging', 'typing', 'metaopt._core', 'plyvel'); "
        "print([m for m in unused if m in sys.modules])"
    )
    # -S: what site itself loads (an editable install's finder imports pathlib) is not ours
    where = os.path.dirname(os.path.dirname(metaopt.__file__))
    env = {**os.environ, "METAOPT_TRIAL_DIR": str(tmp_path), "PYTHONPATH": where}
    out = subprocess.run(
        [sys.executable, "-S", "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == "[]"
    assert parse_metrics_line((tmp_path / "metrics.jsonl").read_text()) == (0, {"loss": 1.0})


def test_report_answers_stop_at_the_budget_and_at_the_stop_file(tmp_path):
    code = (
        "import metaopt, sys; answers = [metaopt.report(s, loss=1.0) for s in (0, 1, 1)]; "
        "open(sys.argv[1] + '/stop', 'w').close() if len(sys.argv) > 1 else None; "
        "print(answers)"
    )
    env = {**os.environ, "METAOPT_TRIAL_DIR": str(tmp_path), "METAOPT_BUDGET": "3"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "[True, True, True]"  # step 1 twice: two steps of three
    env["METAOPT_BUDGET"] = "2"
    (tmp_path / "metrics.jsonl").unlink()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "[True, False, False]"
    # a later run in the same folder counts the steps before it; the stop file stops it too
    env["METAOPT_BUDGET"] = "5"
    again = "import metaopt; print(metaopt.report(2, loss=0.5))"
    out = subprocess.run([sys.executable, "-c", again], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "True"
    (tmp_path / "stop").touch()
    out = subprocess.run([sys.executable, "-c", again], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "False"
    raising = "import metaopt; metaopt.stop_by_exception(); metaopt.report(3, loss=0.4)"
    out = subprocess.run([sys.executable, "-c", raising], env=env)
    assert out.returncode == metaopt.FROZEN_EXIT


def test_library_warnings_stay_silent_until_logging_is_configured(tmp_path):
    # a corrupt record is skipped with a warning on the "metaopt" logger: an application
    # that configured no logging must not see it on stderr
    code = "import metaopt._log, logging; logging.getLogger('metaopt.x').warning('hidden')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stderr == ""


def test_install_cron_print(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "metaoptd", "--data-dir", str(tmp_path), "install-cron", "--print"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.startswith("@reboot ")
    assert "--detach" in out.stdout
    assert str(tmp_path) in out.stdout


def test_detach_writes_pidfile_and_serves(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "metaoptd", "--data-dir", str(tmp_path), "--detach"],
        check=True,
        timeout=60,
    )
    pidfile = tmp_path / "metaoptd.pid"
    pid = int(wait_until(lambda: pidfile.exists() and pidfile.read_text().strip(), what="pidfile"))
    try:
        from metaopt._control import Client

        client = Client(tmp_path / "metaoptd.sock")
        assert wait_until(client.is_alive, what="detached daemon answering")
        assert client.call("ping")["pid"] == pid
    finally:
        os.kill(pid, 15)
    wait_until(lambda: not (tmp_path / "metaoptd.sock").exists(), what="daemon exit")


@pytest.mark.parametrize(
    "body",
    [
        {"pid": 12, "start": 99, "boot_id": "0f-aa"},
        {"error": 'prog: No "such" file \\ here\n\t\x01'},
        {"signal": 9},
        {},
    ],
)
def test_supervisor_json_is_json(body):
    from metaoptd.supervise import _json

    assert json.loads(_json(body)) == body
