"""BLEU, chrF and TER through sacrebleu: corpus scores with their signatures, and
sentence scores."""

from __future__ import annotations

from dataclasses import dataclass

METRICS = ("bleu", "chrf", "ter")


@dataclass
class Score:
    metric: str  # bleu | chrf | ter
    score: float
    signature: str
    text: str  # sacrebleu's own one-line rendering


def make_metric(name: str, refs: list[str] | None = None, sentence: bool = False):
    """sacrebleu's metric ``name`` (its defaults); with ``refs``, their statistics cached.
    ``sentence``: BLEU with effective order, as sacrebleu advises for single sentences."""
    from sacrebleu.metrics import BLEU, CHRF, TER

    options = {"effective_order": True} if sentence and name == "bleu" else {}
    makers = {"bleu": BLEU, "chrf": CHRF, "ter": TER}
    return makers[name](references=[refs] if refs is not None else None, **options)


def corpus_scores(hyps: list[str], refs: list[str], metrics=METRICS) -> list[Score]:
    scores = []
    for name in metrics:
        metric = make_metric(name)
        result = metric.corpus_score(hyps, [refs])
        scores.append(Score(name, round(float(result.score), 2),
                            str(metric.get_signature()), str(result)))
    return scores


def sentence_scores(hyps: list[str], refs: list[str], metrics=METRICS
                    ) -> list[dict[str, float]]:
    """Each line's scores against its reference line, by metric name."""
    made = {name: make_metric(name, sentence=True) for name in metrics}
    return [{name: round(float(m.sentence_score(h, [r]).score), 2) for name, m in made.items()}
            for h, r in zip(hyps, refs, strict=True)]
