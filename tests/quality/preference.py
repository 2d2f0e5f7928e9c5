"""Preference pairs a hashed-feature model can tell apart: the preferred response is a helpful
sentence, the other a rude one, on whichever side the gold label says."""

from __future__ import annotations

GOOD = [
    "here is a clear and careful explanation with examples",
    "a helpful step by step answer that explains why",
    "thanks for asking, the detailed solution follows",
]
BAD = ["no idea, go away", "stupid question, whatever", "figure it out yourself loser"]


def preference_records(n: int) -> list[dict[str, str]]:
    records = []
    for i in range(n):
        good, bad = f"{GOOD[i % 3]} {i}", f"{BAD[i % 3]} {i}"
        a_wins = i % 2 == 0
        records.append(
            {
                "prompt": f"question number {i} about topic {i % 7}",
                "response_a": good if a_wins else bad,
                "response_b": bad if a_wins else good,
                "label": "A" if a_wins else "B",
                "external_id": f"p{i}",
            }
        )
    return records


def swapped(label: str) -> str:
    return {"A": "B", "B": "A"}.get(label, label)
