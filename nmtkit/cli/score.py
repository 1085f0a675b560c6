"""nmtkit score: BLEU, chrF and TER of hypotheses against references."""

from __future__ import annotations

import sys
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("score", help="Score hypotheses (stdin or --hyp) against --ref: BLEU, chrF, TER.")(
        score)


def score(
    ref: Path = typer.Option(..., "--ref", "-r", help="Reference text, one line per hypothesis."),
    hyp: Path | None = typer.Option(None, "--hyp", help="Hypotheses (default: stdin)."),
    metrics: str = typer.Option("bleu,chrf,ter", help="Comma-separated: bleu, chrf, ter."),
    json_out: bool = typer.Option(False, "--json", help="One JSON object for machines."),
):
    import json

    from nmtkit.api import score as run
    from nmtkit.errors import NmtkitError
    from nmtkit.fileio import decode_lines, read_lines
    from nmtkit.metrics import METRICS

    names = [m.strip().lower() for m in metrics.split(",") if m.strip()]
    bad = [m for m in names if m not in METRICS]
    if bad or not names:
        raise NmtkitError(f"--metrics: unknown {', '.join(bad) or '(none)'}; "
                          f"valid: {', '.join(METRICS)}")
    refs = read_lines(ref)
    if hyp is None:
        hyps = list(decode_lines(sys.stdin.buffer, "<stdin>"))
    else:
        hyps = read_lines(hyp)
    if not refs and not hyps:
        raise NmtkitError(f"{ref} and {hyp or '<stdin>'} are both empty; nothing to score")
    scores = run(hyps, refs, names, hyp_name=str(hyp or "<stdin>"), ref_name=str(ref))
    if json_out:
        typer.echo(json.dumps({s.metric: {"score": s.score, "signature": s.signature}
                               for s in scores}))
    else:
        for s in scores:
            typer.echo(f"{s.text}  [{s.signature}]")
