"""Every number a user can give has a range, generated from the definitions themselves so
that a new option or config field cannot come without one:

- every numeric option of every command carries its rule (``nmtkit.checks.option_check``),
  with a lower and an upper bound; a value past either bound, or not finite, is one line
  naming the option and exit 2; a value on a (closed) bound is accepted;
- every numeric field of the config and of every built-in component's options has both
  bounds, and a value past one is a ConfigError naming the dotted key;
- relations between options are checked (a minimum above its maximum, more workers than
  CPUs, a vocabulary of only the special tokens, resampling that would not fit in memory).
"""

from __future__ import annotations

import dataclasses
import os
import typing

import pytest
import typer

from nmtkit.cli import app
from nmtkit.config import Config, load_config
from nmtkit.errors import ConfigError
from nmtkit.models.registry import REGISTRIES
from tests.conftest import run_main

COMMANDS = typer.main.get_command(app).commands


def numeric(tp) -> bool:
    while typing.get_args(tp):
        tp = next(a for a in typing.get_args(tp) if a is not type(None))
    return tp in (int, float)


def numeric_options() -> list[tuple[str, object]]:
    return [(name, p) for name, cmd in COMMANDS.items() for p in cmd.params
            if p.param_type_name == "option" and numeric(p.type_descriptor.annotation)]


def rule_of(p):
    check = p.type_descriptor.parameter_info.callback
    return getattr(check, "rule", None), getattr(check, "flag", None)


def test_every_numeric_option_has_a_lower_and_an_upper_bound():
    options = numeric_options()
    assert len(options) >= 30
    for name, p in options:
        rule, flag = rule_of(p)
        assert rule is not None, f"nmtkit {name} {p.opts[0]}: no range (use cli.common.number " \
                                 "or a ranged dataclass field)"
        assert flag == p.opts[0], f"nmtkit {name} {p.opts[0]} checks as {flag}"
        assert rule.lo is not None and rule.hi is not None, f"nmtkit {name} {p.opts[0]}: {rule}"


def run(command: str, *args: str, monkeypatch, capsys) -> tuple[int, str]:
    status, _, err = run_main(command, *args, monkeypatch=monkeypatch, capsys=capsys)
    return status, err


def outside(rule, integer: bool) -> list[float]:
    step = 1 if integer else 0.5
    return [rule.lo if rule.lo_open else rule.lo - step,
            rule.hi if rule.hi_open else rule.hi + step]


def show(value: float, integer: bool) -> str:
    return str(int(value)) if integer else repr(float(value))


@pytest.mark.parametrize(("command", "option"), [(n, p.opts[0]) for n, p in numeric_options()])
def test_values_past_a_bound_are_one_line_errors_naming_the_option(command, option,
                                                                   monkeypatch, capsys):
    [p] = [p for p in COMMANDS[command].params if p.opts and p.opts[0] == option]
    rule, _ = rule_of(p)
    integer = "int" in str(p.type_descriptor.annotation)
    values = [show(v, integer) for v in outside(rule, integer)]
    values += [] if integer else ["nan", "inf"]
    for value in values:
        status, err = run(command, option, value, monkeypatch=monkeypatch, capsys=capsys)
        lines = err.strip().splitlines()
        assert status == 2 and len(lines) == 1, f"{option} {value}: exit {status}\n{err}"
        assert lines[0].startswith(f"nmtkit: error: {option}: must be "), lines[0]


@pytest.mark.parametrize(("command", "option"), [(n, p.opts[0]) for n, p in numeric_options()])
def test_values_on_a_closed_bound_pass_the_option_check(command, option, monkeypatch, capsys):
    """The command then stops on something else (no model folder given...), never on the
    range of this option."""
    [p] = [p for p in COMMANDS[command].params if p.opts and p.opts[0] == option]
    rule, _ = rule_of(p)
    integer = "int" in str(p.type_descriptor.annotation)
    bounds = [b for b, open_ in ((rule.lo, rule.lo_open), (rule.hi, rule.hi_open)) if not open_]
    assert bounds
    for value in bounds:
        _, err = run(command, option, show(value, integer), monkeypatch=monkeypatch,
                     capsys=capsys)
        assert f"{option}: must be" not in err, err


def config_classes() -> list[tuple[str, type]]:
    import nmtkit.models  # noqa: F401  (registers the built-ins)

    sections = [(f"config.{f.name}", f.type) for f in dataclasses.fields(Config)]
    hints = typing.get_type_hints(Config)
    sections = [(name, hints[name.split(".")[1]]) for name, _ in sections]
    components = [(f"model.{key}:{entry.name}", entry.obj.Config)
                  for key, registry in REGISTRIES.items() for entry in registry.entries()
                  if entry.distribution is None and dataclasses.is_dataclass(
                      getattr(entry.obj, "Config", None))]
    return sections + components


def test_every_numeric_config_field_has_a_lower_and_an_upper_bound():
    checked = 0
    for where, cls in config_classes():
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            tp = hints[f.name]
            elements = typing.get_args(tp) if typing.get_origin(tp) is tuple else (tp,)
            if not all(numeric(t) for t in elements) or tp is bool:
                continue
            rule = f.metadata.get("range")
            assert rule is not None and rule.lo is not None and rule.hi is not None, \
                f"{where}.{f.name}: needs a range with both bounds (checks.ranged)"
            checked += 1
    assert checked >= 40


def config_fields() -> list[tuple[str, dataclasses.Field]]:
    """(dotted override key, field) of every numeric field of the train and model
    sections."""
    out = []
    for section in ("train", "model"):
        cls = typing.get_type_hints(Config)[section]
        for f in dataclasses.fields(cls):
            if f.metadata.get("range") is not None and typing.get_type_hints(cls)[f.name] \
                    in (int, float):
                out.append((f"{section}.{f.name}", f))
    return out


@pytest.mark.parametrize(("key", "field"), config_fields(), ids=[k for k, _ in config_fields()])
def test_config_values_past_a_bound_name_the_key(key, field):
    rule = field.metadata["range"]
    integer = isinstance(field.default, int)
    for value in outside(rule, integer):
        with pytest.raises(ConfigError, match=rf"config\.{key}: must be"):
            load_config(None, [f"{key}={show(value, integer)}"])
    for value in [b for b, o in ((rule.lo, rule.lo_open), (rule.hi, rule.hi_open)) if not o]:
        load_config(None, [f"{key}={show(value, integer)}"])  # accepted


def test_component_option_past_a_bound_names_the_key():
    from nmtkit.training.trainer import check_components

    config = load_config(None, ["model.decoder.hidden_size=100000000"])
    with pytest.raises(ConfigError, match=r"decoder.*hidden_size.*must be"):
        check_components(config)


# -- relations between options ------------------------------------------------------------

def one_line(status: int, err: str) -> str:
    lines = err.strip().splitlines()
    assert status == 2 and len(lines) == 1 and lines[0].startswith("nmtkit: error: "), err
    return lines[0]


def test_a_minimum_above_its_maximum_is_refused(tiny_model, tmp_path, monkeypatch, capsys):
    msg = one_line(*run("translate", "-m", str(tiny_model), "--min-len", "9", "--max-len", "3",
                        monkeypatch=monkeypatch, capsys=capsys))
    assert "--min-len (9) cannot exceed --max-len (3)" in msg
    src = tmp_path / "a.txt"
    src.write_text("a b\n")
    msg = one_line(*run("preprocess", "--src", str(src), "--tgt", str(src), "--out",
                        str(tmp_path / "d"), "--min-len", "9", "--max-len", "3",
                        monkeypatch=monkeypatch, capsys=capsys))
    assert "--min-len 9 is more than --max-len 3" in msg


def test_far_more_workers_than_cpus_is_refused(tiny_model, monkeypatch, capsys):
    from nmtkit.translate.translator import WORKERS_PER_CPU

    most = WORKERS_PER_CPU * os.cpu_count()
    if most >= 256:
        pytest.skip("--workers' own upper bound is below this machine's limit")
    msg = one_line(*run("translate", "-m", str(tiny_model), "--workers", str(most + 1),
                        monkeypatch=monkeypatch, capsys=capsys))
    assert msg == (f"nmtkit: error: --workers {most + 1}: far more processes than this "
                   f"machine's {os.cpu_count()} CPUs, which they would only compete for (each "
                   f"holds its own buffers); give at most {most}, or 0 for auto")


def test_a_vocabulary_of_only_the_special_tokens_is_refused(tiny_model, tmp_path, monkeypatch,
                                                            capsys):
    import shutil

    data = shutil.copytree(tiny_model.parent / "data", tmp_path / "data")
    before = (data / "vocab.tgt.tsv").read_bytes()
    msg = one_line(*run("build-vocab", str(data), "--min-freq", str(10**9),
                        monkeypatch=monkeypatch, capsys=capsys))
    assert f"--min-freq {10**9}: no src piece of {data} occurs that often" in msg
    msg = one_line(*run("build-vocab", str(data), "--max-size", "4",
                        monkeypatch=monkeypatch, capsys=capsys))
    assert "--max-size 4: the 4 special tokens alone take that" in msg
    assert (data / "vocab.tgt.tsv").read_bytes() == before


def test_resampling_past_the_memory_limit_is_refused(tmp_path, monkeypatch, capsys):
    from nmtkit.scoring.significance import RESAMPLED_LINES_MAX

    lines = RESAMPLED_LINES_MAX // 50_000 + 1
    ref = tmp_path / "ref"
    ref.write_text("a b\n" * lines)
    msg = one_line(*run("score", "--ref", str(ref), "--hyp", str(ref), "--hyp", str(ref),
                        "--paired-bootstrap", "--samples", "50000",
                        monkeypatch=monkeypatch, capsys=capsys))
    most = RESAMPLED_LINES_MAX // lines
    assert f"--samples: 50,000 bootstrap resamples of {lines:,} lines are over" in msg
    assert f"pass --samples {most:,} or fewer" in msg


@pytest.mark.parametrize("option", ["--temperature 0.5", "--top-k 5", "--top-p 0.9", "--seed 3"])
def test_a_sampling_option_without_sample_is_refused(tiny_model, option, monkeypatch, capsys):
    """It would be ignored: the output would not be what the user asked for."""
    msg = one_line(*run("translate", "-m", str(tiny_model), *option.split(),
                        monkeypatch=monkeypatch, capsys=capsys))
    assert msg == f"nmtkit: error: {option.split()[0]}: for --sample (beam and greedy search " \
                  "do not sample)"
