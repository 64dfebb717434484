"""What a node announces of itself: its card, within the core's bound, readable by any version."""

from __future__ import annotations

import json

from metaoptd.card import MAX_BYTES
from metaoptd.card import Card
from metaoptd.slots import Slot
from metaoptd.slots import _parse_smi_line


def test_a_card_counts_gpus_by_model_and_reads_back():
    slots = [Slot(f"gpu{g}.{k}", str(g), "NVIDIA H200 140GB") for g in range(2) for k in range(2)]
    card = Card.of(slots, free=1, running=3, digest="ab" * 8)
    assert card.gpus == (("NVIDIA H200 140GB", 2),)
    assert card.slots == 4
    assert Card.decode(card.encode()) == card


def test_a_card_of_many_models_stays_within_the_bound():
    names = [f"Some Very Long GPU Model Name {g} 80GB" for g in range(40)]
    slots = [Slot(f"gpu{g}.0", str(g), name) for g, name in enumerate(names)]
    data = Card.of(slots, 0, 0, "0" * 16).encode()
    assert len(data) <= MAX_BYTES
    assert Card.decode(data).slots == 40


def test_unreadable_or_foreign_cards_are_no_card():
    for data in (b"", b"\xff\xfe", b"[1, 2]", b'{"slots": "many"}', b"{}"):
        assert Card.decode(data) is None
    later = json.dumps({"v": 9, "slots": 2, "free": 2, "run": 0, "new": [1]}).encode()
    assert Card.decode(later) == Card(2, 2, 0, version="")  # unknown fields ignored


def test_nvidia_smi_lines_keep_commas_in_names():
    assert _parse_smi_line("0, NVIDIA H200, 143771").model == "NVIDIA H200 140GB"
    assert _parse_smi_line("3, Tesla V100-SXM2, 16GB, [N/A]").memory_mib == 0
