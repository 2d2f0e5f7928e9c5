"""A finished round's trained model, kept so that other apps can score with it later (the
incident triage scores a feedback batch with the latest round's model).

One file per round, ``settings.ROUND_MODELS_DIR / "<round id>.pkl"``: a pickle of the fitted
``active_learning`` model with the featurizer id its features came from and the project's kind.
It is written atomically (a temporary file in the same folder, then renamed) once the round is
done; a failed write is logged and never fails the round, which then simply has no stored model
(as rounds from before models were kept, and rounds that trained none, e.g. a cold start). The
files are the workbench's own; only load files this code wrote.
"""

from __future__ import annotations

import logging
import os
import pickle
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from numpy.typing import NDArray

from active_learning.classifiers import Model
from workbench.rounds import embeddings
from workbench.rounds.models import Round

log = logging.getLogger(__name__)

FORMAT = 1


@dataclass(frozen=True)
class RoundModel:
    round_id: int
    kind: str
    featurizer: str
    model: Model


def round_model_path(round_id: int) -> Path:
    return Path(settings.ROUND_MODELS_DIR) / f"{round_id}.pkl"


def round_model_save(round_: Round, model: Model | None, featurizer: str) -> Path | None:
    """Keep the round's fitted model (None: the round trained none, nothing is written). Returns
    the file, or None when nothing was written; an error is logged, never raised."""
    if model is None:
        return None
    path = round_model_path(round_.id)
    body = {
        "format": FORMAT,
        "round_id": round_.id,
        "kind": round_.project.kind,
        "featurizer": featurizer,
        "model": model,
    }
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=path.parent, suffix=".tmp", delete=False) as f:
            tmp = f.name
            pickle.dump(body, f, protocol=pickle.HIGHEST_PROTOCOL)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        log.exception("round %s: its model could not be stored at %s", round_.id, path)
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        return None
    return path


def round_model_load(round_: Round) -> RoundModel | str:
    """The round's stored model, or why there is none (a sentence for a report)."""
    path = round_model_path(round_.id)
    if not path.exists():
        return (
            f"round {round_.number} has no stored model (a round from before models were kept, "
            "one that trained no model, or its model could not be written)"
        )
    try:
        with path.open("rb") as f:
            body: Any = pickle.load(f)  # noqa: S301 -- the workbench's own file (round_model_save)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError) as exc:
        return f"round {round_.number}'s stored model could not be read ({type(exc).__name__}: {exc})"
    if not isinstance(body, dict) or body.get("format") != FORMAT or body.get("round_id") != round_.id:
        return f"round {round_.number}'s stored model file is not one this version of the workbench wrote"
    return RoundModel(
        round_id=round_.id, kind=str(body["kind"]), featurizer=str(body["featurizer"]), model=body["model"]
    )


def round_model_proba(stored: RoundModel, items: Sequence[dict[str, Any]]) -> NDArray[np.float64] | str:
    """The stored model's probabilities for items given by their data, with features from the
    same featurizer (``embeddings``); or why it cannot score them (the featurizer changed)."""
    current = embeddings.featurizer().model_id
    if current != stored.featurizer:
        return (
            f"the round's model was trained on {stored.featurizer} features and the featurizer "
            f"now is {current}"
        )
    X, _ = embeddings.features(stored.kind, items)
    return np.asarray(stored.model.predict_proba(X), dtype=np.float64)
