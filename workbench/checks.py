"""Start-up checks of the workbench's own configuration (Django system checks, tag ``workbench``).

A label config that does not parse or no longer matches its kind, an unknown
``WORKBENCH_FEATURIZER`` or a consensus method name that the release registry does not know would
otherwise fail at first use: the first project created, the first round, the first release. As
Error-level checks they stop ``manage.py migrate`` / ``runserver`` / ``check`` (and every other
command that runs the checks) and the WSGI application (``workbench/wsgi.py`` calls
:func:`raise_if_broken`). Each app registers the check of what it owns in its ``AppConfig.ready``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, run_checks
from django.core.exceptions import ImproperlyConfigured

TAG = "workbench"

LABEL_CONFIG_BROKEN = "workbench.E001"
UNKNOWN_FEATURIZER = "workbench.E002"
UNKNOWN_CONSENSUS_METHOD = "workbench.E003"
UNKNOWN_EMBEDDING_BACKEND = "workbench.E004"


def label_configs(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """Every labeling config of every kind (the default and, for preference, the graded one)
    reads, parses and matches what the kind expects."""
    from workbench.projects import kinds

    errors: list[CheckMessage] = []
    for kind in kinds.Kind:
        spec = kinds.spec_of(kind)
        for name in spec.config_names:
            default = name == spec.config_name
            try:
                kinds.interface(kind) if default else kinds.interface(kind, name)
            except (kinds.ConfigError, OSError, UnicodeError) as exc:
                which = "" if default else f" ({name})"
                errors.append(
                    Error(
                        f"The label config of the {kind.value} kind{which} is broken: {exc}",
                        hint="Fix the file under labeling_configs/ (or revert it); projects of this kind "
                        "cannot be created or read until it parses and matches the kind.",
                        obj=f"projects.kinds.interface({kind.value!r}"
                        + ("" if default else f", {name!r}")
                        + ")",
                        id=LABEL_CONFIG_BROKEN,
                    )
                )
    return errors


def featurizer(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """``WORKBENCH_FEATURIZER`` names a featurizer that rounds (and quality) can embed with."""
    from active_learning.featurizers import BACKENDS
    from workbench.rounds.embeddings import FEATURIZERS

    return [
        error
        for error in (
            _one_of("WORKBENCH_FEATURIZER", FEATURIZERS, "a featurizer", UNKNOWN_FEATURIZER),
            _one_of("EMBEDDING_BACKEND", BACKENDS, "an embedding backend", UNKNOWN_EMBEDDING_BACKEND),
        )
        if error is not None
    ]


def _one_of(setting: str, valid: Sequence[str], what: str, check_id: str) -> CheckMessage | None:
    """An error when the setting's value is not one of ``valid``."""
    value = getattr(settings, setting, None)
    if value in valid:
        return None
    return Error(
        f"{setting}={value!r} is not {what}.",
        hint=f"Set {setting} to one of: {', '.join(valid)}.",
        obj=f"settings.{setting}",
        id=check_id,
    )


def consensus_methods(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """Every consensus method name configured as a default is a registered release method: the
    releases' fallback, and the quality setting's default and choices (a release made without a
    method uses the project's quality setting)."""
    from workbench.quality.models import QualitySettings
    from workbench.releases import consensus

    known = consensus.method_names()
    field = QualitySettings._meta.get_field("consensus_method")
    configured = [("releases.consensus.FALLBACK_METHOD", consensus.FALLBACK_METHOD)]
    configured.append(("QualitySettings.consensus_method (default)", str(field.get_default())))
    configured += [
        ("QualitySettings.consensus_method (choice)", str(value)) for value, _ in field.flatchoices
    ]
    return [
        Error(
            f"{where} names the consensus method {name!r}, which is not registered.",
            hint=f"Registered consensus methods: {', '.join(known)} (workbench.releases.consensus).",
            obj=where,
            id=UNKNOWN_CONSENSUS_METHOD,
        )
        for where, name in configured
        if name not in known
    ]


def raise_if_broken() -> None:
    """Run the workbench's checks where Django does not (the WSGI application) and refuse to
    start on an error, with the report ``manage.py check`` would print."""
    serious = [message for message in run_checks(tags=[TAG]) if message.is_serious()]
    if serious:
        raise ImproperlyConfigured(
            "The workbench's configuration is broken:\n" + "\n".join(str(m) for m in serious)
        )
