"""nmtkit import: a pretrained model of another toolkit as an nmtkit model folder (OPUS-MT /
Marian models in Hugging Face's format)."""

from __future__ import annotations

from pathlib import Path

import typer

from nmtkit.cli.paths import Reads, Writes, command

PATHS = {"model": Reads("file", "MODEL"), "out": Writes("model", "OUT")}


def register(app: typer.Typer) -> None:
    command(app, "import", func=import_model, paths=PATHS,
            help="Write an OPUS-MT / Marian model in Hugging Face format (a downloaded folder) "
            "as an nmtkit model folder that translate, train --init-from, score, export and "
            "serve read.")


def import_model(
    model: Path = typer.Argument(
        ..., help="Folder holding config.json, vocab.json, source.spm, "
        "target.spm and model.safetensors or pytorch_model.bin (as downloaded from the "
        "Hugging Face hub, for example Helsinki-NLP/opus-mt-en-de)."),
    out: Path = typer.Argument(..., help="New model folder to write."),
    src_lang: str | None = typer.Option(
        None, "--src-lang", help="Language code of the source (en, de, pt-BR), recorded in the "
        "model folder (nmtkit serve names and finds models by it)."),
    tgt_lang: str | None = typer.Option(
        None, "--tgt-lang", help="Language code of the target (a model with >>xxx<< tags "
        "has its own list)."),
    overwrite: bool = typer.Option(False, help="Replace an existing model folder at OUT."),
):
    from nmtkit.model_folder.marian import import_marian

    report = import_marian(model, out, overwrite, src_lang, tgt_lang)
    langs = f"; target languages: {', '.join(report.languages)} (--target-lang)" \
        if report.languages else ""
    typer.echo(f"imported {model} ({report.layers[0]}+{report.layers[1]} layers, "
               f"vocabularies {report.vocab_sizes[0]:,} and {report.vocab_sizes[1]:,}) to "
               f"{out}{langs}")
