"""A cluster of separate hosts: found by zeroconf alone, a host killed outright, a partition
healed, and a host with another key kept out."""

from __future__ import annotations

import json
import re
import time

import pytest

from metaoptd import keys
from tests.helpers import history_json as history
from tests.helpers import metaopt
from tests.helpers import submit_quadratic as submit
from tests.helpers import wait_until

pytestmark = pytest.mark.slow


def digests(daemons) -> set[str]:
    return {d.call("ping")["digest"] for d in daemons}


def test_three_hosts_found_by_zeroconf_alone_run_one_experiment(lan):
    hosts = [lan.start() for _ in range(3)]  # no --join anywhere
    lan.wait_members(3)
    submit(hosts[0], "exp", "--x~uniform(0, 1)", "--sleep=0.5", max_trials=9, objective="loss")
    for d in hosts:
        d.wait_status("done", timeout=120)
    wait_until(lambda: len(digests(hosts)) == 1, 30, "one history digest on every host")
    trials = history(hosts[2], "exp")
    assert len(trials) == 9
    assert {t["status"] for t in trials} == {"completed"}
    assert {t["node"] for t in trials} == {d.call("ping")["node"] for d in hosts}
    peers = json.loads(metaopt(hosts[1].data_dir, "peers", "--json").stdout)
    assert sorted(m["address"].split(":")[0] for m in peers) == [h.address for h in lan.hosts]
    assert all(m["card"]["slots"] == 1 for m in peers)
    wait_until(
        lambda: {m["card"]["digest"] for m in json.loads(
            metaopt(hosts[1].data_dir, "peers", "--json").stdout)} == digests(hosts),
        30,
        "every member's card to carry the one digest",
    )  # fmt: skip


def test_a_host_killed_outright_has_its_trials_finished_elsewhere(lan):
    a, _, c = (lan.start() for _ in range(3))
    lan.wait_members(3)
    submit(a, "exp", "--x~uniform(0, 1)", "--sleep=3", max_trials=6, objective="loss")
    c_id = c.call("ping")["node"]

    def running_on_c() -> list[dict]:
        return [t for t in history(a, "exp") if t["node"] == c_id and t["status"] == "running"]

    victims = wait_until(running_on_c, 60, "a trial running on the third host")
    assert lan.host_of(c).kill_all() >= 2  # its daemon and its trial, as a power cut
    a.wait_status("done", timeout=120)
    trials = history(a, "exp")
    assert len(trials) == 6
    assert {t["status"] for t in trials} == {"completed"}
    for victim in victims:  # finished by a survivor, counted once
        (done,) = [t for t in trials if t["id"] == victim["id"]]
        assert done["node"] != c_id


def test_both_sides_of_a_partition_work_and_agree_after_it_heals(lan):
    a, b, c = (lan.start() for _ in range(3))
    lan.wait_members(3)
    lan.network.partition([lan.host_of(c)])
    wait_until(lambda: lan.alive_counts() == [2, 2, 1], 60, "the partition to be seen")
    submit(a, "left", "--x~uniform(0, 1)", "--sleep=0.2", max_trials=4, objective="loss")
    submit(c, "right", "--x~uniform(0, 1)", "--sleep=0.2", max_trials=4, objective="loss")
    a.wait_status("done", name="left", timeout=90)
    c.wait_status("done", name="right", timeout=90)
    lan.network.heal()
    lan.wait_members(3, timeout=90)
    wait_until(lambda: len(digests((a, b, c))) == 1, 60, "one history digest after healing")
    for d in (a, b, c):
        assert {s["name"] for s in d.call("status")} == {"left", "right"}
        assert len(history(d, "right")) == 4


def test_a_host_with_another_key_neither_joins_nor_injects(lan, tmp_path):
    a, _ = lan.start(), lan.start()
    lan.wait_members(2)
    other = tmp_path / "other.key"
    keys.load_or_create(other)
    stranger = lan.start(key=other)
    submit(stranger, "intruder", "--x~uniform(0, 1)", max_trials=1, objective="loss")
    wait_until(lambda: "wrong cluster key" in a.log.read_text(), 60, "the rejection in the log")
    assert lan.alive_counts()[:2] == [2, 2]
    assert [s["name"] for s in a.call("status")] == []
    stats = a.call("stats")
    assert stats["rejected_auth_failed"] + stats["rejected_unknown_key"] > 0
    assert a.log.read_text().count("rejected packets from") == 1  # once, not every second


def test_a_flapping_link_does_not_make_trials_run_twice(lan):
    hosts = [lan.start() for _ in range(3)]
    lan.wait_members(3)
    submit(hosts[0], "exp", "--x~uniform(0, 1)", "--sleep=2", max_trials=9, objective="loss")
    flapping = lan.host_of(hosts[2])
    for _ in range(5):  # down 1.5 s, up 1.5 s: shorter than a suspicion lasts
        lan.network.cut(flapping)
        time.sleep(1.5)
        lan.network.mend(flapping)
        time.sleep(1.5)
    for d in hosts:
        d.wait_status("done", timeout=120)
    assert sum(d.call("stats")["probes_failed"] for d in hosts) > 0  # the flaps were felt
    wait_until(lambda: len(digests(hosts)) == 1, 60, "one history digest on every host")
    trials = history(hosts[0], "exp")
    assert len(trials) == 9
    assert {t["status"] for t in trials} == {"completed"}
    started = [s for d in hosts for s in re.findall(r": started trial (\w+)", d.log.read_text())]
    assert sorted(started) == sorted(t["id"] for t in trials)  # each started once, anywhere
