"""metaopt plot on real experiments: every kind written, each PNG an image of the set size."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

from metaopt import analysis
from metaopt import history
from metaopt.analysis._figures import HEIGHT
from metaopt.analysis._figures import WIDTH
from tests.helpers import metaopt

FLAGS = ["--lr~loguniform(1e-4, 1e-1)", "--layers~randint(1, 6)", "--act~choice(relu, tanh, gelu)"]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """Two experiments of one script (for the leaderboard), run to their end."""
    home = tmp_path_factory.mktemp("node")
    for name, seed in (("first", "1"), ("second", "2")):
        run = ["--name", name, "--max-trials", "20", "--seed", seed, "--algo", "random"]
        run += ["--max-broken", "20"]  # its failures are data here, however they fall
        out = metaopt(home, *run, "mixed.py", *FLAGS, timeout=300)
        assert out.returncode == 0, out.stderr
    return home


def read_png(path):
    import matplotlib.image

    return matplotlib.image.imread(path)


def test_every_kind_is_written_as_an_image_of_the_set_size(data_dir, tmp_path):
    out = metaopt(data_dir, "plot", "second", "--kind", "all", "-o", str(tmp_path))
    assert out.returncode == 0, out.stderr
    for kind in analysis.KINDS:
        path = tmp_path / f"second-{kind}.png"
        assert str(path) in out.stdout.splitlines()
        image = read_png(path)
        assert image.shape[:2] == (HEIGHT, WIDTH)
        assert float(np.std(image[..., :3])) > 0.01, f"{kind}: a blank image"


def test_the_suffix_sets_the_format_and_html_is_one_offline_page(data_dir, tmp_path):
    for suffix, magic in ((".svg", b"<?xml"), (".pdf", b"%PDF"), (".html", b"<!doctype html>")):
        path = tmp_path / f"slice{suffix}"
        out = metaopt(data_dir, "plot", "first", "--kind", "slice", "-o", str(path))
        assert out.returncode == 0, out.stderr
        assert path.read_bytes().startswith(magic)
    page = (tmp_path / "slice.html").read_text()
    assert "<svg" in page
    assert not re.search(r"(src|href)=[\"']?https?:", page)  # nothing to fetch: works offline


def test_bad_requests_say_what_is_wrong(data_dir, tmp_path):
    out = metaopt(data_dir, "plot", "nope")
    assert out.returncode == 1
    assert "nope" in out.stderr
    out = metaopt(data_dir, "plot", "first", "-o", str(tmp_path / "a.jpeg"))
    assert out.returncode == 1
    assert "unknown format 'jpeg'" in out.stderr
    out = metaopt(data_dir, "plot", "first", "--kind", "pie")
    assert out.returncode == 2
    assert "invalid choice: 'pie'" in out.stderr


def test_the_numbers_behind_the_plots(data_dir):
    first, second = history("first", data_dir=data_dir), history("second", data_dir=data_dir)
    points = analysis.best_so_far(second)
    assert [p.number for p in points] == list(range(1, len(points) + 1))
    assert all(a.best >= b.best for a, b in itertools.pairwise(points))
    assert points[-1].best == min(p.value for p in points)
    # the failures: one group, the rate blanked out of their common last line
    groups = analysis.failures(second)
    failed = [t for t in second.trials if t.status.label == "failed"]
    assert sum(len(g.trial_ids) for g in groups) == len(failed) > 0
    assert groups[0].signature == "FloatingPointError: loss diverged at lr=# after # steps"
    # importance: shares of one, the layers (a parabola over 1..5) above the choice
    shares = analysis.importance(second)
    assert set(shares) == {"lr", "layers", "act"}
    assert sum(shares.values()) == pytest.approx(1.0)
    assert shares["layers"] > shares["act"]
    # the leaderboard spans both experiments of mixed.py, best first
    board = analysis.leaderboard([second, first], top=5)
    assert [e.value for e in board] == sorted(e.value for e in board)
    best = min(t.objective("loss") for h in (first, second) for t in h.trials if t.curve)
    assert board[0].value == best
    assert [name for name, _ in analysis.trend([second, first])] == ["first", "second"]


def test_an_experiment_with_nothing_to_plot_says_so_and_still_shows_its_failures(tmp_path):
    flags = ["--lr~uniform(0.05, 0.1)", "--layers~randint(1, 6)", "--act~choice(relu, tanh)"]
    metaopt(tmp_path, "--name", "bad", "--max-trials", "4", "mixed.py", *flags, timeout=300)
    out = metaopt(tmp_path, "plot", "bad", "-o", str(tmp_path / "h.png"))
    assert out.returncode == 1
    assert "bad: no completed trial to plot yet" in out.stderr
    assert not (tmp_path / "h.png").exists()
    out = metaopt(tmp_path, "plot", "bad", "--kind", "all", "-o", str(tmp_path / "all"))
    assert out.returncode == 0, out.stderr
    assert "importance: skipped: bad: parameter importance needs 5 completed trials" in out.stdout
    assert [p.name for p in (tmp_path / "all").iterdir()] == ["bad-failures.png"]
