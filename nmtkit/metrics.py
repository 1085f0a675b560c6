"""Corpus-level BLEU, chrF and TER through sacrebleu, with their signatures."""

from __future__ import annotations

from dataclasses import dataclass

METRICS = ("bleu", "chrf", "ter")


@dataclass
class Score:
    metric: str  # bleu | chrf | ter
    score: float
    signature: str
    text: str  # sacrebleu's own one-line rendering


def corpus_scores(hyps: list[str], refs: list[str], metrics=METRICS) -> list[Score]:
    from sacrebleu.metrics import BLEU, CHRF, TER

    makers = {"bleu": BLEU, "chrf": CHRF, "ter": TER}
    scores = []
    for name in metrics:
        metric = makers[name]()
        result = metric.corpus_score(hyps, [refs])
        scores.append(Score(name, round(float(result.score), 2),
                            str(metric.get_signature()), str(result)))
    return scores

