from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest

from exports import ReleaseInputError, SplitAssigner, SplitRatios, assign_split, build_release
from tests.exports.samples import SALT, binary_records, meta


def _splits_of(release: Path) -> dict[int, str]:
    splits = {}
    for path in (release / "jsonl").glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            splits[row["item_id"]] = row["split"]
    return splits


def test_an_item_keeps_its_split_across_versions(tmp_path: Path) -> None:
    build_release(
        binary_records(range(0, 1500)),
        kind="binary",
        out_dir=tmp_path / "v1",
        salt=SALT,
        release_meta=meta("1"),
        formats=("jsonl",),
    )
    # v2: some items gone, many new ones, some relabeled: none of that may move an item.
    v2_ids = [i for i in range(0, 4000) if i % 11]
    build_release(
        binary_records(iter(v2_ids), flip=frozenset(range(0, 4000, 7))),
        kind="binary",
        out_dir=tmp_path / "v2",
        salt=SALT,
        release_meta=meta("2"),
        formats=("jsonl",),
    )
    v1, v2 = _splits_of(tmp_path / "v1"), _splits_of(tmp_path / "v2")
    common = v1.keys() & v2.keys()
    assert len(common) > 1300
    assert all(v1[i] == v2[i] for i in common)


def test_splits_land_near_the_configured_ratios() -> None:
    ratios = SplitRatios(train=0.7, validation=0.2, test=0.1)
    assign = SplitAssigner(SALT, ratios)
    n = 50_000
    counts = {"train": 0, "validation": 0, "test": 0}
    for item_id in range(n):
        counts[assign(item_id)] += 1
    # Binomial standard deviation at n=50k is ~0.2 percentage points; allow 1.
    for name, expected in ratios.as_dict().items():
        assert abs(counts[name] / n - expected) < 0.01, (name, counts)


def test_split_depends_on_the_salt_not_on_anything_else() -> None:
    ratios = SplitRatios()
    first = [assign_split(i, salt=SALT, ratios=ratios) for i in range(200)]
    assert first == [SplitAssigner(SALT, ratios)(i) for i in range(200)]
    other = [assign_split(i, salt="another-salt-0123456789", ratios=ratios) for i in range(200)]
    assert first != other


def test_zero_test_ratio_never_assigns_test() -> None:
    assign = SplitAssigner(SALT, SplitRatios(train=0.3, validation=0.7, test=0.0))
    assert {assign(i) for i in range(5000)} == {"train", "validation"}
    only_train = SplitAssigner(SALT, SplitRatios(train=1.0, validation=0.0, test=0.0))
    assert {only_train(i) for i in range(1000)} == {"train"}


@pytest.mark.parametrize(
    "ratios,message",
    [
        ((0.8, 0.1, 0.2), "must sum to 1"),
        ((0.5, 0.5, 0.1), "must sum to 1"),
        ((1.2, -0.1, -0.1), "within [0, 1]"),
        ((float("nan"), 0.5, 0.5), "within [0, 1]"),
    ],
)
def test_it_rejects_ratios_that_do_not_sum_to_one(ratios: tuple[float, float, float], message: str) -> None:
    with pytest.raises(ReleaseInputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        SplitRatios(*ratios)


def test_it_rejects_a_short_salt() -> None:
    with pytest.raises(ReleaseInputError, match="at least 16 bytes"):
        SplitAssigner("short", SplitRatios())


@pytest.mark.parametrize("salt", ["s" * 16, "a-project-salt-" * 3, "x" * 64, "long-" * 40, b"\xff" * 70])
def test_the_split_hash_is_hmac_sha256_of_the_domain_and_item_id(salt: str | bytes) -> None:
    # The assigner keeps precomputed HMAC states for speed; they must give the standard HMAC.
    key = salt.encode() if isinstance(salt, str) else salt
    assigner = SplitAssigner(salt, SplitRatios())
    for item_id in (0, 1, 7, 10**6, (1 << 63) - 1):
        digest = hmac.new(key, b"exports/split:%d" % item_id, hashlib.sha256).digest()
        assert assigner.unit(item_id) == int.from_bytes(digest[:8], "big") / float(1 << 64)
