"""Judging translations: sacrebleu's metrics, paired significance tests, and (source,
target) pairs scored by a model."""
