"""nmtkit score: BLEU, chrF and TER of hypotheses against references; per sentence, or
several systems compared with paired significance tests; or (source, hypothesis) pairs
scored by a model."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from nmtkit.checks import SEED_MAX
from nmtkit.cli.common import number
from nmtkit.cli.paths import Reads, command
from nmtkit.scoring.significance import SAMPLES_MAX

PATHS = {"ref": Reads("file", "--ref"), "model_dir": Reads("model", "--model-dir"),
         "src": Reads("file", "--src"), "hyp": Reads("file", "--hyp")}


def register(app: typer.Typer) -> None:
    command(app, "score", func=score, paths=PATHS,
            help="Score hypotheses (stdin or --hyp) against --ref: BLEU, chrF, TER; per line "
            "with --sentence; several --hyp compared with --paired-bootstrap or "
            "--paired-ar; or each (--src, --hyp) pair's log-probability under a model with "
            "--model-dir.")


def score(
    ref: Path | None = typer.Option(None, "--ref", "-r",
                                    help="Reference text, one line per hypothesis."),
    model_dir: Path | None = typer.Option(
        None, "--model-dir", "-m", help="Score each (--src, --hyp) pair with this model "
        "instead: log-probability, average per piece, perplexity."),
    src: Path | None = typer.Option(None, "--src", help="Sources of the pairs (--model-dir)."),
    batch_size: int = number(64, "--batch-size", lo=1, hi=1 << 16,
                             help="Pairs per batch (--model-dir)."),
    device: str = typer.Option("cpu", help="cpu, cuda, cuda:N (--model-dir)."),
    hyp: list[Path] | None = typer.Option(
        None, "--hyp", help="Hypotheses (default: stdin); repeat to compare systems, the "
        "first being the baseline."),
    metrics: str = typer.Option("bleu,chrf,ter", help="Comma-separated: bleu, chrf, ter."),
    sentence: bool = typer.Option(False, "--sentence",
                                  help="Scores per line (BLEU with effective order)."),
    paired_bootstrap: bool = typer.Option(
        False, "--paired-bootstrap", help="Paired bootstrap resampling of each --hyp "
        "against the first: p-values and 95% confidence intervals (sacrebleu's test)."),
    paired_ar: bool = typer.Option(
        False, "--paired-ar", help="Paired approximate randomisation, as above."),
    samples: int = number(0, "--samples", lo=0, hi=SAMPLES_MAX,
                          help="Bootstrap resamples or randomisation trials (0: sacrebleu's "
                          "1,000 and 10,000)."),
    seed: int = number(12345, "--seed", lo=1, hi=SEED_MAX, help="Seed of the resampling."),
    json_out: bool = typer.Option(False, "--json", help="JSON for machines (JSON lines with "
                                  "--sentence)."),
):

    from nmtkit import api
    from nmtkit.errors import ConfigError, NmtkitError
    from nmtkit.fileio import read_lines
    from nmtkit.scoring.metrics import METRICS

    if model_dir is not None or src is not None:
        if sentence or paired_bootstrap or paired_ar:
            raise ConfigError("--model-dir scores pairs with the model; --sentence and "
                              "--paired-* are for the metrics against --ref")
        _score_with_model(model_dir, src, list(hyp or []), ref, batch_size, device, json_out)
        return
    if batch_size != 64 or device != "cpu":
        raise ConfigError(f"{'--batch-size' if batch_size != 64 else '--device'}: only with "
                          "--model-dir (scoring pairs with a model)")
    if ref is None:
        raise ConfigError("--ref: needed (or --model-dir with --src, to score pairs with a "
                          "model)")
    names = [m.strip().lower() for m in metrics.split(",") if m.strip()]
    bad = [m for m in names if m not in METRICS]
    if bad or not names:
        raise NmtkitError(f"--metrics: unknown {', '.join(bad) or '(none)'}; "
                          f"valid: {', '.join(METRICS)}")
    tests = [t for t, on in (("bootstrap", paired_bootstrap), ("ar", paired_ar)) if on]
    paths = list(hyp or [])
    if tests and len(paths) < 2:
        raise ConfigError(f"--paired-{'bootstrap' if paired_bootstrap else 'ar'}: needs at "
                          f"least two --hyp files (the first is the baseline), got {len(paths)}")
    if tests and sentence:
        raise ConfigError("--sentence and --paired-*: choose one")
    refs = read_lines(ref)
    systems = _systems(paths)
    if not refs and not any(h for _, h in systems):
        raise NmtkitError(f"{ref} and {systems[0][0]} are both empty; nothing to score")

    if tests:
        for test in tests:
            results = api.compare(systems, refs, names, test, samples, seed, ref_name=str(ref))
            _print_comparisons(results, json_out)
    elif sentence:
        _print_sentences(systems, refs, names, str(ref), json_out)
    else:
        _print_corpus(systems, refs, names, str(ref), json_out)


def _systems(paths: list[Path]) -> list[tuple[str, list[str]]]:
    """(name, lines) of each --hyp file, or of stdin where there is none."""
    from nmtkit.fileio import decode_lines, read_lines

    if paths:
        return [(str(p), read_lines(p)) for p in paths]
    return [("<stdin>", list(decode_lines(sys.stdin.buffer, "<stdin>")))]


def _print_corpus(systems, refs, names, ref_name, json_out) -> None:
    import json

    from nmtkit import api

    for name, hyps in systems:
        scores = api.score(hyps, refs, names, hyp_name=name, ref_name=ref_name)
        prefix = f"{name}: " if len(systems) > 1 else ""
        if json_out:
            out = {s.metric: {"score": s.score, "signature": s.signature} for s in scores}
            typer.echo(json.dumps({"system": name, **out} if len(systems) > 1 else out))
        else:
            for s in scores:
                typer.echo(f"{prefix}{s.text}  [{s.signature}]")


def _print_sentences(systems, refs, names, ref_name, json_out) -> None:
    """One line per hypothesis line: TSV with a header, or JSON lines."""
    import json

    from nmtkit import api

    per_system = [api.score_sentences(h, refs, names, hyp_name=n, ref_name=ref_name)
                  for n, h in systems]
    several = len(systems) > 1
    columns = [f"{n}:{m}" if several else m for n, _ in systems for m in names]
    if not json_out:
        typer.echo("\t".join(["line", *columns]))
    for i in range(len(refs)):
        if json_out:
            row = {"line": i + 1}
            if several:
                row["systems"] = {n: s[i] for (n, _), s in zip(systems, per_system, strict=True)}
            else:
                row.update(per_system[0][i])
            typer.echo(json.dumps(row))
        else:
            values = [f"{s[i][m]:.2f}" for s in per_system for m in names]
            typer.echo("\t".join([str(i + 1), *values]))


def _print_comparisons(results, json_out) -> None:
    import json
    from dataclasses import asdict

    for c in results:
        if json_out:
            rows = [dict(asdict(r), significant=r.significant) for r in c.systems]
            typer.echo(json.dumps({"metric": c.metric, "test": c.test,
                                   "signature": c.signature, "systems": rows}))
            continue
        test = "paired bootstrap" if c.test == "bootstrap" else "paired approximate randomisation"
        typer.echo(f"{c.metric.upper() if c.metric != 'chrf' else 'chrF'}, {test}  "
                   f"[{c.signature}]")
        width = max(len(r.name) for r in c.systems) + len(" (baseline)")
        typer.echo(f"{'system':<{width}}  {'score':>7}  {'mean ± 95% CI':>16}  {'p-value':>8}")
        for i, r in enumerate(c.systems):
            name = f"{r.name} (baseline)" if i == 0 else r.name
            ci = f"{r.mean:.2f} ± {r.ci:.2f}" if r.mean is not None else ""
            p = "" if r.p_value is None else f"{r.p_value:.4f}"
            verdict = "" if r.p_value is None else \
                ("significant" if r.significant else "not significant")
            typer.echo(f"{name:<{width}}  {r.score:>7.2f}  {ci:>16}  {p:>8}  {verdict}".rstrip())


def _score_with_model(model_dir, src, paths, ref, batch_size, device, json_out) -> None:
    """Each pair's scores (TSV with a header, or JSON lines); the corpus on stderr."""
    import json

    from nmtkit import api
    from nmtkit.cli.common import info, warn
    from nmtkit.errors import ConfigError
    from nmtkit.fileio import read_lines

    if model_dir is None or src is None:
        raise ConfigError(f"{'--src' if src is None else '--model-dir'}: needed to score "
                          "pairs with a model (--model-dir M --src S --hyp H)")
    if ref is not None or len(paths) > 1:
        raise ConfigError("--model-dir: scores one --hyp (or stdin) against --src; --ref and "
                          "several --hyp are for the metrics")
    sources = read_lines(src)
    [(name, targets)] = _systems(paths)
    scores, corpus = api.score_pairs(
        model_dir, sources, targets, batch_size, device, str(src), name,
        on_skip=lambda i, why: warn(f"{src}:{i + 1}: not scored ({why})"))
    if not json_out:
        typer.echo("line\tlogprob\tpieces\tavg_logprob\tperplexity")
    for i, s in enumerate(scores):
        if json_out:
            typer.echo(json.dumps({"line": i + 1, "logprob": s.logprob, "pieces": s.pieces,
                                   "avg_logprob": s.avg_logprob, "perplexity": s.perplexity}))
        elif s.logprob is None:
            typer.echo(f"{i + 1}\t\t{s.pieces}\t\t")
        else:
            typer.echo(f"{i + 1}\t{s.logprob:.4f}\t{s.pieces}\t{s.avg_logprob:.4f}\t"
                       f"{s.perplexity:.4f}")
    info(f"corpus: {corpus.pairs:,} pairs scored, {corpus.pieces:,} pieces, log-probability "
         f"{corpus.logprob:.2f}, perplexity {corpus.perplexity:.4f}")
