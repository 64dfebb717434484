"""How fast the dashboard answers with 10k trials in the store, beside optuna-dashboard.

    python bench/dashboard.py               # 10k trials
    python bench/dashboard.py --trials 1000 --json

1. A store of N completed trials (two parameters, a 10-step curve each) is written, and a real
   metaoptd serves it with --http. Each request the page makes when it opens is timed (a new
   connection each, as the browser's fetches make them; median and slowest of --repeat), and
   their sum: the page's data, fetched one after another.
2. The same N trials, as an Optuna study, served by optuna-dashboard (what an Optuna user would
   open): its page's requests, timed the same way.
3. With headless Chromium (Debian's chromium and chromium-driver), the time from navigation to
   the first full draw of each page: metaopt's table and every plot; optuna-dashboard's first
   plot. Skipped, and said so, without a browser.

Figures are printed side by side; the target (the page's data under 200 ms) is printed next to
them, never asserted: the machine this runs on is noisy.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from overhead import STEPS
from overhead import child_env
from overhead import running_daemon
from overhead import write_metaopt

TARGET_MS = 200.0
# optuna-dashboard on an in-memory study of N trials like the store's: its own process
OPTUNA_SERVER = """
import sys, optuna, optuna_dashboard
optuna.logging.set_verbosity(optuna.logging.WARNING)
n, port, steps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
storage = optuna.storages.InMemoryStorage()
study = optuna.create_study(study_name="bench", storage=storage)
uniform = optuna.distributions.FloatDistribution(0, 1)
import random
rng = random.Random(0)
for _ in range(n):
    loss = rng.random()
    study.add_trial(optuna.trial.create_trial(
        params={"x": rng.random(), "y": rng.random()},
        distributions={"x": uniform, "y": uniform},
        value=loss / steps,
        intermediate_values={s: loss / (s + 1) for s in range(steps)},
    ))
print("ready", flush=True)
optuna_dashboard.run_server(storage, host="127.0.0.1", port=port)
"""


def timed_get(url: str, token: str = "") -> tuple[float, int]:
    """Seconds to fetch ``url`` whole, and its size in bytes."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    start = time.perf_counter()
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60) as r:
        size = len(r.read())
    return time.perf_counter() - start, size


def measure(base: str, paths: list[str], repeat: int, token: str = "") -> list[dict[str, Any]]:
    rows = []
    for path in paths:
        first, _ = timed_get(base + path, token)  # the first answer may fill a cache
        times = []
        for _ in range(repeat):
            seconds, size = timed_get(base + path, token)
            times.append(seconds * 1000)
        rows.append(
            {
                "path": path,
                "first_ms": first * 1000,
                "median_ms": statistics.median(times),
                "max_ms": max(times),
                "bytes": size,
            }
        )
    return rows


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def browser_ready_ms(url: str, script: str, timeout: float = 120) -> float | None:
    """Milliseconds from navigation start until ``script`` (JS) returns a number; None with no
    browser installed."""
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        return None
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(shutil.which("chromium"))
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    try:
        driver.get(url)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = driver.execute_script(script)
            if value is not None:
                return float(value)
            time.sleep(0.01)
        raise RuntimeError(f"{url}: not drawn within {timeout:.0f} s")
    finally:
        driver.quit()


METAOPT_DRAWN = """
const mark = performance.getEntriesByName("metaopt-drawn")[0];
return mark ? mark.startTime : null;
"""
# optuna-dashboard draws with Plotly: the first plot's SVG in the page marks it drawn
OPTUNA_DRAWN = """
if (!window.__seen && document.querySelector(".js-plotly-plot .main-svg")) {
  window.__seen = performance.now();
}
return window.__seen || null;
"""


def bench_metaopt(tmp: Path, n: int, repeat: int) -> dict[str, Any]:
    name = f"bench-{n}"
    data_dir = tmp / "metaopt"
    write_metaopt(data_dir, "leveldb", name, n, per_put=1000)
    with running_daemon(data_dir, "--http", "0") as daemon:
        base = "http://" + daemon.client.call("ping")["http"]
        token = (data_dir / "http.token").read_text().strip()
        exp = f"/api/experiments/{name}"
        paths = [
            "/",
            "/static/dashboard.js",
            "/static/dashboard.css",
            "/api/state",
            "/api/experiments",
            "/api/members",
            exp + "/series",
            exp + "/leaderboard?top=10",
            exp + "/trials?offset=0&limit=50&sort=created",
        ]
        start = time.perf_counter()
        timed_get(base + exp + "/importance", token)
        importance_ms = (time.perf_counter() - start) * 1000
        rows = measure(base, paths, repeat, token)
        sorted_rows = measure(base, [exp + "/trials?offset=0&limit=50&sort=objective"], repeat)
        drawn = browser_ready_ms(f"{base}/?token={token}#{name}", METAOPT_DRAWN)
    return {
        "requests": rows,
        "page_ms": sum(r["median_ms"] for r in rows),
        "first_page_ms": sum(r["first_ms"] for r in rows),
        "sorted_page_ms": sorted_rows[0]["median_ms"],
        "importance_first_ms": importance_ms,
        "browser_drawn_ms": drawn,
    }


def bench_optuna(n: int, repeat: int) -> dict[str, Any]:
    port = free_port()
    command = [sys.executable, "-c", OPTUNA_SERVER, str(n), str(port), str(STEPS)]
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=child_env(), text=True
    )
    try:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("optuna-dashboard did not start")
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                timed_get(base + "/api/meta")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        paths = ["/dashboard/studies/0", "/api/meta", "/api/studies", "/api/studies/0?after=0"]
        rows = measure(base, paths, repeat)
        drawn = browser_ready_ms(base + "/dashboard/studies/0", OPTUNA_DRAWN)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        if proc.stdout is not None:
            proc.stdout.close()
    return {
        "requests": rows,
        "page_ms": sum(r["median_ms"] for r in rows),
        "first_page_ms": sum(r["first_ms"] for r in rows),
        "browser_drawn_ms": drawn,
    }


def show(title: str, figures: dict[str, Any]) -> None:
    print(f"\n{title}")
    print(
        f"  {'request (ms; a new connection each)':<62} {'first':>7} {'median':>7} {'slowest':>10}"
    )
    for row in figures["requests"]:
        print(
            f"  {row['path']:<62} {row['first_ms']:7.1f} {row['median_ms']:7.1f}"
            f" {row['max_ms']:10.1f} {row['bytes'] / 1024:8.1f} KiB"
        )
    print(
        f"  {'the page data, one request after another':<62} {figures['first_page_ms']:7.1f}"
        f" {figures['page_ms']:7.1f}"
    )
    drawn = figures["browser_drawn_ms"]
    shown = f"{drawn:8.1f} ms" if drawn is not None else "   (no chromium: not measured)"
    print(f"  {'headless Chromium: navigation to first full draw':<62} {shown}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20, help="fetches of each request")
    parser.add_argument("--json", action="store_true", help="also print one JSON line")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="metaopt-dashboard-bench-") as tmp:
        ours = bench_metaopt(Path(tmp), args.trials, args.repeat)
    theirs = bench_optuna(args.trials, args.repeat)
    print(f"dashboard with {args.trials} trials ({STEPS} steps each), median of {args.repeat}")
    show("metaopt (metaoptd --http)", ours)
    print(
        f"  {'trials sorted by objective (one page of 50)':<62} {ours['sorted_page_ms']:8.1f} ms"
    )
    print(
        f"  {'parameter importance, first fit (off the loop)':<62} "
        f"{ours['importance_first_ms']:8.1f} ms"
    )
    show("optuna-dashboard (same trials, in-memory storage)", theirs)
    # the target is judged on the first load: no answer cached yet
    verdict = "met" if ours["first_page_ms"] < TARGET_MS else "NOT met"
    print(
        f"\ntarget: the page data under {TARGET_MS:.0f} ms at first load: "
        f"{ours['first_page_ms']:.0f} ms, {verdict} (again: {ours['page_ms']:.0f} ms); "
        f"optuna-dashboard / metaopt = {theirs['first_page_ms'] / ours['first_page_ms']:.1f}x"
    )
    if args.json:
        print(json.dumps({"trials": args.trials, "metaopt": ours, "optuna_dashboard": theirs}))


if __name__ == "__main__":
    main()
