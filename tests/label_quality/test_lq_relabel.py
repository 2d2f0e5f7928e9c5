from __future__ import annotations

import numpy as np
import pytest

import label_quality as lq


def test_relabel_order_puts_the_labels_the_model_doubts_most_first() -> None:
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.5, 0.5], [0.1, 0.9]])
    old = np.array([0, 0, 1, 1, 1])
    found = lq.relabel_order(old, probs)
    np.testing.assert_allclose(found.change, [0.1, 0.8, 0.6, 0.5, 0.1])
    assert found.order.tolist() == [1, 2, 3, 0, 4]  # ties keep position order
    # Binary: the change likelihood is |P(positive) - old label|.
    np.testing.assert_allclose(found.change, np.abs(probs[:, 1] - old))


@pytest.mark.parametrize(
    ("old", "probs", "message"),
    [
        ([0, 1], np.ones((2,)), "pred_probs must be 2-D"),
        ([0], np.full((2, 2), 0.5), r"old_labels must have shape \(2,\)"),
        ([0, 2], np.full((2, 2), 0.5), "integer codes 0..1"),
        ([0, 1], np.array([[np.nan, 1.0], [0.5, 0.5]]), "must be finite"),
    ],
)
def test_relabel_order_names_bad_input(old: list[int], probs: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        lq.relabel_order(np.array(old), probs)
