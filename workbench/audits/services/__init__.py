"""Writes of the audits app, one module per audit: identity groups, fairness (and the model card),
the label-side audit, drift checks, and what runs after an import."""
