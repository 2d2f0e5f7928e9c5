import pytest

from workbench.projects import kinds
from workbench.projects.kinds import ConfigError, Kind, _validated


@pytest.mark.parametrize("kind", list(Kind))
def test_every_shipped_config_validates_and_is_hashed(kind: Kind) -> None:
    interface = kinds.interface(kind)
    assert len(interface.sha256) == 64
    assert interface.spec.kind is kind


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        ("toxicity_binary", "toxic"),
        ("preference", "tie"),
        ("toxicity_multilabel", ("obscene", "insult")),
        ("toxicity_multilabel", ()),
    ],
)
def test_a_label_survives_the_round_trip_through_a_result(kind: str, label: kinds.Label) -> None:
    interface = kinds.interface(kind)
    sides = "ba" if interface.spec.sided else None
    assert interface.label_from(interface.result_for(label, sides=sides), sides=sides) == label


def test_it_rejects_a_choice_the_config_does_not_have() -> None:
    interface = kinds.interface("toxicity_binary")
    result = [{"from_name": "toxicity", "to_name": "text", "type": "choices", "value": {"choices": ["spam"]}}]
    with pytest.raises(ConfigError, match="spam"):
        interface.label_from(result)


def test_multilabel_categories_come_back_in_taxonomy_order() -> None:
    interface = kinds.interface("toxicity_multilabel")
    result = [
        {
            "from_name": "categories",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": ["insult", "toxic"]},
        }
    ]
    assert interface.label_from(result) == ("toxic", "insult")


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        ("<View><Text name='text' value='$text'/>", "well-formed"),
        ("<Page/>", "root element"),
        (
            "<View><Text name='t' value='$body'/><Choices name='c' toName='t'>"
            "<Choice value='toxic'/><Choice value='non-toxic'/></Choices></View>",
            "needs",
        ),
        (
            "<View><Text name='t' value='$text'/><Choices name='c' toName='t'>"
            "<Choice value='toxic'/><Choice value='clean'/></Choices></View>",
            "differ",
        ),
        (
            "<View><Text name='t' value='$text'/><Choices name='c' toName='nowhere'>"
            "<Choice value='toxic'/><Choice value='non-toxic'/></Choices></View>",
            "names no",
        ),
        ("<!DOCTYPE x [<!ENTITY a 'aaaa'>]><View>&a;</View>", "unsafe XML"),
    ],
)
def test_a_broken_config_is_refused_with_the_reason(xml: str, message: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = kinds.SPECS[Kind.TOXICITY_BINARY]
    with pytest.raises(ConfigError, match=message):
        _validated(spec, xml, "0" * 64, tmp_path / "broken.xml")


@pytest.mark.parametrize("kind", list(Kind))
def test_every_kinds_model_free_strategy_is_registered_and_needs_no_model(kind: Kind) -> None:
    import active_learning as al

    spec = kinds.spec_of(kind)
    strategy = al.get_strategy(spec.model_free_strategy)
    assert not strategy.needs_model and spec.task in strategy.tasks
