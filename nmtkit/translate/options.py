"""What ``translate`` is asked for: the search options and how lines are batched, on which
device, in which precision, compiled or not. One definition for the library and the
command line (``nmtkit translate`` builds its options from these fields); no torch here."""

from __future__ import annotations

from dataclasses import dataclass

from nmtkit.checks import check_fields, cli_name, one_of, option, ranged
from nmtkit.config import PRECISIONS
from nmtkit.errors import ConfigError
from nmtkit.search.options import COMPILE_MODES, SearchOptions

OUTPUT_FORMATS = ("text", "jsonl")
# What attention a translation keeps (nmtkit.translate.attention_maps): none, one layer's (the last
# by default) averaged over heads, or also each head of it, each layer, or each head of
# each layer.
ATTENTION_VIEWS = ("mean", "heads", "layers", "all")


@dataclass
class TranslateOptions:
    """Checked when made: a bad value is a ConfigError naming the option (``--batch-size``)."""

    search: SearchOptions
    batch_size: int = ranged(64, 1, 1 << 16, help="Sentences per batch.")
    chunk_size: int = ranged(1000, 1, 1 << 20,
                             help="Lines read, translated and written at a time.")
    device: str = option("cpu", "cpu, cuda, cuda:N.")
    # Processes forked to translate batches side by side on CPU, the threads split between
    # them (docs/benchmarks.md, "Decoding speed").
    workers: int = ranged(0, 0, 256, help="CPU processes translating batches side by side, "
                          "the threads split between them; 0: auto.")
    # fp32 and int8 (weights per channel, activations per row: batch-invariant int8,
    # nmtkit/models/int8.py) output does not depend on how lines are batched; bf16 and fp16
    # are faster on hardware that has them, but some lines change with the batch size.
    # auto: int8 where the model folder's int8 check passed, else fp32 (translate/quantize.py;
    # speeds and BLEU in docs/benchmarks.md, "int8 by default").
    precision: str = one_of(
        "auto", (*PRECISIONS, "int8"),
        help="auto (CPU: int8 where the model's int8 check, made by train or nmtkit "
             "check-int8, found BLEU within 0.3 of fp32; fp32 otherwise; says which on "
             "stderr), fp32, int8 (CPU; like fp32, the same lines whatever the batch), "
             "bf16 or fp16 (faster on hardware that has them; output may change with the "
             "batch size); speeds in docs/benchmarks.md.")
    # A model that translates into several languages (its tokenizer's target tags): the
    # tag of this language is put before each line (lines may also start with a tag).
    target_lang: str | None = option(
        None, "The language to translate into, for a model of several target languages "
              "(nmtkit preprocess --lang-pair, or an imported multi-target Marian model): "
              "its tag is put before each line.")
    # Vocabulary shortlist (nmtkit shortlist writes the model folder's shortlist.pt).
    shortlist: bool = option(
        False, "Score only the target pieces each line's source pieces co-occurred with in "
               "training, and the most frequent ones (needs nmtkit shortlist; eager loop).")
    # torch.compile'd decoding loop: on, off, or auto (where it was measured faster, once
    # the input is long enough to repay the compilation).
    compile: str = one_of(
        "auto", COMPILE_MODES,
        help="torch.compile the decoding loop: on, off, or auto (only where it was measured "
             "faster; see docs/benchmarks.md).")

    # What each input line gives: its text line(s), or one JSON object (jsonl).
    output_format: str = one_of(
        "text", OUTPUT_FORMATS,
        help="text (one line per input line; N with --n-best) or jsonl (one JSON object per "
             "input line: translation, score, n-best list, source and target pieces).")

    jsonl_attention: bool = option(
        False, "With --output-format jsonl: add each line's attention matrix (rows: the "
               "target pieces and </s>; columns: the source pieces) and its alignments.")
    # Keep each best translation's attention (Translation.attention) and alignments; the
    # command line sets it from --attention-plots, --alignments and --jsonl-attention.
    attention: str = one_of("off", ("off", *ATTENTION_VIEWS))
    # The decoder layer whose attention gives the alignments, the JSONL attention and the
    # heatmaps (counted from 1, as the plots label them; 0: the last). A Transformer's
    # last layer need not be the one that aligns best (fairseq's --alignment-layer).
    attention_layer: int = ranged(
        0, 0, 1000, help="With --alignments, --attention-plots or --jsonl-attention: the "
                      "decoder layer (1: the first) whose attention, heads averaged, gives "
                      "them; 0: the last.")

    def __post_init__(self):
        check_fields(self, cli_name)
        if self.jsonl_attention:
            if self.output_format != "jsonl":
                raise ConfigError("--jsonl-attention: for --output-format jsonl")
            if self.attention == "off":
                self.attention = "mean"
        if self.attention_layer and self.attention == "off":
            raise ConfigError("--attention-layer: for --alignments, --attention-plots or "
                              "--jsonl-attention")


def translate_options(**options) -> TranslateOptions:
    """:class:`TranslateOptions` from keywords named as the fields of it and of its
    :class:`SearchOptions` (``beam=5, n_best=3, precision="int8"``): the Python spelling of
    ``nmtkit translate``'s options, checked the same way; an unknown keyword is a
    ConfigError listing the valid ones."""
    search_names = set(SearchOptions.__dataclass_fields__)
    own_names = set(TranslateOptions.__dataclass_fields__) - {"search"}
    unknown = sorted(set(options) - search_names - own_names)
    if unknown:
        raise ConfigError(f"unknown translate option {unknown[0]!r}; valid: "
                          f"{', '.join(sorted(search_names | own_names))}")
    search = SearchOptions(**{k: v for k, v in options.items() if k in search_names})
    return TranslateOptions(search, **{k: v for k, v in options.items() if k in own_names})
