"""Analysts' use cases over the decision log: importing history, off-policy evaluation, replay."""

from services.evaluation.service import Evaluation

__all__ = ["Evaluation"]
