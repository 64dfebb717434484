"""The daemon's heart: keep every slot busy, carry trials through their lifecycle, answer the CLI.

One asyncio loop owns everything; nothing here blocks it for long (store writes are short
fsyncs, process starts are a fork). Each state change is written through the node, so it is on
disk before the daemon acts on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import re
import secrets
import shutil
import signal
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from metaopt import _paths
from metaopt import _steering
from metaopt._replica import LocalReplica
from metaopt.algo import BaseAlgorithm
from metaopt.algo import Lease
from metaopt.algo import MultiFidelityAlgorithm
from metaopt.algo import SearchHistory
from metaopt.algo import make_algorithm
from metaopt.algo import steps_done
from metaopt.errors import ControlError
from metaopt.errors import ExperimentConflict
from metaopt.errors import MetaoptError
from metaopt.records import CurveIncrement
from metaopt.records import Experiment
from metaopt.records import ExperimentStatus
from metaopt.records import Trial
from metaopt.records import TrialStatus
from metaopt.records import experiment_key
from metaopt.records import objective_name
from metaopt.records import summarize_in
from metaopt.records import unknown_experiment
from metaopt.space import CommandTemplate
from metaopt.space import Space
from metaopt.space import parse_command
from metaoptd import checkpoints
from metaoptd import claims
from metaoptd import control
from metaoptd import freezing
from metaoptd import leases
from metaoptd import lifecycle
from metaoptd import runner
from metaoptd.card import Card
from metaoptd.decisions import Action
from metaoptd.decisions import Claim
from metaoptd.decisions import End
from metaoptd.decisions import Requeue
from metaoptd.decisions import Situation
from metaoptd.decisions import Start
from metaoptd.decisions import Stop
from metaoptd.decisions import decide
from metaoptd.decisions import waiting
from metaoptd.node import ClusterNode
from metaoptd.settings import Settings
from metaoptd.slots import Slot
from metaoptd.transfer import CheckpointServer
from metaoptd.transfer import Refused
from metaoptd.transfer import TransferError
from metaoptd.transfer import Transfers
from metaoptd.web.api import Api
from metaoptd.web.http import HttpServer
from metaoptd.web.token import TOKEN_NAME
from metaoptd.web.token import ensure as ensure_token
from metaoptd.web.token import is_loopback

_log = logging.getLogger("metaoptd")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_SWEEP_S = 10.0  # between sweeps of checkpoints no record points to
# control requests that only read: answering them wakes no decision pass
_READS = frozenset({"ping", "peers", "stats", "status", "trials"})
_RETRY_PEER_S = 30.0  # a peer a transfer failed with is not asked again for this long
TrialKey = tuple[str, str]


@dataclasses.dataclass
class _Compiled:
    """What the daemon derives once from an experiment's definition."""

    template: CommandTemplate
    space: Space
    algo: BaseAlgorithm


class Daemon:
    def __init__(
        self,
        settings: Settings,
        node: LocalReplica,
        slots: list[Slot],
        cluster: ClusterNode | None = None,
    ) -> None:
        self.settings = settings
        self.node = node
        self.slots = slots
        self.cluster = cluster  # None: this node alone (an embedded daemon)
        self.socket_path = _paths.socket_path(settings.data_dir)
        self._running: dict[TrialKey, tuple[runner.TrialProcess, Slot]] = {}
        self._compiled: dict[str, _Compiled] = {}
        self._wake = asyncio.Event()
        self._stopping = False
        self._exit_when_idle = False
        # An embedded daemon runs only what its `metaopt` submitted, not every experiment the
        # store holds; None: a standalone daemon, which runs them all.
        self._focus: set[str] | None = set() if settings.embedded else None
        self._seq: dict[TrialKey, int] = {}  # next curve increment of each running trial
        self._claims: dict[TrialKey, Claim] = {}  # the claim each of our processes runs
        self._stopping_keys: set[TrialKey] = set()  # being interrupted: decided already
        self._proposing: dict[str, list[Slot]] = {}  # experiment -> slots held for its proposal
        self._tasks: set[asyncio.Task[None]] = set()
        self._waiting: dict[TrialKey, float] = {}  # when each waiting trial was first seen
        self._freezing: set[TrialKey] = set()  # asked to stop by early stopping
        self._judging: set[TrialKey] = set()  # early stopping deciding off the loop
        self.checkpoints = checkpoints.Checkpoints(
            settings.data_dir,
            node.id,
            node.view,
            settings.frozen_limit_mb * 1e6,
            settings.shared_dir,
        )
        self._transfers = (
            Transfers(cluster.keyring, node.id, node.generation) if cluster is not None else None
        )
        self._transfer_port = 0
        self._http: str | None = None  # HOST:PORT of the dashboard's API, once served
        self._fetching: dict[TrialKey, Slot] = {}  # fetching a checkpoint before the claim
        self._copied: dict[TrialKey, tuple[int, int, int, str]] = {}  # last copy made of each
        self._failed_peers: dict[str, float] = {}  # peer -> when a transfer with it failed
        self._copy_now = asyncio.Event()

    # ---- main loop -------------------------------------------------------------------------

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        self._recover()
        server = control.ControlServer(self._handle)
        await server.start(self.socket_path)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop)
        if self.settings.embedded:
            loop.add_reader(sys.stdin.fileno(), self._on_parent_input)
        reports = loop.create_task(self._read_reports_forever())
        dashboard = await self._serve_dashboard()
        files: CheckpointServer | None = None
        copies: asyncio.Task[None] | None = None
        if self.cluster is not None:
            files = CheckpointServer(
                self.cluster.keyring, self.node.id, self.node.generation, self.checkpoints
            )
            self._transfer_port = await self._listen_for_checkpoints(files)
            copies = loop.create_task(self._copy_forever())
            self.cluster.start(loop, self._wake.set)
        _log.info(
            "node %s ready: %d slot(s), store %s",
            self.node.id,
            len(self.slots),
            self.settings.storage,
        )
        try:
            while not self._stopping:
                self._wake.clear()
                acted = self._step()
                if self.cluster is not None:
                    self.cluster.announce(self._card)
                idle = not self._running and not self._proposing and not acted
                if self._exit_when_idle and idle:
                    break
                await self._wake.wait()
        finally:
            for task in (reports, copies):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            self._stop_focus()
            await self._interrupt(list(self._running))
            if self.cluster is not None:  # after the trials' last records: they leave with us
                await self.cluster.stop(loop)
            if files is not None:
                await files.close()
            if dashboard is not None:
                await dashboard.close()
            await server.close()
            with contextlib.suppress(FileNotFoundError):
                self.socket_path.unlink()
        _log.info("node %s stopped", self.node.id)

    async def _serve_dashboard(self) -> HttpServer | None:
        address = self.settings.http_address
        if address is None:
            return None
        host, port = address
        token = ensure_token(self.settings.data_dir)
        loopback = is_loopback(host)
        source = f"node {self.node.id}"
        api = Api(lambda: self.node.view, self._handle, token, loopback, source=source)
        server = HttpServer(api.handle)
        try:
            port = await server.start(host, port)
        except OSError as exc:
            raise MetaoptError(
                f"cannot serve the dashboard on {host}:{port} ({exc}); give another --http"
            ) from None
        self._http = f"{host}:{port}"
        shown = f"[{host}]" if ":" in host else host
        need = "writes need" if loopback else "every request needs"
        how = f"{need} the token in {self.settings.data_dir / TOKEN_NAME}"
        _log.info("dashboard API on http://%s:%d/api/experiments (%s)", shown, port, how)
        return server

    async def _listen_for_checkpoints(self, files: CheckpointServer) -> int:
        port = self.settings.checkpoint_port
        try:
            return await files.start(self.settings.bind, port)
        except OSError as exc:
            raise MetaoptError(
                f"cannot listen on {self.settings.bind}:{port} for checkpoints ({exc}); "
                "give this node another --transfer-port"
            ) from None

    def _stop_focus(self) -> None:
        """An embedded daemon going away: what it ran stops until its command runs again."""
        for name in sorted(self._focus or ()):
            exp = self.node.view.experiment(name)
            if exp is not None and exp.status == ExperimentStatus.RUNNING:
                _steering.set_status(
                    self.node,
                    exp,
                    ExperimentStatus.STOPPED,
                    "interrupted; run the same command again to resume",
                )

    def request_stop(self) -> None:
        self._stopping = True
        self._wake.set()

    def _on_parent_input(self) -> None:
        if not os.read(sys.stdin.fileno(), 4096):  # the `metaopt` that started us is gone
            asyncio.get_running_loop().remove_reader(sys.stdin.fileno())
            self.request_stop()

    async def _read_reports_forever(self) -> None:
        """Reports every report_interval; and a decision at least every second, for what
        waits on time alone (a node settling, a waiting trial's turn)."""
        last_wake = 0.0
        while True:
            await asyncio.sleep(self.settings.report_interval)
            for proc, _ in list(self._running.values()):
                self._record_reports(proc)
            if self.cluster is not None and time.monotonic() - last_wake >= 1.0:
                last_wake = time.monotonic()
                self.cluster.tick()
                self._wake.set()

    # ---- decisions -------------------------------------------------------------------------

    def _step(self) -> list[Action]:
        """Decide from what this node knows now, and carry every action out."""
        situation = self._situation()
        now = situation.now
        self._waiting = {k: self._waiting.get(k, now) for k in waiting(situation)}
        actions = decide(dataclasses.replace(situation, waiting=self._waiting))
        for action in actions:
            if isinstance(action, Stop):
                self._stop_trial(action)
            elif isinstance(action, Requeue):
                self._requeue(action.key)
            elif isinstance(action, End):
                self._end(action)
            elif isinstance(action, Start):
                key = (action.trial.experiment, action.trial.id)
                if key not in self._fetching and self._still_waiting(action.trial):
                    slot = self._free_slots()[0]
                    self._start_where_checkpointed(action.trial, slot, action.adopted_from)
            else:
                self._propose(action.experiment, action.count)
        return actions

    def _still_waiting(self, trial: Trial) -> bool:
        """Whether a trial decided to start still waits for a slot: the requeue of our own
        orphan, earlier in the same round, may have found that it ended while we were down."""
        now = self.node.view.trial(trial.experiment, trial.id)
        return now is not None and (now.status == trial.status or now.status.is_runnable())

    def _situation(self) -> Situation:
        exhausted, thaws = {}, {}
        for exp in self.node.view.experiments():
            if exp.status == ExperimentStatus.RUNNING and (
                self._focus is None or exp.name in self._focus
            ):
                history = self._history(exp, self.node.view.trials(exp.name))
                algo = self._compile(exp).algo
                if isinstance(algo, MultiFidelityAlgorithm):
                    outlook = leases.outlook(
                        algo, exp, history, self.node.id, self._alive(), self._busy()
                    )
                    exhausted[exp.name], thaws[exp.name] = outlook.exhausted, outlook.thaws
                else:
                    exhausted[exp.name] = algo.is_exhausted(history)
        return Situation(
            node=self.node.id,
            view=self.node.view,
            alive=self._alive(),
            dead=self.cluster.dead() if self.cluster else set(),
            settled=self.cluster.settled if self.cluster else True,
            free_slots=len(self._free_slots()),
            running={k: c for k, c in self._claims.items() if k not in self._stopping_keys},
            exhausted=exhausted,
            # a checkpoint being fetched is a thaw or an adoption under way
            proposing=frozenset(self._proposing) | {name for name, _ in self._fetching},
            now=time.monotonic(),
            focus=self._focus,
            thaws=thaws,
        )

    def _card(self) -> Card:
        free = len(self._free_slots())
        digest = self.node.view.digest()
        return Card.of(self.slots, free, len(self._running), digest, self._transfer_port)

    def _busy(self) -> set[str]:
        """The live members with no free slot, by their cards (ours as it is now)."""
        cards = self.cluster.cards() if self.cluster is not None else {}
        busy = {node for node, card in cards.items() if card.free == 0} - {self.node.id}
        return busy | ({self.node.id} if not self._free_slots() else set())

    def _free_slots(self) -> list[Slot]:
        used = {slot.id for _, slot in self._running.values()}
        used.update(slot.id for slot in self._fetching.values())
        used.update(slot.id for slots in self._proposing.values() for slot in slots)
        return [s for s in self.slots if s.id not in used]

    def _history(self, exp: Experiment, trials: list[Trial]) -> SearchHistory:
        members = sorted(self._alive())
        share = (members.index(self.node.id), len(members))
        return SearchHistory(trials, objective_name(exp, trials), exp.maximize, share)

    def _alive(self) -> set[str]:
        """The members alive now, this node included."""
        return {self.node.id} | (self.cluster.alive() if self.cluster else set())

    def _compile(self, exp: Experiment) -> _Compiled:
        compiled = self._compiled.get(exp.name)
        if compiled is None:
            template, space = parse_command(list(exp.command))
            algo = make_algorithm(
                exp.algo, space, seed=exp.seed, node_id=self.node.id, options=exp.algo_options
            )
            compiled = self._compiled[exp.name] = _Compiled(template, space, algo)
        return compiled

    def _propose(self, name: str, count: int) -> None:
        """Ask the algorithm for ``count`` points off the event loop (a GP fit takes a while),
        holding that many slots meanwhile, then claim what is still worth claiming."""
        exp = self.node.view.experiment(name)
        assert exp is not None
        # as the decision saw them: this node has a free slot, whatever the proposals take
        alive, busy = self._alive(), self._busy() - {self.node.id}
        slots = self._free_slots()[:count]
        self._proposing[name] = slots
        history = self._history(exp, self.node.view.trials(name))
        algo = self._compile(exp).algo
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Any]]
        if isinstance(algo, MultiFidelityAlgorithm):
            future = loop.run_in_executor(
                None, leases.take, algo, history, len(slots), self.node.id, alive, busy
            )
        else:
            future = loop.run_in_executor(None, algo.suggest, history, len(slots))
        future.add_done_callback(lambda f: self._proposed(name, f))

    def _proposed(self, name: str, future: asyncio.Future[list[Any]]) -> None:
        slots = self._proposing.pop(name, [])
        self._wake.set()
        try:
            points = future.result()
        except Exception:  # a bug in an algorithm must not take the daemon down
            _log.exception("%s: the algorithm failed to propose", name)
            return
        exp = self.node.view.experiment(name)
        if self._stopping or exp is None or exp.status != ExperimentStatus.RUNNING:
            return
        allowed = lifecycle.new_allowed(exp, self.node.view.trials(name))
        for point, slot in zip(points, slots, strict=False):
            if isinstance(point, Lease) and point.is_thaw:
                self._thaw(name, point, slot)
                continue
            lease = point if isinstance(point, Lease) else None
            params = lease.params if lease is not None else point
            budget = lease.until if lease is not None else None
            if allowed <= 0:
                continue
            allowed -= 1
            trial = claims.fresh(exp, params, time.time())
            if self.node.view.trial(name, trial.id) is None:  # not claimed meanwhile, anywhere
                self._claim_and_start(trial, slot, None, budget)

    def _thaw(self, name: str, lease: Lease, slot: Slot) -> None:
        """A frozen trial goes on from its checkpoint, to the lease's budget."""
        trial = self.node.view.trial(name, lease.trial_id or "")
        if trial is None or not trial.status.is_frozen():
            return  # thawed or taken meanwhile
        _log.info(
            "%s: thawing trial %s at step %d, to %d", name, trial.id, lease.start, lease.until
        )
        self._start_where_checkpointed(trial, slot, None, lease.until)

    def _start_where_checkpointed(
        self, trial: Trial, slot: Slot, adopted_from: str | None, budget: int | None = None
    ) -> None:
        """Start a trial that exists (a thaw, a rerun, an adoption) from its latest checkpoint:
        the one in its folder here, a copy held here, or one fetched from its holder or the
        peer with a copy. A thaw whose checkpoint cannot be had waits; an adoption starts over."""
        me = self.node.id
        if trial.node == me:
            self._claim_and_start(trial, slot, adopted_from, budget)
            return
        held = self.checkpoints.copy_file(trial.experiment, trial.id)
        if trial.copy_node == me and held.is_file():
            self.checkpoints.install(trial, held)
            _log.info(
                "%s: trial %s resumes from the copy of its checkpoint held here",
                trial.experiment,
                trial.id,
            )
            self._claim_and_start(trial, slot, adopted_from, budget)
            return
        shared = self.checkpoints.shared_file(trial)
        if trial.copy_node == checkpoints.SHARED_DIR and shared is not None:
            self.checkpoints.install(trial, shared)
            _log.info(
                "%s: trial %s resumes from the copy of its checkpoint in the shared folder",
                trial.experiment,
                trial.id,
            )
            self._claim_and_start(trial, slot, adopted_from, budget)
            return
        now = time.monotonic()
        peers = [
            n
            for n in dict.fromkeys((trial.node, trial.copy_node))
            if n and n in self._alive() and now - self._failed_peers.get(n, -1e9) > _RETRY_PEER_S
        ]
        if peers and self._transfers is not None:
            key = (trial.experiment, trial.id)
            _log.debug("%s: fetching the checkpoint of %s from %s", *key, peers)
            self._fetching[key] = slot
            task = asyncio.get_running_loop().create_task(
                self._fetch_and_start(trial, slot, adopted_from, budget, peers)
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif trial.status.is_frozen():
            _log.info(
                "%s: trial %s waits: no live node has its checkpoint now",
                trial.experiment,
                trial.id,
            )
        else:
            self._claim_and_start(trial, slot, adopted_from, budget)

    async def _fetch_and_start(
        self,
        trial: Trial,
        slot: Slot,
        adopted_from: str | None,
        budget: int | None,
        peers: list[str],
    ) -> None:
        assert self._transfers is not None
        assert self.cluster is not None
        key = (trial.experiment, trial.id)
        dest = self.checkpoints.own_file(trial).with_name("checkpoint.fetched")
        fetched = None
        try:
            for peer in peers:
                address = self.cluster.transfer_address(peer)
                try:
                    if address is None:
                        raise TransferError(f"{peer} serves no checkpoints")
                    size = await self._transfers.fetch(peer, address, *key, dest)
                except Refused as exc:  # it answered: it has none (never saved), or no room
                    _log.info("%s: no checkpoint of trial %s to fetch: %s", *key, exc)
                    continue
                except TransferError as exc:  # unreachable: not asked again for a while
                    self._failed_peers[peer] = time.monotonic()
                    _log.warning("%s: cannot fetch the checkpoint of trial %s: %s", *key, exc)
                    continue
                fetched = peer
                _log.info(
                    "%s: fetched the checkpoint of trial %s from %s (%d bytes)",
                    *key,
                    peer,
                    size,
                )
                break
        finally:
            self._fetching.pop(key, None)
            self._wake.set()
        exp = self.node.view.experiment(trial.experiment)
        merged = self.node.view.trial(*key)
        if (
            self._stopping
            or exp is None
            or exp.status != ExperimentStatus.RUNNING
            or merged is None
            or merged.claim != trial.claim  # thawed or adopted elsewhere meanwhile
            or (fetched is None and merged.status.is_frozen())
        ):
            dest.unlink(missing_ok=True)
            return
        if fetched is not None:
            self.checkpoints.install(merged, dest)
            dest.unlink(missing_ok=True)
        self._claim_and_start(merged, slot, adopted_from, budget)

    def _stop_trial(self, stop: Stop) -> None:
        self._stopping_keys.add(stop.key)
        _log.info("%s: stopping trial %s (%s)", stop.key[0], stop.key[1], stop.why)
        task = asyncio.get_running_loop().create_task(self._interrupt([stop.key]))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _requeue(self, key: TrialKey) -> None:
        """Our copy says running, but no process of ours runs it: it ended while no daemon
        watched, or died with an earlier one. Either way what it reported and how it ended are
        recorded as they would have been: a trial that completed is not run again, and one
        that died goes on from its checkpoint with the steps that checkpoint holds."""
        trial = self._own(*key)
        if trial is None:
            return
        proc = runner.left_behind(key, self._trial_dir(trial))
        if proc.outcome().status == TrialStatus.INTERRUPTED:
            _log.info("%s: trial %s died with the daemon; requeued", *key)
        else:
            _log.info("%s: trial %s ended while no daemon watched", *key)
        self._finish(proc)

    def _end(self, end: End) -> None:
        exp = self.node.view.experiment(end.experiment)
        if exp is None:
            return
        _steering.set_status(self.node, exp, end.status, end.message)
        level = logging.WARNING if end.status == ExperimentStatus.BROKEN else logging.INFO
        _log.log(level, "%s: %s: %s", end.experiment, end.status.label, end.message)

    # ---- one trial's life ------------------------------------------------------------------

    def _claim_and_start(
        self, trial: Trial, slot: Slot, adopted_from: str | None, budget: int | None = None
    ) -> None:
        name = trial.experiment
        exp = self.node.view.experiment(name)
        assert exp is not None
        trial = claims.claim(
            trial, self.node.id, self.node.stamp(), time.time(), slot.id, slot.gpu, budget
        )
        self._save(trial)  # durable claim before the process exists
        key = (name, trial.id)
        folder = self._trial_dir(trial)
        compiled = self._compile(exp)
        params: dict[str, Any] = trial.params
        if isinstance(compiled.algo, MultiFidelityAlgorithm):
            params = leases.command_params(compiled.algo, trial)
        command = compiled.template.render(params)
        try:
            proc = runner.start(
                key, folder, command, self._trial_env(exp, trial, slot, folder), exp.cwd
            )
        except OSError as exc:  # the working directory is gone, the interpreter vanished...
            self._save(
                dataclasses.replace(
                    trial,
                    status=TrialStatus.BROKEN,
                    ended=time.time(),
                    stderr_tail=f"cannot start: {exc}",
                )
            )
            return
        self._running[key] = (proc, slot)
        self._claims[key] = trial.claim
        self._seq[key] = 0
        self._save(dataclasses.replace(trial, status=TrialStatus.RUNNING, pid=proc.pid))
        proc.watch(asyncio.get_running_loop(), self._on_exit)
        how = f", adopted from {adopted_from}" if adopted_from else ""
        _log.info(
            "%s: started trial %s (attempt %d%s) on %s",
            name,
            trial.id,
            trial.attempt,
            how,
            slot.id,
        )

    def _trial_env(
        self, exp: Experiment, trial: Trial, slot: Slot, folder: Path
    ) -> dict[str, str]:
        # a multi-fidelity lease: report says when it is spent
        lease = {"METAOPT_BUDGET": str(trial.budget)} if trial.budget is not None else {}
        return {
            **os.environ,
            **exp.env,
            **lease,
            "METAOPT_EXPERIMENT": exp.name,
            "METAOPT_TRIAL_ID": trial.id,
            "METAOPT_TRIAL_DIR": str(folder),
            "CUDA_VISIBLE_DEVICES": slot.cuda_visible_devices,
            "PYTHONUNBUFFERED": "1",  # report lines on stdout arrive as they are printed
        }

    def _trial_dir(self, trial: Trial) -> Path:
        return self.settings.data_dir / "trials" / trial.experiment / trial.id

    def _on_exit(self, proc: runner.TrialProcess) -> None:
        self._running.pop(proc.key, None)
        self._claims.pop(proc.key, None)
        self._stopping_keys.discard(proc.key)
        self._finish(proc)
        self._freezing.discard(proc.key)
        self._wake.set()

    def _finish(self, proc: runner.TrialProcess) -> None:
        """The last reports and how it ended, in one durable write."""
        name, tid = proc.key
        trial = self._own(name, tid)
        if trial is None:  # its experiment was deleted meanwhile: nothing of it is kept
            shutil.rmtree(proc.folder, ignore_errors=True)
            return
        outcome = proc.outcome()
        items = self._increment(proc, trial)
        status, saved, steps = outcome.status, 0, 0
        exp = self.node.view.experiment(name)
        algo = self._compile(exp).algo if exp is not None else None
        if isinstance(algo, MultiFidelityAlgorithm):
            merged = self.node.view.trial(name, tid) or trial
            new = [step for _, value in items for step, _ in CurveIncrement.from_json(value).steps]
            steps = len({step for step, _ in merged.curve} | set(new))
            saved = runner.checkpoint_bytes(proc.folder)
            asked = proc.key in self._freezing
            status = freezing.settle(status, steps, algo.fidelity.high, saved, asked)
        else:
            status = freezing.settle_whole(status)
        if status != TrialStatus.FROZEN and not status.is_runnable():
            saved = runner.drop_checkpoint(proc.folder)  # it will never be resumed
            self.checkpoints.drop_shared(trial)
        ended = claims.ended(
            trial,
            status,
            time.time(),
            exit_code=outcome.exit_code,
            signal=outcome.signal,
            stderr_tail=outcome.stderr_tail,
        )
        ended = dataclasses.replace(ended, checkpoint_bytes=saved, checkpoint_step=steps)
        self.node.write_many([*items, claims.copy_item(ended)])
        self._seq.pop(proc.key, None)
        _log.info("%s: trial %s %s", name, tid, status.label)
        if status == TrialStatus.FROZEN:
            self._keep_frozen_within_limit()
            self._copy_now.set()  # its last checkpoint to a peer, so it thaws if we die

    def _keep_frozen_within_limit(self) -> None:
        """Beyond ``frozen_limit_mb`` of checkpoints, the least promising frozen trials here
        (the lowest in their rung) are stopped for good and their checkpoints deleted."""
        limit = self.settings.frozen_limit_mb * 1e6
        frozen: list[Trial] = []
        ranks: dict[str, float] = {}
        for exp in self.node.view.experiments():
            trials = self.node.view.trials(exp.name)
            mine = [t for t in trials if t.status.is_frozen() and t.node == self.node.id]
            if mine:
                frozen += mine
                objective = objective_name(exp, trials)
                ranks.update(freezing.rung_ranks(trials, objective, exp.maximize))
        for trial in freezing.over_limit(frozen, ranks, limit):
            own = self._own(trial.experiment, trial.id)
            if own is None:
                continue
            runner.drop_checkpoint(self._trial_dir(own))
            self._save(dataclasses.replace(own, status=TrialStatus.COMPLETED, checkpoint_bytes=0))
            _log.warning(
                "%s: frozen trial %s stopped for good: frozen checkpoints here are over "
                "--frozen-limit-mb %g",
                trial.experiment,
                trial.id,
                self.settings.frozen_limit_mb,
            )

    # ---- checkpoints on peers ---------------------------------------------------------------

    async def _copy_forever(self) -> None:
        """Copy each changed checkpoint of a trial of ours (running, or frozen) to its peer
        every copy_interval, and a frozen trial's at once; sweep what no record points to."""
        interval = self.settings.copy_interval
        swept = 0.0
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._copy_now.wait(), min(interval or _SWEEP_S, _SWEEP_S))
            self._copy_now.clear()
            try:
                if interval:
                    await self._copy_checkpoints()
                if time.monotonic() - swept >= _SWEEP_S:
                    swept = time.monotonic()
                    self.checkpoints.sweep(self._alive())
            except Exception:  # a full disk, a bug: the copies go on at the next round
                _log.exception("checkpoints: copying or sweeping failed")

    async def _copy_checkpoints(self) -> None:
        assert self._transfers is not None
        assert self.cluster is not None
        alive = self._alive()
        for exp in self.node.view.experiments():
            for merged in self.node.view.trials(exp.name):
                key = (exp.name, merged.id)
                own = self._own(*key)
                ours = key in self._running or (own is not None and own.status.is_frozen())
                if own is None or merged.node != self.node.id or not ours:
                    continue
                path = self.checkpoints.own_file(own)
                try:
                    stat = path.stat()
                except FileNotFoundError:
                    continue
                steps = len(merged.curve)
                if self.settings.shared_dir is not None:
                    made = (own.attempt, stat.st_mtime_ns, stat.st_size, checkpoints.SHARED_DIR)
                    if self._copied.get(key) != made:
                        await self._copy_to_shared(own, path, steps, made)
                    continue
                peer = checkpoints.copy_peer(own.id, alive, self.node.id)
                address = self.cluster.transfer_address(peer) if peer else None
                made = (own.attempt, stat.st_mtime_ns, stat.st_size, peer or "")
                if peer is None or address is None or self._copied.get(key) == made:
                    continue
                meta = {"attempt": own.attempt, "step": steps}
                try:
                    size = await self._transfers.push(peer, address, *key, path, meta)
                except TransferError as exc:
                    if time.monotonic() - self._failed_peers.get(peer, -1e9) > _RETRY_PEER_S:
                        _log.warning("%s: cannot copy the checkpoint of %s: %s", *key, exc)
                    self._failed_peers[peer] = time.monotonic()
                    continue
                self._copied[key] = made
                own = self._own(*key)  # what changed while the copy travelled
                if own is not None and own.attempt == made[0]:
                    self._save(
                        dataclasses.replace(own, copy_node=peer, copy_step=steps, copy_bytes=size)
                    )
                    _log.debug("%s: checkpoint of %s at step %d copied to %s", *key, steps, peer)

    async def _copy_to_shared(
        self, own: Trial, path: Path, steps: int, made: tuple[int, int, int, str]
    ) -> None:
        key = (own.experiment, own.id)
        loop = asyncio.get_running_loop()
        try:
            size = await loop.run_in_executor(None, self.checkpoints.copy_to_shared, own, path)
        except OSError as exc:  # full, unmounted: the trial goes on, its copy is older
            _log.warning(
                "%s: cannot copy the checkpoint of %s to the shared folder: %s", *key, exc
            )
            return
        self._copied[key] = made
        now = self._own(*key)  # what changed while the copy was written
        if now is not None and now.attempt == made[0]:
            where = checkpoints.SHARED_DIR
            self._save(dataclasses.replace(now, copy_node=where, copy_step=steps, copy_bytes=size))

    def _record_reports(self, proc: runner.TrialProcess) -> None:
        trial = self._own(*proc.key)
        if trial is not None and (items := self._increment(proc, trial)):
            self.node.write_many(items)
            self._judge(proc)

    def _judge(self, proc: runner.TrialProcess) -> None:
        """Early stopping's word on a running trial after its new reports."""
        name, tid = proc.key
        exp = self.node.view.experiment(name)
        merged = self.node.view.trial(name, tid)
        if exp is None or merged is None or proc.key in self._freezing:
            return
        algo = self._compile(exp).algo
        if not isinstance(algo, MultiFidelityAlgorithm):
            return
        history = self._history(exp, self.node.view.trials(name))
        budget = merged.budget or algo.fidelity.high
        if algo.judges_quickly:
            self._judged(proc, merged, budget, algo.go_on(history, merged, budget))
        elif proc.key not in self._judging:  # a model's word: off the loop, one at a time
            self._judging.add(proc.key)
            loop = asyncio.get_running_loop()
            future = loop.run_in_executor(None, algo.go_on, history, merged, budget)
            future.add_done_callback(lambda f: self._judged_later(proc, merged, budget, f))

    def _judged_later(
        self, proc: runner.TrialProcess, merged: Trial, budget: int, future: asyncio.Future[bool]
    ) -> None:
        self._judging.discard(proc.key)
        try:
            go_on = future.result()
        except Exception:  # a bug in an algorithm must not take the daemon down
            _log.exception("%s: early stopping failed to judge trial %s", *proc.key)
            return
        if not proc.exited and proc.key in self._running and proc.key not in self._freezing:
            self._judged(proc, merged, budget, go_on)

    def _judged(self, proc: runner.TrialProcess, merged: Trial, budget: int, go_on: bool) -> None:
        if go_on:
            return
        name, tid = proc.key
        self._freezing.add(proc.key)
        runner.ask_to_stop(proc.folder)  # at the budget's end a script exits on its own anyway
        steps = steps_done(merged)
        level = logging.DEBUG if steps >= budget else logging.INFO
        _log.log(level, "%s: trial %s asked to stop at step %d", name, tid, steps)
        # a script that goes on regardless is stopped after the grace period
        loop = asyncio.get_running_loop()
        loop.call_later(self.settings.grace_period, self._stop_if_running, proc)

    def _stop_if_running(self, proc: runner.TrialProcess) -> None:
        if not proc.exited and proc.key in self._running:
            self._stop_trial(Stop(proc.key, "early stopping"))

    def _increment(self, proc: runner.TrialProcess, trial: Trial) -> list[tuple[str, bytes]]:
        """The steps reported since the last read, as the next increment of our claim's curve."""
        reports = proc.read_reports()
        if not reports:
            return []
        seq = self._seq.get(proc.key)
        if seq is None:  # re-adopted after a restart: go on after the increments on disk
            seq = claims.next_seq(self.node.view.increments(*proc.key), trial)
        self._seq[proc.key] = seq + 1
        return [claims.increment_item(trial, seq, reports)]

    def _own(self, name: str, trial_id: str) -> Trial | None:
        """This node's copy of a trial: every write about it starts from there."""
        return self.node.view.copy(name, trial_id, self.node.id)

    async def _interrupt(self, keys: list[TrialKey]) -> None:
        """SIGTERM to each trial's session, SIGKILL after the grace period; wait for them all."""
        procs = [self._running[k][0] for k in keys if k in self._running]
        waiting = [p.done for p in procs if p.done is not None]
        for proc in procs:
            proc.signal_group(signal.SIGTERM)
        if waiting:
            await asyncio.wait(waiting, timeout=self.settings.grace_period)
        for proc in procs:
            if not proc.exited:
                proc.signal_group(signal.SIGKILL)
        if waiting:
            await asyncio.wait(waiting)

    def _recover(self) -> None:
        """After a restart: re-adopt this node's trials whose processes still run.

        Those that died with the daemon are requeued by the first decision (``Requeue``).
        """
        for exp in self.node.view.experiments():
            for merged in self.node.view.trials(exp.name):
                trial = self._own(exp.name, merged.id)
                if trial is not None and trial.status.is_active():
                    self._readopt(trial)

    def _readopt(self, trial: Trial) -> None:
        key = (trial.experiment, trial.id)
        proc = runner.adopt(key, self._trial_dir(trial))
        if proc is None:
            return
        slot = next(
            (s for s in self.slots if s.id == trial.slot), Slot(trial.slot or "adopted", trial.gpu)
        )
        self._running[key] = (proc, slot)
        self._claims[key] = trial.claim
        if trial.status != TrialStatus.RUNNING:
            self._save(dataclasses.replace(trial, status=TrialStatus.RUNNING, pid=proc.pid))
        proc.watch(asyncio.get_running_loop(), self._on_exit)
        _log.info("%s: re-adopted running trial %s (pid %d)", trial.experiment, trial.id, proc.pid)

    # ---- writes ----------------------------------------------------------------------------

    def _save(self, trial: Trial) -> None:
        """Write our own copy (never a peer's: ``trial.node`` is this node)."""
        assert trial.node == self.node.id
        self.node.write(*claims.copy_item(trial))

    def _save_experiment(self, exp: Experiment) -> None:
        self.node.write(experiment_key(exp.name), exp.to_json())

    # ---- control requests ------------------------------------------------------------------

    async def _handle(self, op: str, args: dict[str, Any]) -> Any:
        handler = getattr(self, f"_op_{op}")
        result = handler(**args)
        if asyncio.iscoroutine(result):
            result = await result
        if op not in _READS:  # a pass over every trial, for a request that changed something
            self._wake.set()
        return result

    def _op_ping(self) -> dict[str, Any]:
        return {
            "node": self.node.id,
            "pid": os.getpid(),
            "slots": [dataclasses.asdict(s) for s in self.slots],
            "running": len(self._running),
            "storage": self.settings.storage,
            "data_dir": str(self.settings.data_dir),
            "embedded": self.settings.embedded,
            "address": self.cluster.address if self.cluster else None,
            "http": self._http,
            "key": self.cluster.fingerprint if self.cluster else None,
            "digest": self.node.view.digest(),
            # false for --settle seconds after a start with peers: it acts on nothing yet
            "settled": self.cluster.settled if self.cluster else True,
        }

    def _op_peers(self) -> list[dict[str, Any]]:
        """The member table, with each member's trials running (as this node's view has it)."""
        running = Counter(trial.node for trial in self.node.view.active())
        table: list[dict[str, Any]] = (
            self.cluster.member_table()
            if self.cluster is not None
            else [{"node": self.node.id, "state": "alive", "address": None, "since_s": None}]
        )
        for row in table:
            row["running"] = running.get(str(row["node"]), 0)
            row["self"] = row["node"] == self.node.id
            if row["self"]:  # our own card as of now, not as last announced
                row["card"] = dataclasses.asdict(self._card())
        return table

    def _op_stats(self) -> dict[str, int]:
        """The gossip core's counters: packets, bytes, probes, and why packets were rejected."""
        return self.cluster.stats() if self.cluster is not None else {}

    def _op_submit(self, experiment: dict[str, Any]) -> dict[str, Any]:
        given = _experiment_from_request(experiment)
        stored = self.node.view.experiment(given.name)
        if stored is None:
            self._compiled.pop(given.name, None)
            self._compile(given)  # refuses a space the algorithm cannot search, before saving
            self._save_experiment(given)
            self._run_here(given.name)
            return {"name": given.name, "state": "created"}
        diffs = stored.differences(given)
        if diffs:
            raise ExperimentConflict(
                f"experiment {given.name!r} already exists with a different definition:\n  "
                + "\n  ".join(diffs)
                + "\nchoose another name with -n/--name, or keep the stored definition"
            )
        self._run_here(given.name)
        state = "running" if stored.status == ExperimentStatus.RUNNING else "resumed"
        updated = dataclasses.replace(
            stored,
            max_trials=given.max_trials,
            max_broken=given.max_broken,
            env=given.env,
            status=ExperimentStatus.RUNNING,
            message="",
            resumed=time.time() if state == "resumed" else stored.resumed,
        )
        self._save_experiment(updated)
        return {"name": given.name, "state": state}

    def _op_status(self, name: str | None = None) -> list[dict[str, Any]]:
        exps = [self._experiment(name)] if name else self.node.view.experiments()
        return [summarize_in(self.node.view, e).to_dict() for e in exps]

    def _op_trials(self, name: str) -> dict[str, Any]:
        exp = self._experiment(name)
        return {
            "experiment": exp.to_json().decode(),
            "trials": [t.to_json().decode() for t in self.node.view.trials(name)],
        }

    async def _op_stop(self, name: str) -> dict[str, Any]:
        exp = self._experiment(name)
        if exp.status != ExperimentStatus.RUNNING:
            return {"name": name, "was": exp.status.label, "interrupted": 0}
        _steering.set_status(self.node, exp, ExperimentStatus.STOPPED, "stopped by the user")
        keys = [k for k in self._running if k[0] == name]
        await self._interrupt(keys)
        return {"name": name, "was": "running", "interrupted": len(keys)}

    def _op_resume(self, name: str, max_trials: int | None = None) -> dict[str, Any]:
        exp = self._experiment(name)
        if max_trials is not None:
            if not isinstance(max_trials, int) or isinstance(max_trials, bool):
                raise ControlError(f"--max-trials {max_trials!r}: expected a whole number")
            if max_trials < 1:
                raise ControlError("--max-trials must be at least 1")
            exp = dataclasses.replace(exp, max_trials=max_trials)
        elif exp.status == ExperimentStatus.RUNNING:
            return {"name": name, "state": "running", "message": ""}
        self._run_here(name)
        resumed = dataclasses.replace(
            exp,
            status=ExperimentStatus.RUNNING,
            message="",
            resumed=time.time() if exp.status != ExperimentStatus.RUNNING else exp.resumed,
        )
        self._save_experiment(resumed)
        self._step()  # an experiment with nothing left to do ends here, and says so
        after = self._experiment(name)
        state = "resumed" if after.status == ExperimentStatus.RUNNING else after.status.label
        return {"name": name, "state": state, "message": after.message}

    async def _op_delete(self, name: str) -> dict[str, Any]:
        exp = self._experiment(name)
        keys = [k for k in self._running if k[0] == name]
        if exp.status == ExperimentStatus.RUNNING:  # first, so that nothing starts meanwhile
            exp = _steering.set_status(self.node, exp, ExperimentStatus.STOPPED, "deleting")
        await self._interrupt(keys)
        self._compiled.pop(name, None)
        if self._focus is not None:
            self._focus.discard(name)
        trials = _steering.delete(self.node, self.settings.data_dir, exp)
        _log.info("%s: deleted with its %d trial(s)", name, trials)
        return {"name": name, "trials": trials, "interrupted": len(keys)}

    def _run_here(self, name: str) -> None:
        """An embedded daemon takes on an experiment once it is asked to run it."""
        if self._focus is not None:
            self._focus.add(name)

    def _op_shutdown(self, when_idle: bool = False) -> dict[str, Any]:
        if when_idle:
            self._exit_when_idle = True
        else:
            self.request_stop()
        return {"node": self.node.id}

    def _experiment(self, name: str) -> Experiment:
        exp = self.node.view.experiment(name)
        if exp is None:
            raise ControlError(unknown_experiment(self.node.view, name))
        return exp


def _experiment_from_request(body: dict[str, Any]) -> Experiment:
    """Check a submitted definition; the space is derived here, not taken from the client."""
    name = str(body["name"])
    if not _NAME.match(name):
        raise ControlError(
            f"invalid experiment name {name!r}: use letters, digits, '.', '_' and '-'"
        )
    command = tuple(str(a) for a in body["command"])
    _, space = parse_command(list(command))
    return Experiment(
        name=name,
        command=command,
        cwd=str(body["cwd"]),
        space=space.to_dict(),
        env={str(k): str(v) for k, v in body.get("env", {}).items()},
        algo=str(body.get("algo", "bayes")),
        algo_options=dict(body.get("algo_options", {})),
        max_trials=int(body.get("max_trials", 20)),
        objective=body.get("objective"),
        maximize=bool(body.get("maximize", False)),
        seed=int(body.get("seed", 0)),
        max_broken=int(body.get("max_broken", 3)),
        created=time.time(),
        uid=secrets.token_hex(8),
    )
