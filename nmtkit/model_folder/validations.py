"""What a model folder records of each validation (``checkpoints.json``, ``train_state.pt``):
the result, and how results rank by the validation metric."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ValidResult:
    step: int
    loss: float  # per target token, without label smoothing
    ppl: float
    bleu: float | None
    seconds: float
    chrf: float | None = None

    def value(self, metric: str) -> float | None:
        """The figure ``metric`` (bleu, chrf or loss) ranks by."""
        return {"bleu": self.bleu, "chrf": self.chrf, "loss": self.loss}[metric]


METRIC_NAMES = {"bleu": "BLEU", "chrf": "chrF", "loss": "loss"}


def rank_key(result: ValidResult, metric: str) -> float:
    """Smaller is better: the loss, or BLEU and chrF negated (the figure must be there)."""
    value = result.value(metric)
    return value if metric == "loss" else -value


def better(a: ValidResult, b: ValidResult | None, metric: str) -> bool:
    """Whether ``a`` beats ``b`` on ``metric`` (higher BLEU or chrF, lower loss); a result
    beats none, and one without the figure (older runs had no chrF)."""
    if b is None or b.value(metric) is None:
        return True
    if a.value(metric) is None:
        return False
    return rank_key(a, metric) < rank_key(b, metric)
