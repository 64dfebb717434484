"""metaoptd's rules in a simulated cluster: N virtual daemons over the gossip core's Simulation.

    python -m metaoptd.cluster_sim --seed 7 --nodes 5           # one run, told step by step
    python -m metaoptd.cluster_sim --seeds 0:200 --nodes 3:20    # a sweep: one line per failure

Each virtual daemon is metaoptd's own decision layer (``decisions.decide``), records, replica,
view and merge rule, writing through the real gossip engines of ``metaopt._core.Simulation`` in
virtual time, on a store in memory that survives its crashes. Its trials are timers whose
duration (and, now and then, failure) the seed draws; a crash kills a daemon with its trials
(``kill -9``), a restart boots it again on what it had stored. The seed also draws the faults:
crashes and restarts, a partition and its healing, datagram loss.

At the end every run is checked against the invariants of the decentralized rules (``check``):
nothing completed is lost, no trial completes twice where no view was split, a dead node's
trials are taken up by one live node within a bound, every node shows the same history after
healing, ``max_trials`` is overshot by no more than the trials in flight, every grid point runs.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import hashlib
import random
import sys
from collections.abc import Sequence

from metaopt import _steering
from metaopt._core import Record
from metaopt._core import Simulation
from metaopt._replica import LocalReplica
from metaopt.algo import BaseAlgorithm
from metaopt.algo import MultiFidelityAlgorithm
from metaopt.algo import SearchHistory
from metaopt.algo import make_algorithm
from metaopt.algo import steps_done
from metaopt.records import Experiment
from metaopt.records import ExperimentStatus
from metaopt.records import Trial
from metaopt.records import TrialStatus
from metaopt.records import experiment_key
from metaopt.records import objective_name
from metaopt.space import parse_command
from metaopt.storage import BaseStorage
from metaoptd import claims
from metaoptd import leases
from metaoptd import lifecycle
from metaoptd.decisions import PATIENCE
from metaoptd.decisions import End
from metaoptd.decisions import Propose
from metaoptd.decisions import Requeue
from metaoptd.decisions import Situation
from metaoptd.decisions import Start
from metaoptd.decisions import Stop
from metaoptd.decisions import TrialKey
from metaoptd.decisions import decide
from metaoptd.decisions import waiting

STEP_MS = 250  # the host loop's period: events drained, trials finished, decisions taken
DECIDE_EVERY_MS = 2_000  # decisions without news, as metaoptd's periodic wake-up
SETTLE_MS = 15_000  # after this long a member, a claimant it never heard of counts as dead
ADOPTION_BOUND_MS = 30_000  # a dead node's trials run elsewhere within this (the bar)
RESULT_BOUND_MS = 10_000  # a result reaches every connected node within this
LOST_CLAIM_BOUND_MS = 5_000  # two claims of one trial at once: the loser stops within this
SLOTS = 2


# ---- a store in memory -----------------------------------------------------------------------


class MemoryStorage(BaseStorage):
    """The contract of BaseStorage in a dict: a virtual daemon's disk, kept across its crashes."""

    kind = "memory"

    def __init__(self, node_id: str) -> None:
        self._records: dict[tuple[str, str], Record] = {}
        self._meta = {"node_id": node_id.encode()}

    def put(self, records: Sequence[Record]) -> list[Record]:
        applied = []
        for record in records:
            held = self._records.get((record.key, record.origin))
            if held is None or held.version < record.version:
                self._records[(record.key, record.origin)] = record
                applied.append(record)
        return applied

    def get(self, key: str, origin: str) -> Record | None:
        return self._records.get((key, origin))

    def scan(self, prefix: str = "") -> list[Record]:
        return [r for k, r in sorted(self._records.items()) if k[0].startswith(prefix)]

    def versions(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for (_, origin), record in self._records.items():
            out[origin] = max(out.get(origin, 0), record.version)
        return out

    def get_meta(self, name: str) -> bytes | None:
        return self._meta.get(name)

    def put_meta(self, name: str, value: bytes) -> None:
        self._meta[name] = value

    def close(self) -> None:
        pass


# ---- what the seed draws ---------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Fault:
    at_ms: int
    kind: str  # "crash", "restart", "partition", "heal", "loss"
    nodes: tuple[int, ...] = ()
    loss: float = 0.0


@dataclasses.dataclass(frozen=True)
class Scenario:
    seed: int
    nodes: int
    faults: tuple[Fault, ...]
    random_trials: int  # max_trials of the random-search experiment
    duration_ms: int  # virtual time simulated
    failure_rate: float  # chance that a trial attempt exits with an error

    @property
    def split(self) -> bool:
        """Whether views may disagree for a while: a partition (crashes alone do not)."""
        return any(f.kind == "partition" for f in self.faults)

    def command(self) -> str:
        return f"python -m metaoptd.cluster_sim --seed {self.seed} --nodes {self.nodes}"


def scenario(seed: int, nodes: int) -> Scenario:
    """The faults and the experiments of one run, from its seed alone."""
    rng = random.Random(seed * 1_000_003 + nodes)
    faults: list[Fault] = []
    t = 20_000 + rng.randrange(20_000)
    for _ in range(rng.choice([0, 1, 1, 2, 3])):  # crashes, each restarted later
        victim = rng.randrange(nodes)
        down = rng.choice([5_000, 40_000, 90_000])
        faults += [Fault(t, "crash", (victim,)), Fault(t + down, "restart", (victim,))]
        t += rng.randrange(10_000, 60_000)
    if nodes >= 3 and rng.random() < 0.3:
        cut = rng.randrange(1, nodes)
        members = list(range(nodes))
        rng.shuffle(members)
        start = 30_000 + rng.randrange(60_000)
        groups = (tuple(sorted(members[:cut])), tuple(sorted(members[cut:])))
        faults += [Fault(start, "partition", groups[0] + (-1,) + groups[1])]
        faults += [Fault(start + rng.choice([10_000, 60_000]), "heal")]
    if rng.random() < 0.3:
        faults.append(Fault(10_000, "loss", loss=rng.choice([0.01, 0.05])))
    faults.sort(key=lambda f: f.at_ms)
    return Scenario(
        seed=seed,
        nodes=nodes,
        faults=tuple(faults),
        random_trials=max(6, min(3 * nodes, 30)),
        duration_ms=420_000,
        failure_rate=rng.choice([0.0, 0.0, 0.05]),
    )


def experiments(s: Scenario) -> list[Experiment]:
    grid = ("train.py", "--a~choice(1, 2, 3)", "--b~choice(x, y, z)")
    rand = ("train.py", "--lr~loguniform(1e-4, 1)", "--layers~randint(1, 4)")
    # trials frozen at rungs 1 and 3 of 9 steps and thawed: leases, claims of thaws
    rungs = ("train.py", "--lr~loguniform(1e-4, 1)", "--epochs~fidelity(1, 9, base=3)")
    out: list[Experiment] = []
    for name, command, algo, max_trials in [
        ("grid", grid, "grid", 100),
        ("rand", rand, "random", s.random_trials),
        ("asha", rungs, "asha", s.random_trials),
    ]:
        _, space = parse_command(list(command))
        out.append(
            Experiment(
                name,
                command,
                "/",
                space.to_dict(),
                algo=algo,
                max_trials=max_trials,
                seed=s.seed,
                max_broken=50,
                created=float(len(out)),
                uid=f"{name}-{s.seed}",
            )
        )
    return out


# ---- one virtual daemon ----------------------------------------------------------------------


@dataclasses.dataclass
class Run:
    """One trial process, as the ground truth saw it."""

    node: str
    key: TrialKey
    attempt: int
    start_ms: int
    end_ms: int  # when it is due to end
    fails: bool
    outcome: str = "running"  # "completed", "frozen", "failed", "stopped", "killed"


class VirtualDaemon:
    def __init__(self, cluster: Cluster, index: int) -> None:
        self.cluster = cluster
        self.index = index
        self.id = f"n{index}"
        self.storage = MemoryStorage(self.id)
        self.up = False
        self.boot()

    def boot(self) -> None:
        sim = self.cluster.sim
        self.replica = LocalReplica(
            self.storage,
            generation=sim.generation(self.index),
            publish=lambda r: sim.write(self.index, r.key, r.value, r.hlc),
            clock=lambda: sim.now,
        )
        self.up = True
        self.booted_ms = sim.now
        self.members: dict[str, str] = {}
        self.running: dict[TrialKey, Run] = {}
        self.algos: dict[str, BaseAlgorithm] = {}
        self.next_decision_ms = 0
        self.seq: dict[TrialKey, int] = {}
        self.waiting: dict[TrialKey, float] = {}  # when each waiting trial was first seen here

    def crash(self) -> None:
        for run in self.running.values():
            run.outcome = "killed"
            run.end_ms = self.cluster.sim.now
        self.running.clear()
        self.up = False

    # -- the host loop --------------------------------------------------------------------------

    def step(self, now: int) -> None:
        news = self._pump()
        for key, run in list(self.running.items()):
            if run.end_ms <= now:
                self._finish(key, run, now)
                news = True
        if news or now >= self.next_decision_ms:
            self._act(now)
            self.next_decision_ms = now + DECIDE_EVERY_MS

    def _pump(self) -> bool:
        records: list[Record] = []
        news = False
        for event in self.cluster.sim.drain_events(self.index):
            if event.kind == "record" and event.record is not None:
                records.append(event.record)
            elif event.kind.startswith("member_"):
                self.members[event.node] = event.kind.removeprefix("member_")
                news = True
        return bool(self.replica.receive(records)) or news

    def _finish(self, key: TrialKey, run: Run, now: int) -> None:
        del self.running[key]
        own = self.replica.view.copy(*key, self.id)
        if own is None:
            run.outcome = "stopped"
            return
        exp = self.replica.view.experiment(key[0])
        algo = self._algo(exp) if exp is not None else None
        if run.fails:
            run.outcome = "failed"
            status, items = TrialStatus.FAILED, []
        elif isinstance(algo, MultiFidelityAlgorithm):  # trained its lease, checkpointed
            merged = self.replica.view.trial(*key)
            start = steps_done(merged) if merged is not None else 0
            until = own.budget or algo.fidelity.high
            steps = [(t, {"loss": _loss(own) + 1.0 / (t + 1)}) for t in range(start, until)]
            items = [claims.increment_item(own, self.seq.get(key, 0), steps)] if steps else []
            done = until >= algo.fidelity.high
            run.outcome = "completed" if done else "frozen"
            status = TrialStatus.COMPLETED if done else TrialStatus.FROZEN
            own = dataclasses.replace(own, checkpoint_bytes=0 if done else 1)
        else:
            run.outcome = "completed"
            status = TrialStatus.COMPLETED
            items = [claims.increment_item(own, self.seq.get(key, 0), [(0, {"loss": _loss(own)})])]
        done_copy = claims.ended(own, status, now / 1000, exit_code=1 if run.fails else 0)
        self.replica.write_many([*items, claims.copy_item(done_copy)])

    def _act(self, now: int) -> None:
        situation = self._situation(now)
        self.waiting = {k: self.waiting.get(k, now / 1000) for k in waiting(situation)}
        for action in decide(situation):
            self.cluster.tally(action)
            if isinstance(action, Stop):
                run = self.running.pop(action.key)
                run.outcome, run.end_ms = "stopped", now
                own = self.replica.view.copy(*action.key, self.id)
                if own is not None:
                    gone = claims.ended(own, TrialStatus.INTERRUPTED, now / 1000, signal=15)
                    self.replica.write_many([claims.copy_item(gone)])
            elif isinstance(action, Requeue):
                own = self.replica.view.copy(*action.key, self.id)
                if own is not None:
                    self.replica.write_many([claims.copy_item(claims.requeued(own, now / 1000))])
            elif isinstance(action, End):
                exp = self.replica.view.experiment(action.experiment)
                if exp is not None:
                    _steering.set_status(self.replica, exp, action.status, action.message)
            elif isinstance(action, Start):
                self._start(action.trial, now)
            elif isinstance(action, Propose):
                self._propose(action, now)

    def _situation(self, now: int) -> Situation:
        exhausted, thaws = {}, {}
        for exp in self.replica.view.experiments():
            if exp.status == ExperimentStatus.RUNNING:
                algo, history = self._algo(exp), self._history(exp)
                if isinstance(algo, MultiFidelityAlgorithm):
                    busy = self.cluster.busy()
                    outlook = leases.outlook(algo, exp, history, self.id, self.alive(), busy)
                    exhausted[exp.name], thaws[exp.name] = outlook.exhausted, outlook.thaws
                else:
                    exhausted[exp.name] = algo.is_exhausted(history)
        return Situation(
            node=self.id,
            view=self.replica.view,
            alive=self.alive(),
            dead={n for n, state in self.members.items() if state in ("dead", "left")},
            settled=now - self.booted_ms >= SETTLE_MS,
            free_slots=SLOTS - len(self.running),
            running={key: self._claim(key) for key in self.running},
            exhausted=exhausted,
            now=now / 1000,
            waiting=self.waiting,
            thaws=thaws,
        )

    def alive(self) -> set[str]:
        return {self.id} | {
            n for n, state in self.members.items() if state in ("alive", "suspect")
        }

    def _claim(self, key: TrialKey) -> tuple[int, int, str]:
        own = self.replica.view.copy(*key, self.id)
        assert own is not None
        return own.claim

    def _history(self, exp: Experiment) -> SearchHistory:
        trials = self.replica.view.trials(exp.name)
        members = sorted(self.alive())
        share = (members.index(self.id), len(members))
        return SearchHistory(trials, objective_name(exp, trials), exp.maximize, share)

    def _algo(self, exp: Experiment) -> BaseAlgorithm:
        if exp.name not in self.algos:
            _, space = parse_command(list(exp.command))
            self.algos[exp.name] = make_algorithm(exp.algo, space, seed=exp.seed, node_id=self.id)
        return self.algos[exp.name]

    def _propose(self, action: Propose, now: int) -> None:
        exp = self.replica.view.experiment(action.experiment)
        assert exp is not None
        algo = self._algo(exp)
        allowed = lifecycle.new_allowed(exp, self.replica.view.trials(exp.name))
        if not isinstance(algo, MultiFidelityAlgorithm):
            for params in algo.suggest(self._history(exp), action.count)[:allowed]:
                trial = claims.fresh(exp, params, now / 1000)
                if self.replica.view.trial(exp.name, trial.id) is None:
                    self._start(trial, now)
            return
        history, alive = self._history(exp), self.alive()
        busy = self.cluster.busy() - {self.id}  # as its decision saw it: a slot free here
        for lease in leases.take(algo, history, action.count, self.id, alive, busy):
            if lease.is_thaw:  # as metaoptd does: still frozen (a fetch elsewhere is instant)
                held = self.replica.view.trial(exp.name, lease.trial_id or "")
                if held is not None and held.status.is_frozen():
                    self._start(held, now, lease.until)
            elif allowed > 0:
                allowed -= 1
                trial = claims.fresh(exp, lease.params, now / 1000)
                if self.replica.view.trial(exp.name, trial.id) is None:
                    self._start(trial, now, lease.until)

    def _start(self, trial: Trial, now: int, budget: int | None = None) -> None:
        mine = claims.claim(trial, self.id, self.replica.stamp(), now / 1000, None, None, budget)
        self.replica.write_many([claims.copy_item(mine)])
        key = (mine.experiment, mine.id)
        running = dataclasses.replace(mine, status=TrialStatus.RUNNING)
        self.replica.write_many([claims.copy_item(running)])
        duration, fails = self.cluster.draw_trial(key, mine.attempt)
        exp = self.replica.view.experiment(key[0])
        assert exp is not None
        algo = self._algo(exp)
        if isinstance(algo, MultiFidelityAlgorithm):  # a lease lasts as long as its steps
            merged = self.replica.view.trial(*key)
            steps = (mine.budget or algo.fidelity.high) - (steps_done(merged) if merged else 0)
            duration = max(1_000, duration * max(steps, 1) // algo.fidelity.high)
        run = Run(self.id, key, mine.attempt, now, now + duration, fails)
        self.running[key] = run
        self.seq[key] = 0
        self.cluster.runs.append(run)


def _loss(trial: Trial) -> float:
    """The objective a trial reports: a fixed function of its parameters."""
    digest = hashlib.blake2b(repr(sorted(trial.params.items())).encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") / 2**32


# ---- the cluster -----------------------------------------------------------------------------


class Cluster:
    def __init__(self, s: Scenario) -> None:
        self.scenario = s
        self.sim = Simulation(s.nodes, s.seed, "lan")
        self.sim.keep_events(True)
        self.rng = random.Random(s.seed)
        self.runs: list[Run] = []
        self.daemons = [VirtualDaemon(self, i) for i in range(s.nodes)]
        self.sim.join_all()
        self.story: list[str] = []
        self.crashes: list[tuple[int, int, int]] = []  # (node, at, back at)
        self.counts: collections.Counter[str] = collections.Counter()
        self.violations: list[str] = []  # seen while running (see _watch)

    def tally(self, action: object) -> None:
        if isinstance(action, Stop):
            self.counts[f"stop ({action.why})"] += 1
        elif isinstance(action, Start):
            self.counts["adopt" if action.adopted_from else "restart"] += 1
        else:
            self.counts[type(action).__name__.lower()] += 1

    def busy(self) -> set[str]:
        """The nodes up with no free slot, as their cards say (here with no delay)."""
        return {
            d.id for i, d in enumerate(self.daemons) if self.sim.up(i) and len(d.running) >= SLOTS
        }

    def booting(self, node: str, at_ms: int) -> bool:
        """Whether ``node`` (re)started too recently to take a trial a dead member left: it
        may not know of the death yet (SETTLE_MS), then waits its turn (PATIENCE, thrice)."""
        index = int(node[1:])
        boots = [0] + [back for n, _, back in self.crashes if n == index and back >= 0]
        window = SETTLE_MS + 3 * PATIENCE * 1000 + DECIDE_EVERY_MS
        return any(0 <= at_ms - b < window for b in boots)

    def draw_trial(self, key: TrialKey, attempt: int) -> tuple[int, bool]:
        material = f"{self.scenario.seed}\0{key}\0{attempt}".encode()
        r = random.Random(int.from_bytes(hashlib.sha256(material).digest()[:8], "big"))
        return r.randrange(15_000, 90_000), r.random() < self.scenario.failure_rate

    def run(self) -> None:
        first = self.daemons[0]
        for exp in experiments(self.scenario):
            first.replica.write(experiment_key(exp.name), exp.to_json())
        faults = list(self.scenario.faults)
        now = 0
        while now < self.scenario.duration_ms:
            now += STEP_MS
            while faults and faults[0].at_ms <= now:
                self._fault(faults.pop(0))
            # Each daemon acts at its own moment of the step, the network running in between:
            # hosts in lockstep would all act on the same view and collide far more than real
            # ones, whose clocks and work are never aligned.
            for i, daemon in enumerate(self.daemons):
                at = now - STEP_MS + (i + 1) * STEP_MS // len(self.daemons)
                self.sim.run_until(at)
                if daemon.up:
                    daemon.step(at)
            if now % 5_000 == 0:
                self._watch(now)
                if not faults and self._quiet():
                    break

    def _watch(self, now: int) -> None:
        """What must hold at every moment, not only at the end: a node that holds a result
        shows it (no other copy, of any attempt, hides a completed one)."""
        for d in self.daemons:
            if not d.up:
                continue
            view = d.replica.view
            for exp in view.experiments():
                for trial in view.trials(exp.name):
                    copies = view.copies(exp.name, trial.id)
                    if trial.status != TrialStatus.COMPLETED and any(
                        t.status == TrialStatus.COMPLETED for t in copies
                    ):
                        self.violations.append(
                            f"{now / 1000:.0f} s: {d.id} holds a result of {trial.id} but shows "
                            f"it {trial.status.label} (attempt {trial.attempt} by {trial.node})"
                        )

    def _quiet(self) -> bool:
        """Every experiment over, no trial running, every live node showing the same history."""
        live = [d for d in self.daemons if d.up]
        if any(d.running for d in live):
            return False
        views = [d.replica.view for d in live]
        over = all(e.status != ExperimentStatus.RUNNING for e in views[0].experiments())
        return over and len({v.digest() for v in views}) == 1

    def _fault(self, f: Fault) -> None:
        self.story.append(f"{f.at_ms / 1000:7.1f}s {f.kind} {list(f.nodes) or ''} {f.loss or ''}")
        if f.kind == "crash":
            (i,) = f.nodes
            if self.daemons[i].up:
                self.sim.crash(i)
                self.daemons[i].crash()  # its trials end now, killed with it
                self.crashes.append((i, self.sim.now, -1))
        elif f.kind == "restart":
            (i,) = f.nodes
            if not self.daemons[i].up:
                self.sim.restart_from(i, self.daemons[i].storage.scan())
                self.daemons[i].boot()
                back = self.sim.now
                self.crashes = [
                    (n, a, back if n == i and b < 0 else b) for n, a, b in self.crashes
                ]
        elif f.kind == "partition":
            cut = f.nodes.index(-1)
            self.sim.partition([list(f.nodes[:cut]), list(f.nodes[cut + 1 :])])
        elif f.kind == "heal":
            self.sim.heal()
        elif f.kind == "loss":
            self.sim.set_loss(f.loss)


# ---- the invariants --------------------------------------------------------------------------


def check(c: Cluster) -> list[str]:
    """What the run broke of the decentralized rules; empty when it broke nothing."""
    s = c.scenario
    problems: list[str] = c.violations[:3]
    live = [d for d in c.daemons if d.up]
    views = {d.id: d.replica.view for d in live}
    digests = {node: view.digest() for node, view in views.items()}
    if len(set(digests.values())) > 1:
        problems.append(f"views differ after healing: {digests}")
    view = views[live[0].id]
    completed_runs = [r for r in c.runs if r.outcome == "completed"]
    for run in completed_runs:
        trial = view.trial(*run.key)
        if trial is None or trial.status != TrialStatus.COMPLETED:
            problems.append(f"completed trial {run.key} on {run.node} is lost: {trial}")
    if not s.split and not any(c.sim.false_deaths()):
        done: dict[TrialKey, list[str]] = {}
        for run in completed_runs:
            done.setdefault(run.key, []).append(run.node)
        twice = {k: v for k, v in done.items() if len(v) > 1}
        if twice:
            problems.append(f"trials completed twice with no split view: {twice}")
    problems += _adoptions(c)
    problems += _reruns(c)
    problems += _held_twice(c)
    in_flight = SLOTS * s.nodes
    for exp in experiments(s):
        held = view.experiment(exp.name)
        trials = view.trials(exp.name)
        ok = sum(1 for t in trials if t.status == TrialStatus.COMPLETED)
        if held is None or held.status != ExperimentStatus.DONE:
            state = held.status.label if held else "missing"
            problems.append(
                f"{exp.name} did not end: {state}, {ok} completed, {len(trials)} trials"
            )
        if ok > exp.max_trials + in_flight:
            problems.append(f"{exp.name}: {ok} completed, over {exp.max_trials} + {in_flight}")
        if exp.algo == "grid":  # every point once, each run to its end (a failure included)
            finished = sum(1 for t in trials if t.status.is_finished())
            if finished != 9 or len(trials) != 9:
                problems.append(f"grid: {finished} of 9 points finished, {len(trials)} trials")
    return problems


def _adoptions(c: Cluster) -> list[str]:
    """Each trial running on a node when it crashed (and stayed down long enough) runs again on
    a live node: within the bound, or else before any new point starts anywhere (a new point
    never takes the slot of a trial waiting to be taken up); and, with no split view, on one
    node: two that take it up at once (before either hears of the other) do not both go on."""
    problems = []
    for node, at, back in c.crashes:
        if back >= 0 and back - at < ADOPTION_BOUND_MS:
            continue  # back before anyone had to take over
        for orphan in [r for r in c.runs if r.node == f"n{node}" and r.end_ms == at]:
            if orphan.outcome != "killed":
                continue
            later = [r for r in c.runs if r.key == orphan.key and r.start_ms > at]
            if not later:
                continue  # its experiment ended meanwhile (max_trials reached by others)
            first = min(r.start_ms for r in later)
            jumped = [  # a new point started while it waited, by a node that knew of it
                r
                for r in c.runs
                if at + ADOPTION_BOUND_MS < r.start_ms < first
                and (back < 0 or r.start_ms < back)  # once its node is back, it is that node's
                and r.attempt == 1
                and not c.booting(r.node, r.start_ms)
            ]
            if jumped and not c.scenario.split:
                other = jumped[0]
                problems.append(
                    f"{orphan.key} of crashed n{node} waited {(first - at) / 1000:.0f} s while "
                    f"{other.key} started on {other.node} at {other.start_ms / 1000:.0f} s"
                )
            down = [r for r in later if back < 0 or r.start_ms < back]
            twice = [  # two claims of it that ran together longer than a lost claim lasts
                (a.node, b.node)
                for a in down
                for b in down
                if a.node < b.node
                and min(a.end_ms, b.end_ms) - max(a.start_ms, b.start_ms) > LOST_CLAIM_BOUND_MS
            ]
            if twice and not c.scenario.split and not c.sim.false_deaths():
                problems.append(f"{orphan.key} of crashed n{node} ran on {twice[0]} at once")
    return problems


def _held_twice(c: Cluster) -> list[str]:
    """With no split view, no trial (a thaw or a rerun included) runs on two nodes at once for
    longer than a lost claim takes to be stopped."""
    if c.scenario.split or c.sim.false_deaths():
        return []
    by_key: dict[TrialKey, list[Run]] = {}
    for run in c.runs:
        by_key.setdefault(run.key, []).append(run)
    for key, runs in by_key.items():
        for a in runs:
            for b in runs:
                overlap = min(a.end_ms, b.end_ms) - max(a.start_ms, b.start_ms)
                if a.node < b.node and overlap > LOST_CLAIM_BOUND_MS:
                    return [f"{key} ran on {a.node} and {b.node} at once for {overlap} ms"]
    return []


def nodes_for(seed: int, low: int = 3, high: int = 20) -> int:
    """The cluster size of a seed in a sweep over sizes low..high."""
    return low + seed % (high - low + 1)


def _reruns(c: Cluster) -> list[str]:
    """A completed trial is never run again, once its result can have reached every node."""
    heals = [f.at_ms for f in c.scenario.faults if f.kind == "heal"]
    problems = []
    for done in (r for r in c.runs if r.outcome == "completed"):
        known = max([done.end_ms, *(h for h in heals if h > done.end_ms)]) + RESULT_BOUND_MS
        again = [r for r in c.runs if r.key == done.key and r.start_ms > known]
        if again:
            problems.append(
                f"{done.key} completed on {done.node} at {done.end_ms / 1000:.0f} s "
                f"and ran again on {again[0].node} at {again[0].start_ms / 1000:.0f} s"
            )
    return problems


def simulate(seed: int, nodes: int) -> tuple[Cluster, list[str]]:
    cluster = Cluster(scenario(seed, nodes))
    cluster.run()
    return cluster, check(cluster)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m metaoptd.cluster_sim",
        description="metaoptd's decentralized rules in a simulated cluster, checked.",
    )
    parser.add_argument("--seed", type=int, help="one run, told step by step")
    parser.add_argument("--seeds", default="0:20", help="a sweep: FIRST:LAST (default 0:20)")
    parser.add_argument("--nodes", default="3:8", help="N, or MIN:MAX drawn per seed")
    args = parser.parse_args(argv)
    low, _, high = args.nodes.partition(":")
    sizes = (int(low), int(high or low))
    if args.seed is not None:
        cluster, problems = simulate(args.seed, sizes[0])
        print("\n".join(cluster.story) or "no faults")
        _summary(cluster)
        print("\n".join(problems) or "every invariant holds")
        return 1 if problems else 0
    first, _, last = args.seeds.partition(":")
    failed = 0
    totals: collections.Counter[str] = collections.Counter()
    for seed in range(int(first), int(last)):
        cluster, problems = simulate(seed, nodes_for(seed, *sizes))
        totals.update(cluster.counts)
        if problems:
            failed += 1
            print(f"FAIL {cluster.scenario.command()}: {problems[0]}")
    print(
        f"{int(last) - int(first) - failed} of {int(last) - int(first)} seeds hold every invariant"
    )
    print(f"actions over the sweep: {dict(sorted(totals.items()))}")
    return 1 if failed else 0


def _summary(c: Cluster) -> None:
    for d in c.daemons:
        view = d.replica.view
        counts = {
            e.name: sum(1 for t in view.trials(e.name) if t.status == TrialStatus.COMPLETED)
            for e in view.experiments()
        }
        state = "up" if d.up else "down"
        print(f"{d.id} {state}: completed {counts}, digest {view.digest()}")
    print(
        f"runs {len(c.runs)}, false deaths {len(c.sim.false_deaths())}, actions {dict(c.counts)}"
    )


if __name__ == "__main__":
    sys.exit(main())
