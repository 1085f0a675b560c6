"""Paired significance tests of systems against a baseline on one reference, through
sacrebleu's own implementation (``sacrebleu.significance.PairedTest``): paired bootstrap
resampling and approximate randomisation, with p-values and 95% confidence intervals."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

from nmtkit.errors import ConfigError
from nmtkit.scoring.metrics import make_metric

SAMPLES_MAX = 100_000  # --samples
# sacrebleu draws every bootstrap resample at once: (resamples x lines) indices and the
# statistics they pick, about 44 bytes per resampled line for BLEU. This bounds it to about
# a gigabyte.
RESAMPLED_LINES_MAX = 20_000_000
BOOTSTRAP_DEFAULT = 1000  # sacrebleu's resamples when --samples is 0

TESTS = {"bootstrap": "bs", "ar": "ar"}  # our name -> sacrebleu's
ALPHA = 0.05  # a difference with p below this is called significant


@dataclass
class SystemResult:
    name: str
    score: float
    mean: float | None  # mean over the bootstrap resamples (None without resampling)
    ci: float | None  # half-width of the 95% confidence interval around ``mean``
    p_value: float | None  # against the baseline; None for the baseline itself

    @property
    def significant(self) -> bool | None:
        return None if self.p_value is None else self.p_value < ALPHA


@dataclass
class Comparison:
    """One metric's paired test: the baseline first, then each system against it."""

    metric: str  # bleu | chrf | ter
    test: str  # bootstrap | ar
    signature: str  # sacrebleu's, with the test, the samples and the seed
    systems: list[SystemResult]


@contextlib.contextmanager
def _sacrebleu_seed(seed: int) -> Iterator[None]:
    """sacrebleu reads its resampling seed from ``SACREBLEU_SEED``."""
    before = os.environ.get("SACREBLEU_SEED")
    os.environ["SACREBLEU_SEED"] = str(seed)
    try:
        yield
    finally:
        if before is None:
            del os.environ["SACREBLEU_SEED"]
        else:
            os.environ["SACREBLEU_SEED"] = before


def paired_test(systems: list[tuple[str, list[str]]], refs: list[str], metrics: list[str],
                test: str = "bootstrap", samples: int = 0, seed: int = 12345
                ) -> list[Comparison]:
    """Each system after the first against the first (the baseline), per metric.

    samples: bootstrap resamples or randomisation trials (0: sacrebleu's defaults, 1,000
    and 10,000). seed (at least 1): the same seed gives the same p-values and intervals.
    Confidence intervals come from bootstrap resamples in both tests.
    """
    from sacrebleu.significance import PairedTest

    check_resampled_size(samples if test == "bootstrap" else 0, len(refs))
    made = {name: make_metric(name, refs) for name in metrics}
    with _sacrebleu_seed(seed):
        # Randomisation takes its intervals from sacrebleu's default 1,000 bootstrap
        # resamples (0); the bootstrap test has its own (-1: no second set).
        run = PairedTest(systems, made, references=None, test_type=TESTS[test],
                         n_samples=samples, n_ar_confidence=0 if test == "ar" else -1)
        signatures, table = run()
    names = table.pop("System")
    # A system with the baseline's very lines differs from it in no resample, so nothing
    # is significant: p = 1. (sacrebleu counts resampled differences strictly above the
    # observed one, so every one being zero would give it 1 / (samples + 1).)
    same = [hyps == systems[0][1] for _, hyps in systems]
    out = []
    for metric, (label, results) in zip(metrics, table.items(), strict=True):
        rows = [SystemResult(n, float(r.score), _float(r.mean), _float(r.ci),
                             1.0 if i and same[i] else _float(r.p_value))
                for i, (n, r) in enumerate(zip(names, results, strict=True))]
        out.append(Comparison(metric, test, str(signatures[label]), rows))
    return out


def check_resampled_size(samples: int, lines: int) -> None:
    """Refuse bootstrap resampling whose arrays would outgrow :data:`RESAMPLED_LINES_MAX`
    (``samples`` 0: sacrebleu's default, which the intervals of both tests use)."""
    n = samples or BOOTSTRAP_DEFAULT
    if n * lines > RESAMPLED_LINES_MAX:
        most = max(1, RESAMPLED_LINES_MAX // max(lines, 1))
        raise ConfigError(f"--samples: {n:,} bootstrap resamples of {lines:,} lines are over "
                          f"the limit of {RESAMPLED_LINES_MAX:,} resampled lines (about a "
                          f"gigabyte of memory); pass --samples {most:,} or fewer")


def _float(value) -> float | None:
    return None if value is None else float(value)
