"""The dashboard's JSON API, read from the node's view (every node holds the whole history).

Routes and their parameters are described by ``openapi.DOCUMENT``, served at
``/api/openapi.json``; ``/`` is the page that shows them (``pages``). Writes (schedule, stop,
resume) go through the daemon's own control requests, and a new experiment through the CLI's
own checks. Requests are authorized first: every write, and beyond loopback every request,
carries the node's token (``Authorization: Bearer TOKEN``, or ``?token=`` for a page opened
from a link), and a write is refused when it comes from another site.
"""

from __future__ import annotations

import asyncio
import hmac
import math
import shlex
from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from metaopt._history import History
from metaopt.analysis import importance
from metaopt.analysis import same_script
from metaopt.errors import MetaoptError
from metaopt.records import HistoryView
from metaopt.records import Trial
from metaopt.records import objective_name
from metaopt.records import summarize_in
from metaopt.records import unknown_experiment
from metaoptd.web import openapi
from metaoptd.web.charts import leaderboard
from metaoptd.web.charts import series
from metaoptd.web.http import HttpError
from metaoptd.web.http import Request
from metaoptd.web.http import Response
from metaoptd.web.http import json_response
from metaoptd.web.openapi import MAX_LIMIT
from metaoptd.web.openapi import MAX_TOP
from metaoptd.web.openapi import SORTS
from metaoptd.web.pages import Pages

_SAFE = ("GET", "HEAD")


Call = Callable[[str, dict[str, Any]], Awaitable[Any]]  # a control request: op, arguments


class Api:
    def __init__(
        self,
        view: Callable[[], HistoryView],
        call: Call | None,
        token: str,
        loopback: bool,
        source: str = "",
    ) -> None:
        self.view = view
        # The daemon's own control requests (submit, stop, resume, peers); None for a page
        # served from the store files with no daemon: it shows, and changes nothing.
        self.call = call
        self.token = token
        # On loopback, reads need no token; writes always do: every local user reaches a
        # loopback port, and a write starts commands as the daemon's user.
        self.loopback = loopback
        self.source = source  # what the view is read from, as the page names it
        self.pages = Pages()
        self._importance: dict[str, tuple[int, asyncio.Future[dict[str, Any]]]] = {}
        self._kept_answers: dict[tuple[object, ...], tuple[str, Response]] = {}  # (digest, answer)

    async def handle(self, request: Request) -> Response:
        self._authorize(request)
        parts = list(request.segments)
        if request.method not in _SAFE and request.method != "POST":
            raise HttpError(405, f"{request.method} {request.path}: GET or POST")
        if parts[:1] != ["api"]:
            if request.method == "POST":
                raise HttpError(405, f"POST {request.path}: a page takes no POST")
            return self.pages.serve(parts)
        route = parts[1:]
        if request.method == "POST":
            return await self._post(route, request)
        if route == ["openapi.json"]:
            return json_response(openapi.DOCUMENT)
        if route == ["state"]:
            return json_response(self.state())
        if route == ["members"]:
            return json_response(await self.members())
        if route == ["experiments"]:
            return json_response(self.experiments())
        if len(route) == 2 and route[0] == "experiments":
            return json_response(self.experiment(route[1]))
        if len(route) == 3 and route[0] == "experiments" and route[2] == "trials":
            return json_response(self.trials(route[1], request.query))
        if len(route) == 3 and route[0] == "experiments" and route[2] == "series":
            name = route[1]
            return self._kept(("series", name), lambda: series(self._history(name)))
        if len(route) == 3 and route[0] == "experiments" and route[2] == "leaderboard":
            name, top = route[1], _integer(request.query, "top", 10, 1, MAX_TOP)
            return self._kept(("leaderboard", name, top), lambda: self.leaderboard(name, top))
        if len(route) == 3 and route[0] == "experiments" and route[2] == "importance":
            return json_response(await self.importance(route[1]))
        raise HttpError(404, f"no such endpoint: {request.path} (see /api/openapi.json)")

    async def _post(self, route: list[str], request: Request) -> Response:
        if self.call is None:
            raise HttpError(
                403, f"read-only: no daemon runs, this page shows {self.source}; start metaoptd"
            )
        body = request.json()
        if route == ["experiments"]:
            return json_response(await self.schedule(body), 201)
        if len(route) == 3 and route[0] == "experiments" and route[2] in ("stop", "resume"):
            name = route[1]
            self.experiment(name)  # 404 for an unknown name
            args: dict[str, Any] = {"name": name}
            if route[2] == "resume" and isinstance(body, dict) and "max_trials" in body:
                args["max_trials"] = body["max_trials"]
            return json_response(await self._control(route[2], args))
        raise HttpError(405, f"POST {request.path}: not a route that takes POST")

    async def schedule(self, body: Any) -> dict[str, Any]:
        """A new experiment from the form: the arguments of ``metaopt`` and where to run them,
        checked by the CLI's own code, so a mistake reads as it would in a shell."""
        from metaopt.cli._run import experiment_from_args

        if isinstance(body, dict) and isinstance(body.get("line"), str) and "args" not in body:
            try:  # a command line as a shell would split it
                body = {**body, "args": shlex.split(body["line"])}
            except ValueError as exc:
                raise HttpError(400, f"the command line cannot be split: {exc}") from None
        if not isinstance(body, dict) or not isinstance(body.get("args"), list):
            raise HttpError(
                400, 'expected {"args": ["train.py", "--lr~..."] or "line": "...", "cwd": "/path"}'
            )
        argv = body["args"]
        if not all(isinstance(a, str) for a in argv) or not isinstance(body.get("cwd"), str):
            raise HttpError(400, "args must be strings, and cwd the folder to run them from")
        try:
            experiment = experiment_from_args(argv, body["cwd"])
        except MetaoptError as exc:
            raise HttpError(400, str(exc)) from None
        result: dict[str, Any] = await self._control("submit", {"experiment": experiment})
        return result

    async def _control(self, op: str, args: dict[str, Any]) -> Any:
        assert self.call is not None
        try:
            return await self.call(op, args)
        except MetaoptError as exc:  # the daemon's answer to a bad request
            raise HttpError(400, str(exc)) from None

    # -- authorization -------------------------------------------------------------------------

    def _authorize(self, request: Request) -> None:
        if request.method not in _SAFE and _cross_site(request):
            raise HttpError(403, "a request from another site is refused")
        if self.loopback and request.method in _SAFE:
            return
        given = request.query.get("token", "")
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            raise HttpError(
                401,
                "this dashboard needs its token (Authorization: Bearer TOKEN, or ?token=TOKEN), "
                "kept in the file http.token of the daemon's data dir",
            )

    # -- the routes ------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """What the page polls: the view's digest changes whenever what it shows does."""
        return {
            "digest": self.view().digest(),
            "writable": self.call is not None,
            "source": self.source,
        }

    async def members(self) -> list[dict[str, Any]]:
        """The cluster's members (from the daemon), each with the trials it runs by our view."""
        if self.call is None:
            return []
        rows: list[dict[str, Any]] = await self.call("peers", {})
        running: dict[str, list[dict[str, Any]]] = {}
        for trial in sorted(self.view().active(), key=lambda t: (t.experiment, t.id)):
            running.setdefault(trial.node, []).append(
                {"experiment": trial.experiment, "id": trial.id, "gpu": trial.gpu}
            )
        for row in rows:
            row["trials"] = running.get(str(row["node"]), [])
        return rows

    def leaderboard(self, name: str, top: int) -> dict[str, Any]:
        """The best trials over every experiment of ``name``'s script, and each one's best."""
        own = self._history(name)
        view = self.view()
        every = [History(e, view.trials(e.name)) for e in view.experiments()]
        return leaderboard(same_script(own, every), top)

    def _kept(self, key: tuple[object, ...], compute: Callable[[], Any]) -> Response:
        """An answer computed once per change of the view: every open page polls."""
        digest = self.view().digest()
        kept = self._kept_answers.get(key)
        if kept is None or kept[0] != digest:
            kept = self._kept_answers[key] = (digest, json_response(compute()))
        return kept[1]

    async def importance(self, name: str) -> dict[str, Any]:
        """Forest permutation importance, fitted off the loop once per count of ended trials:
        pages asking meanwhile wait for the same fit."""
        history = self._history(name)
        ended = sum(1 for t in history.trials if t.ended is not None)
        cached = self._importance.get(name)
        if cached is None or cached[0] != ended:
            cached = (ended, asyncio.ensure_future(_fit_importance(history)))
            self._importance[name] = cached
        return await asyncio.shield(cached[1])

    def _history(self, name: str) -> History:
        view = self.view()
        exp = view.experiment(name)
        if exp is None:
            raise HttpError(404, unknown_experiment(view, name))
        return History(exp, view.trials(name))

    def experiments(self) -> list[dict[str, Any]]:
        view = self.view()
        return [_experiment_row(view, e.name) for e in view.experiments()]

    def experiment(self, name: str) -> dict[str, Any]:
        view = self.view()
        if view.experiment(name) is None:
            raise HttpError(404, unknown_experiment(view, name))
        return _experiment_row(view, name)

    def trials(self, name: str, query: dict[str, str]) -> dict[str, Any]:
        view = self.view()
        exp = view.experiment(name)
        if exp is None:
            raise HttpError(404, unknown_experiment(view, name))
        offset = _integer(query, "offset", 0, 0, None)
        limit = _integer(query, "limit", 100, 1, MAX_LIMIT)
        sort = query.get("sort", "created")
        if sort not in SORTS:
            raise HttpError(400, f"sort={sort!r}: one of {', '.join(SORTS)}")
        status = query.get("status")
        trials = view.trials(name)
        metric = objective_name(exp, trials)
        if status is not None:
            trials = [t for t in trials if t.status.label == status]
        key = sort.lstrip("-")
        reverse = sort.startswith("-")
        sign = -1.0 if exp.maximize else 1.0

        def by_value(trial: Trial) -> tuple[int, float, str]:
            """Best first (worst first reversed); trials with no value last either way."""
            value = trial.objective(metric)
            if value is None or not math.isfinite(value):
                return (1, 0.0, trial.id)
            return (0, -sign * value if reverse else sign * value, trial.id)

        # sorted by key alone, and only the page made into rows: 10k trials stay cheap
        if key == "objective":
            trials.sort(key=by_value)
        elif key == "steps":
            trials.sort(key=lambda t: (len(t.curve), t.id), reverse=reverse)
        else:
            trials.sort(key=lambda t: (t.created, t.id), reverse=reverse)
        rows = [trial_row(t, metric) for t in trials[offset : offset + limit]]
        return {
            "experiment": name,
            "objective": metric,
            "total": len(trials),
            "offset": offset,
            "limit": limit,
            "trials": rows,
        }


async def _fit_importance(history: History) -> dict[str, Any]:
    try:
        shares = await asyncio.to_thread(importance, history)
    except MetaoptError as exc:  # too few trials, or nothing varies
        return {"importance": None, "why": str(exc)}
    return {"importance": shares, "why": ""}


def trial_row(trial: Trial, metric: str | None) -> dict[str, Any]:
    """A trial as the table shows it."""
    value = trial.objective(metric)
    failed = trial.status.label in ("failed", "broken")
    return {
        "id": trial.id,
        "status": trial.status.label,
        "params": trial.params,
        "objective": value if value is not None and math.isfinite(value) else None,
        "steps": len(trial.curve),
        "node": trial.node,
        "attempt": trial.attempt,
        "slot": trial.slot,
        "gpu": trial.gpu,
        "created": trial.created,
        "started": trial.started,
        "ended": trial.ended,
        "checkpoint_step": trial.checkpoint_step if trial.checkpoint_bytes else None,
        "stderr_tail": trial.stderr_tail if failed else "",
    }


def _experiment_row(view: HistoryView, name: str) -> dict[str, Any]:
    exp = view.experiment(name)
    assert exp is not None
    row = summarize_in(view, exp).to_dict()
    value = row.get("best_value")
    if isinstance(value, float) and not math.isfinite(value):
        row["best_value"] = None
    # what it runs, too: a page needs no second request per experiment
    row.update(space=exp.space, command=list(exp.command), cwd=exp.cwd, created=exp.created)
    return row


def _integer(query: dict[str, str], name: str, default: int, low: int, high: int | None) -> int:
    text = query.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise HttpError(400, f"{name}={text!r}: not an integer") from None
    if value < low or (high is not None and value > high):
        bound = f"{low}..{high}" if high is not None else f">= {low}"
        raise HttpError(400, f"{name}={value}: must be {bound}")
    return value


def _cross_site(request: Request) -> bool:
    """A browser names the site a request comes from; one other than this page's is refused."""
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return True
    origin = request.headers.get("origin")
    if origin is None:
        return False
    return urlsplit(origin).netloc != request.headers.get("host", "")
