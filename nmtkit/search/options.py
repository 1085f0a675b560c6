"""What a search is asked for (:class:`SearchOptions`), what it gives back
(:class:`Hypothesis`), and the length penalty of finished hypotheses. No torch here: the
command line reads these definitions before it imports torch.

:class:`SearchOptions` is the one definition of the search options: ``nmtkit translate``
builds its command-line options from these fields (name, default, range, help).
"""

from __future__ import annotations

from dataclasses import dataclass

from nmtkit.checks import SEED_MAX, check_fields, cli_name, one_of, option, ranged
from nmtkit.errors import ConfigError

LENGTH_NORMS = ("gnmt", "average", "none")
BEAM_STOPS = ("bound", "best", "all")
# The decoding loop torch.compile'd (search/compiled.py): on, off, or where it pays (auto).
COMPILE_MODES = ("auto", "on", "off")


@dataclass
class SearchOptions:
    """Search options, checked when made; a bad value is a ConfigError naming the
    command-line option (``--beam``, ...)."""

    beam: int = ranged(5, 1, 512, help="Beam size; 1 is greedy search.")
    length_penalty: float = ranged(
        1.0, 0, 10, help="GNMT length penalty alpha: score / ((5 + len) / 6) ** alpha "
                        "(0: none).")
    length_norm: str = one_of(
        "gnmt", LENGTH_NORMS,
        help="Finished-hypothesis scores: gnmt (alpha above), average (per piece), none.")
    # "bound" gives the lines of "all" (fairseq's rule, k finished), ending a line sooner
    # once no unfinished hypothesis can beat its n-best under the length penalty; "best" is
    # OpenNMT-py's and CTranslate2's rule, which may lose BLEU with a length penalty. Their
    # speed and BLEU on Multi30k: docs/benchmarks.md, "When a line's beam search ends".
    beam_stop: str = one_of(
        "bound", BEAM_STOPS,
        help="When a line's beam search ends: bound (the lines of 'all', sooner: once no "
             "unfinished hypothesis can still beat the --n-best finished ones under the "
             "length penalty), best (once its best candidate ends; faster, may lose BLEU "
             "with a length penalty) or all (once --beam hypotheses have ended).")
    max_len_ratio: float = ranged(2.0, 0, 1000, help="At most ratio * source length + 10 pieces.")
    max_len: int = ranged(256, 1, 1 << 16, help="At most this many target pieces.")
    min_len: int = ranged(0, 0, 1 << 16, help="At least this many target pieces.")
    min_len_ratio: float = ranged(0.0, 0, 1000, help="At least ratio * source length pieces.")
    no_repeat_ngram: int = ranged(0, 0, 100,
                                  help="Never repeat an n-gram of this size (0: off).")
    n_best: int = ranged(1, 1, 512, help="Output the n best as 'LINE ||| TEXT ||| SCORE' lines.")
    sampling: bool = option(False, "Sample each token instead of searching (ignores --beam).")
    temperature: float = ranged(1.0, 0, 1000, lo_open=True, help="Sampling temperature.")
    top_k: int = ranged(0, 0, 1 << 24, help="Sample from the k most likely tokens (0: all).")
    top_p: float = ranged(1.0, 0.0, 1.0, lo_open=True,
                          help="Sample from the smallest set with this mass (1: all).")
    seed: int = ranged(0, 0, SEED_MAX, help="Sampling seed.")

    def __post_init__(self):
        check_fields(self, option_name)
        if self.sampling and self.n_best > 1:
            raise ConfigError("--n-best cannot be used with --sample (sampling draws one "
                              "translation per line)")
        if not self.sampling:  # a sampling option without --sample would be ignored
            for name in ("temperature", "top_k", "top_p", "seed"):
                if getattr(self, name) != self.__dataclass_fields__[name].default:
                    raise ConfigError(f"{option_name(name)}: for --sample (beam and greedy "
                                      "search do not sample)")
        if self.min_len > self.max_len:
            raise ConfigError(f"--min-len ({self.min_len}) cannot exceed --max-len "
                              f"({self.max_len})")
        if not self.sampling and self.n_best > self.beam:
            raise ConfigError(f"--n-best ({self.n_best}) cannot exceed --beam ({self.beam})")


def option_name(field_name: str) -> str:
    """The command-line option of a :class:`SearchOptions` field."""
    return "--sample" if field_name == "sampling" else cli_name(field_name)


@dataclass
class Hypothesis:
    tokens: list[int]  # target ids, EOS not included
    score: float  # length-normalised log-probability (beam) or log-probability (greedy)


def length_penalty(length: int, opts: SearchOptions) -> float:
    """The divisor of a finished hypothesis' log-probability: GNMT's ((5 + len) / 6) ** alpha
    (Wu et al., 2016), the length itself (average), or 1."""
    if opts.length_norm == "gnmt":
        return ((5.0 + length) / 6.0) ** opts.length_penalty
    if opts.length_norm == "average":
        return float(length)
    return 1.0
