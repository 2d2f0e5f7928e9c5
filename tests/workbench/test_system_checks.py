"""The start-up checks (workbench/checks.py): each one fires on its broken configuration, with its
id and a hint, stops ``manage.py check`` and the WSGI application, and passes on the shipped one."""

from __future__ import annotations

import importlib
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.checks import Error, run_checks
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from workbench import checks
from workbench.projects import kinds
from workbench.quality.models import QualitySettings
from workbench.releases import consensus


def workbench_errors() -> list[Error]:
    return [m for m in run_checks(tags=[checks.TAG]) if isinstance(m, Error)]


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of labeling_configs/ that the kinds read instead (the interface cache is emptied
    before and after, so no other test sees the broken copy)."""
    copy = tmp_path / "labeling_configs"
    shutil.copytree(kinds.CONFIG_DIR, copy)
    monkeypatch.setattr(kinds, "CONFIG_DIR", copy)
    kinds.interface.cache_clear()
    yield copy
    kinds.interface.cache_clear()


def test_the_shipped_configuration_passes_every_workbench_check() -> None:
    assert workbench_errors() == []
    call_command("check", tags=[checks.TAG])  # raises SystemCheckError on any error
    checks.raise_if_broken()


def test_the_checks_are_registered_by_the_apps_under_the_workbench_tag() -> None:
    from django.core.checks import registry

    tagged = registry.registry.get_checks()
    names = {check.__name__ for check in tagged if checks.TAG in getattr(check, "tags", ())}
    assert {"label_configs", "featurizer", "consensus_methods"} <= names


def test_a_renamed_choice_in_a_label_config_fails_start_up(config_dir: Path) -> None:
    path = config_dir / "toxicity_binary.xml"
    path.write_text(path.read_text().replace('value="non-toxic"', 'value="clean"'))

    (error,) = workbench_errors()
    assert error.id == checks.LABEL_CONFIG_BROKEN
    assert "toxicity_binary" in error.msg and "toxicity_binary.xml" in error.msg
    assert "clean" in error.msg
    assert error.hint and "labeling_configs/" in error.hint
    with pytest.raises(SystemCheckError, match="workbench.E001"):
        call_command("check")


def test_a_label_config_that_is_not_xml_fails_start_up(config_dir: Path) -> None:
    (config_dir / "preference.xml").write_text("<View><Text name='prompt' value='$prompt'>")

    (error,) = workbench_errors()
    assert error.id == checks.LABEL_CONFIG_BROKEN
    assert "preference" in error.msg and "not well-formed XML" in error.msg


def test_a_missing_label_config_fails_start_up(config_dir: Path) -> None:
    (config_dir / "toxicity_multilabel.xml").unlink()

    (error,) = workbench_errors()
    assert error.id == checks.LABEL_CONFIG_BROKEN
    assert "toxicity_multilabel" in error.msg and "toxicity_multilabel.xml" in error.msg


@pytest.mark.parametrize("name", ["hashed", "sentence-transformers"])
def test_every_known_featurizer_passes(name: str) -> None:
    with override_settings(WORKBENCH_FEATURIZER=name):
        assert checks.featurizer() == []


@override_settings(WORKBENCH_FEATURIZER="word2vec")
def test_an_unknown_featurizer_fails_start_up() -> None:
    (error,) = workbench_errors()
    assert error.id == checks.UNKNOWN_FEATURIZER
    assert "'word2vec'" in error.msg
    assert error.hint == "Set WORKBENCH_FEATURIZER to one of: sentence-transformers, hashed."
    with pytest.raises(SystemCheckError, match="workbench.E002"):
        call_command("check")


@pytest.mark.parametrize("backend", ["torch", "onnx", "onnx-int8", "openvino-int8"])
def test_every_known_embedding_backend_passes(backend: str) -> None:
    with override_settings(EMBEDDING_BACKEND=backend):
        assert checks.featurizer() == []


@override_settings(EMBEDDING_BACKEND="tensorrt")
def test_an_unknown_embedding_backend_fails_start_up() -> None:
    (error,) = workbench_errors()
    assert error.id == checks.UNKNOWN_EMBEDDING_BACKEND
    assert "'tensorrt'" in error.msg and "onnx-int8" in error.hint
    with pytest.raises(SystemCheckError, match="workbench.E004"):
        call_command("check")


def test_an_unknown_release_fallback_method_fails_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(consensus, "FALLBACK_METHOD", "majority")

    (error,) = workbench_errors()
    assert error.id == checks.UNKNOWN_CONSENSUS_METHOD
    assert "FALLBACK_METHOD" in error.msg and "'majority'" in error.msg
    assert error.hint and all(name in error.hint for name in consensus.method_names())


def test_an_unknown_default_quality_consensus_method_fails_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    field = QualitySettings._meta.get_field("consensus_method")
    monkeypatch.setattr(field, "default", "dawid_skene")

    (error,) = workbench_errors()
    assert error.id == checks.UNKNOWN_CONSENSUS_METHOD
    assert "QualitySettings.consensus_method (default)" in error.msg and "'dawid_skene'" in error.msg


def test_a_quality_consensus_choice_the_releases_lack_fails_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(consensus._METHODS, "crowdlab")

    errors = workbench_errors()
    assert {e.id for e in errors} == {checks.UNKNOWN_CONSENSUS_METHOD}
    # crowdlab is both the quality setting's default and one of its choices.
    assert sorted(e.obj for e in errors) == [
        "QualitySettings.consensus_method (choice)",
        "QualitySettings.consensus_method (default)",
    ]


@override_settings(WORKBENCH_FEATURIZER="word2vec")
def test_the_wsgi_application_refuses_to_start_on_a_broken_configuration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(sys.modules, "workbench.wsgi", raising=False)

    with pytest.raises(ImproperlyConfigured, match=r"workbench\.E002.*word2vec"):
        importlib.import_module("workbench.wsgi")


def test_the_wsgi_application_starts_on_the_shipped_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "workbench.wsgi", raising=False)

    assert callable(importlib.import_module("workbench.wsgi").application)
