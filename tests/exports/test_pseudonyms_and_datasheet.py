from __future__ import annotations

from pathlib import Path

from exports import (
    DATASHEET_NAME,
    DatasheetInfo,
    LengthShare,
    build_release,
    is_pseudonym,
    pseudonymize,
    salt_fingerprint,
)
from tests.exports.samples import SALT, meta, multilabel_records, preference_records


def test_pseudonyms_are_stable_per_salt_and_unlinkable_across_salts() -> None:
    first = pseudonymize("alice@example.org", SALT)
    assert first == pseudonymize("alice@example.org", SALT.encode())
    assert is_pseudonym(first) and len(first) == 20
    assert first != pseudonymize("alice@example.org", "another-project-salt-0000")
    assert first != pseudonymize("bob@example.org", SALT)
    assert pseudonymize(42, SALT) == pseudonymize("42", SALT)
    assert "alice" not in first


def test_salt_fingerprint_does_not_reveal_split_or_pseudonym_hashes() -> None:
    fingerprint = salt_fingerprint(SALT)
    assert len(fingerprint) == 16 and fingerprint == salt_fingerprint(SALT.encode())
    assert fingerprint not in pseudonymize("", SALT)


def test_datasheet_reports_distribution_agreement_issues_and_filters(tmp_path: Path) -> None:
    info = DatasheetInfo(
        title="Jigsaw taxonomy pilot",
        description="Wikipedia talk-page comments.",
        collection="Sampled by uncertainty over three rounds.",
        labeling="Three annotators per item in Label Studio.",
        agreement={"krippendorff_alpha": 0.6123, "percent_agreement": 0.8},
        known_issues=["`threat` has few positives."],
        filters_applied=["Dropped items with fewer than 3 annotations."],
        license="CC BY-SA 3.0",
    )
    manifest = build_release(
        multilabel_records(300),
        kind="multilabel",
        out_dir=tmp_path / "r",
        salt=SALT,
        release_meta=meta(version="4", tag="pilot"),
        datasheet=info,
    )
    sheet = (tmp_path / "r" / DATASHEET_NAME).read_text(encoding="utf-8")
    assert sheet.startswith("# Datasheet: Jigsaw taxonomy pilot, release 4 (pilot)")
    assert "Content warning" in sheet
    for text in (
        "Wikipedia talk-page comments.",
        "Sampled by uncertainty",
        "Three annotators per item",
        "| krippendorff_alpha | 0.6123 |",
        "- `threat` has few positives.",
        "- Dropped items with fewer than 3 annotations.",
        '"min_annotations": 3',
        f"Distinct annotators: {manifest.stats['annotators']}",
        "| `no_label` |",
        "CC BY-SA 3.0",
    ):
        assert text in sheet, text
    toxic = manifest.stats["by_label"]["toxic"]
    assert "| `toxic` | " in sheet and f"| {toxic:,} | " in sheet
    datasheet_entry = manifest.files[-1]
    assert datasheet_entry.path == DATASHEET_NAME and datasheet_entry.format == "datasheet"


def _preference_sheet(tmp_path: Path, bias: LengthShare | None) -> str:
    build_release(
        preference_records(30),
        kind="preference",
        out_dir=tmp_path / "p",
        salt=SALT,
        release_meta=meta(),
        datasheet=DatasheetInfo(title="pairs", length_bias=bias),
    )
    return (tmp_path / "p" / DATASHEET_NAME).read_text(encoding="utf-8")


def test_the_datasheet_warns_of_reward_hacking_when_the_longer_answer_wins_most_of_the_time(
    tmp_path: Path,
) -> None:
    sheet = _preference_sheet(tmp_path, LengthShare(longer_chosen=70, pairs=100, ci_low=0.604, ci_high=0.781))
    assert "## Reward-hacking risk" in sheet
    assert "longer one in 70 of 100 decided pairs" in sheet and "60.4% to 78.1%" in sheet


def test_no_reward_hacking_section_when_length_does_not_win_clearly(tmp_path: Path) -> None:
    # 55 % with an interval reaching below one half is not "most of the time".
    assert "Reward-hacking" not in _preference_sheet(tmp_path, LengthShare(55, 100, 0.452, 0.644))
    assert "Reward-hacking" not in _preference_sheet(tmp_path / "none", None)
