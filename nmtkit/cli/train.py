"""nmtkit train: train a model from a YAML config plus KEY=VALUE overrides."""

from __future__ import annotations

from pathlib import Path

import typer

from nmtkit.cli.paths import Reads, Writes, command

PATHS = {"config": Reads("file", "--config"), "data": Reads("data", "--data"),
         "init_from": Reads("model", "--init-from"),
         "model_dir": Writes("model", "--model-dir", resume=True)}


def register(app: typer.Typer) -> None:
    command(app, "train", func=train, paths=PATHS,
            help="Train a model on a data folder; writes a model folder.")


def train(
    overrides: list[str] | None = typer.Argument(
        None, help="Config overrides as dotted KEY=VALUE, e.g. train.max_steps=2000."),
    config: Path | None = typer.Option(None, "--config", "-c", help="YAML config file."),
    preset: str | None = typer.Option(
        None, "--preset", "-p",
        help="Start from a named architecture: bahdanau2015, luong2015, transformer-small, "
             "transformer-base (--config and overrides are merged over it)."),
    data: Path = typer.Option(..., "--data", "-d", help="Data folder (preprocess + build-vocab)."),
    model_dir: Path = typer.Option(..., "--model-dir", "-m", help="Model folder to write."),
    device: str = typer.Option("cpu", help="cpu, cuda or cuda:N."),
    init_from: Path | None = typer.Option(
        None, "--init-from", metavar="MODEL_DIR",
        help="Fine-tune: start from this model folder's weights and model config, with a "
             "new optimizer and schedule (the data folder must use its tokenizer and "
             "vocabularies: preprocess/build-vocab --from-model)."),
    overwrite: bool = typer.Option(
        False, help="Train a new model in place of the one in --model-dir instead of resuming "
                    "its training (the old one is kept until the new one reaches its first "
                    "checkpoint)."),
    progress: bool | None = typer.Option(
        None, "--progress/--no-progress",
        help="Progress display (default: on when stderr is a terminal, else log lines)."),
):
    import sys

    from nmtkit.api import fine_tune_config, load_config
    from nmtkit.api import train as run
    from nmtkit.cli.common import info, setup_logging
    from nmtkit.cli.train_display import LogLines, ProgressDisplay
    from nmtkit.training.distributed import env_rank

    main = env_rank() == 0  # under torchrun only rank 0 reports
    setup_logging(quiet=not main)
    if init_from is not None:
        cfg = fine_tune_config(init_from, config, overrides or [], preset)
    else:
        cfg = load_config(config, overrides or [], preset)
    use_bar = main and (sys.stderr.isatty() if progress is None else progress)
    display = ProgressDisplay() if use_bar else LogLines()
    with display:
        result = run(cfg, data, model_dir, display, device, overwrite, init_from)
    if not main:
        sys.exit(result.interrupted or 0)
    best = result.best
    summary = (f"trained {result.steps} steps ({result.epochs:.2f} epochs) in "
               f"{result.seconds:.0f}s, {result.tokens_per_sec:,.0f} target tokens/s, "
               f"{result.parameters:,} parameters")
    if best is not None:
        summary += f"; best valid step {best.step}: ppl {best.ppl:.2f}"
        if best.bleu is not None:
            summary += f", BLEU {best.bleu:.2f}"
    if result.stopped_early:
        summary += f"; {result.stopped_early}"
    typer.echo(summary)
    typer.echo(f"model folder: {result.model_dir}")
    if result.int8_check is not None:
        check = result.int8_check
        typer.echo(f"int8 check: {check.summary()}; translate --precision auto uses "
                   f"{'int8' if check.passed else 'fp32'}")
    if result.interrupted:
        info(f"interrupted at step {result.steps}: checkpoint saved; run the same command "
             "to resume")
        sys.exit(result.interrupted)
