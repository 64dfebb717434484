"""The dashboard's page in a real browser, on a daemon running a real experiment: the table
fills in and the plots move without a reload, the buttons stop and resume, the form schedules
(and refuses a malformed prior in the CLI's words), and a store with no daemon shows read-only.
A screenshot of each view is kept (see conftest.ARTIFACTS)."""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers import CLI
from tests.helpers import SCRIPTS
from tests.helpers import DaemonProcess
from tests.helpers import metaopt

FLAGS = ["--lr~loguniform(1e-4, 1e-1)", "--layers~randint(1, 6)", "--act~choice(relu, tanh, gelu)"]
TIMEOUT = 60.0


@pytest.fixture(scope="module")
def node(tmp_path_factory) -> Iterator[tuple[DaemonProcess, str]]:
    """A daemon serving the page, running a paced search of tests/scripts/mixed.py (it fails
    when lr > 0.01, so the failures view has something to show)."""
    daemon = DaemonProcess(tmp_path_factory.mktemp("page") / "node", "--slots", "2", "--http", "0")
    command = [sys.executable, str(SCRIPTS / "mixed.py"), *FLAGS, "--pace", "0.12"]
    experiment = {
        "name": "exp",
        "command": command,
        "cwd": str(SCRIPTS),
        "seed": 1,
        "algo": "random",
        "max_trials": 40,
        "max_broken": 40,
    }
    daemon.call("submit", experiment=experiment)
    host, port = daemon.call("ping")["http"].rsplit(":", 1)
    token = (daemon.data_dir / "http.token").read_text().strip()
    try:
        yield daemon, f"http://{host}:{port}/?token={token}"
    finally:
        daemon.stop()


def wait(driver: Any, what: str, check: Callable[[], Any], timeout: float = TIMEOUT) -> Any:
    """Poll ``check`` against the page until it is truthy; on timeout, fail with the page's
    notice line and what was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
        except Exception:  # an element between two redraws
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            notice = driver.find_element("id", "notice").text
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what} (notice: {notice!r})")
        time.sleep(0.1)


def count(driver: Any, selector: str) -> int:
    return len(driver.find_elements("css selector", selector))


def plotted(driver: Any, figure: str) -> int:
    """How many points a scatter plot draws."""
    dots = driver.find_element("css selector", f"#{figure} path.points")
    return int(dots.get_attribute("data-count"))


def text(driver: Any, element_id: str) -> str:
    return str(driver.find_element("id", element_id).text)


def test_the_page_fills_in_and_its_plots_move_without_a_reload(node, browser, screenshots):
    daemon, url = node
    browser.get(url)
    assert "token=" not in browser.current_url  # kept for the tab, out of the address bar
    browser.execute_script("window.sameDocument = true")
    wait(browser, "the experiment", lambda: text(browser, "exp-name") == "exp")
    first = wait(browser, "a completed trial plotted", lambda: plotted(browser, "plot-history"))
    wait(browser, "the history plot to grow", lambda: plotted(browser, "plot-history") > first)
    assert browser.execute_script("return window.sameDocument") is True  # never reloaded
    wait(browser, "the trial table", lambda: count(browser, "#trials tbody tr") >= 3)
    heads = [th.text for th in browser.find_elements("css selector", "#trials thead th")]
    assert {"lr", "layers", "act", "node", "gpu", "stderr", "loss"} <= set(heads)
    node_id = daemon.call("ping")["node"]
    cells = browser.find_elements("css selector", "#trials tbody tr td:nth-child(5)")
    assert {c.text for c in cells} == {node_id}
    members = wait(
        browser, "this node among the members", lambda: browser.find_element("id", "members").text
    )
    assert node_id in members
    assert "slots busy" in members
    browser.save_screenshot(str(screenshots / "experiment.png"))
    browser.find_element("id", "members").screenshot(str(screenshots / "cluster.png"))


def test_failures_show_their_stderr_tail(node, browser, screenshots):
    daemon, _ = node
    wait(browser, "a failed trial", lambda: "failed" in daemon.summary()["counts"])
    wait(
        browser,
        "the failures plot",
        lambda: "FloatingPointError" in text(browser, "plot-failures"),
    )
    browser.execute_script(
        "const s = document.getElementById('status-filter');"
        "s.value = 'failed'; s.dispatchEvent(new Event('change'));"
    )
    wait(
        browser,
        "only failed trials",
        lambda: {r.get_attribute("data-status") for r in rows(browser)} == {"failed"},
    )
    summary = "#trials tbody tr td.stderr summary"
    assert (
        "FloatingPointError: loss diverged at lr="
        in browser.find_element("css selector", summary).text
    )
    click(browser, summary)  # the whole tail opens, and stays open as the table is redrawn
    time.sleep(2)  # a poll or more
    tail = browser.find_element("css selector", "#trials td.stderr details[open] pre")
    assert "Traceback" in tail.text
    browser.find_element("id", "plot-failures").screenshot(str(screenshots / "failures.png"))
    browser.execute_script(
        "const s = document.getElementById('status-filter');"
        "s.value = ''; s.dispatchEvent(new Event('change'));"
    )


def click(driver: Any, selector: str) -> None:
    """Click an element the page may redraw (a table's header): again if it was replaced."""
    from selenium.common.exceptions import StaleElementReferenceException

    for _ in range(20):
        try:
            driver.find_element("css selector", selector).click()
            return
        except StaleElementReferenceException:
            time.sleep(0.05)
    pytest.fail(f"{selector} kept being redrawn")


def rows(driver: Any) -> list[Any]:
    return list(driver.find_elements("css selector", "#trials tbody tr"))


def objectives(driver: Any) -> list[float]:
    cells = driver.find_elements("css selector", "#trials tbody tr td:nth-child(3)")
    return [float(c.text) for c in cells if c.text != "–"]


def test_the_table_sorts_and_pages(node, browser, screenshots):
    daemon, _ = node
    wait(browser, "26 trials", lambda: sum(daemon.summary()["counts"].values()) > 26)
    browser.execute_script(
        "const s = document.getElementById('page-size');"
        "s.value = '25'; s.dispatchEvent(new Event('change'));"
    )
    wait(browser, "a page of 25", lambda: text(browser, "range").startswith("1–25 of "))
    assert len(rows(browser)) == 25
    browser.find_element("id", "next").click()
    wait(browser, "the second page", lambda: text(browser, "range").startswith("26–"))
    click(browser, "th[data-sort='objective']")
    wait(browser, "the first page again", lambda: text(browser, "range").startswith("1–25"))
    best_first = wait(browser, "values sorted", lambda: objectives(browser))
    assert best_first == sorted(best_first)
    click(browser, "th[data-sort='objective']")
    wait(
        browser,
        "the worst first",
        lambda: (v := objectives(browser)) and v == sorted(v, reverse=True) and v != best_first,
    )
    browser.find_element("id", "trials").screenshot(str(screenshots / "trials.png"))


def keep_running(daemon: DaemonProcess) -> None:
    """The search may have ended by now: extend it, so that there is something to stop."""
    summary = daemon.summary()
    if summary["status"] != "running":
        daemon.call("resume", name="exp", max_trials=summary["counts"].get("completed", 0) + 40)


def test_stop_and_resume_with_the_buttons(node, browser, screenshots):
    daemon, _ = node
    keep_running(daemon)
    wait(browser, "Stop enabled", lambda: browser.find_element("id", "stop").is_enabled())
    browser.find_element("id", "stop").click()
    wait(browser, "the experiment stopped", lambda: daemon.summary()["status"] == "stopped")
    wait(browser, "the page to show it", lambda: text(browser, "exp-status") == "stopped")
    assert not browser.find_element("id", "stop").is_enabled()
    browser.save_screenshot(str(screenshots / "stopped.png"))
    browser.find_element("id", "resume").click()
    wait(browser, "the experiment running", lambda: daemon.summary()["status"] == "running")
    wait(browser, "the page to show it", lambda: text(browser, "exp-status") == "running")


def test_without_the_token_the_page_shows_but_changes_nothing(node, browser):
    daemon, url = node
    keep_running(daemon)
    browser.execute_script("sessionStorage.clear()")
    browser.get(url.split("?")[0])  # loopback: reads need no token, writes do
    wait(browser, "the experiment", lambda: text(browser, "exp-status") == "running")
    browser.find_element("id", "stop").click()
    wait(
        browser,
        "the refusal",
        lambda: "stop: this dashboard needs its token" in text(browser, "notice"),
    )
    assert daemon.summary()["status"] == "running"
    browser.get(url)  # the link with the token again, for what follows
    wait(browser, "the page", lambda: text(browser, "exp-status") == "running")


def schedule(driver: Any, options: str, command: str) -> str:
    form = driver.find_element("id", "schedule")
    for name, value in (("cwd", str(SCRIPTS)), ("options", options), ("command", command)):
        field = form.find_element("name", name)
        field.clear()
        field.send_keys(value)
    form.find_element("css selector", "button[type=submit]").click()
    wait(
        driver,
        "the form's answer",
        lambda: text(driver, "schedule-result") not in ("", "checking…"),
    )
    return text(driver, "schedule-result")


def test_the_form_refuses_as_the_cli_does_then_schedules(node, browser, screenshots, tmp_path):
    daemon, _ = node
    options = "-n formexp --max-trials 4 --algo random"
    bad = "mixed.py --lr~'loguniform(1e-4' --layers~'randint(1, 6)' --act~'choice(relu, tanh)'"
    shell = metaopt(tmp_path, *shlex.split(options), *shlex.split(bad))  # as a shell splits
    assert shell.returncode == 2
    cli_message = shell.stderr.strip().removeprefix("metaopt: ")
    assert "unbalanced parenthesis" in cli_message
    answer = schedule(browser, options, bad)
    assert answer == cli_message
    browser.find_element("id", "schedule-section").screenshot(
        str(screenshots / "schedule-refused.png")
    )
    good = bad.replace("(1e-4'", "(1e-4, 1e-2)'")
    assert schedule(browser, options, good) == "formexp: created"
    wait(browser, "the new experiment chosen", lambda: text(browser, "exp-name") == "formexp")
    wait(browser, "formexp done", lambda: daemon.summary("formexp")["status"] == "done")
    row = "#experiments tr[data-name='formexp'] .status"
    wait(browser, "its row done", lambda: browser.find_element("css selector", row).text == "done")
    assert metaopt(daemon.data_dir, "status").returncode == 0

    def ranked_experiments() -> set[str]:
        cells = browser.find_elements("css selector", "#plot-leaderboard tbody td:nth-child(2)")
        return {c.text for c in cells}

    # both searches of mixed.py share one leaderboard, with the trend of their best values
    wait(browser, "the trend of both", lambda: plotted(browser, "plot-leaderboard") == 2)
    assert ranked_experiments() <= {"exp", "formexp"}
    assert len(browser.find_elements("css selector", "#plot-leaderboard tbody tr")) == 10
    leaderboard = browser.find_element("id", "plot-leaderboard")
    leaderboard.screenshot(str(screenshots / "leaderboard.png"))


def test_the_store_alone_shows_read_only(node, browser, screenshots):
    daemon, _ = node
    daemon.call("stop", name="exp")
    daemon.stop()
    served = subprocess.Popen(
        [*CLI, "dashboard", "--no-browser", "--data-dir", str(daemon.data_dir)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert served.stdout is not None
        assert "serving its store read-only" in served.stdout.readline()
        url = served.stdout.readline().strip()
        browser.get(url)
        wait(browser, "both experiments", lambda: count(browser, "#experiments tbody tr") == 2)
        wait(browser, "the read-only source", lambda: "read-only" in text(browser, "source"))
        assert not browser.find_element("id", "schedule-section").is_displayed()
        assert not browser.find_element("id", "stop").is_enabled()
        assert not browser.find_element("id", "resume").is_enabled()
        wait(browser, "its plots", lambda: plotted(browser, "plot-history") > 0)
        browser.save_screenshot(str(screenshots / "read-only.png"))
    finally:
        served.terminate()
        code = served.wait(timeout=30)
        served.stdout.close()
    assert code == 0
