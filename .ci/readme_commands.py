#!/usr/bin/env python3
"""Print a command block of README.md, found by its CI marker, so CI runs what the README says.

    python3 .ci/readme_commands.py NAME           the ```bash block right after the line
                                                  <!-- ci: NAME ... --> (e.g. quickstart, tests)
    python3 .ci/readme_commands.py --bleu         the BLEU the README states for the quickstart,
                                                  from "The quickstart ends with `BLEU = X`"
    --readme PATH                                 another README (default: the one beside .ci/)

Standard library only. Exit status 1, with one line on stderr, when the marker, the block or
the figure is missing or ambiguous.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

DEFAULT_README = Path(__file__).resolve().parents[1] / "README.md"
FENCE_OPEN = re.compile(r"^(`{3,})\s*(bash|sh|shell|console)?\s*$")
# The sentence may be reflowed: any whitespace (line breaks included) between the words.
STATED_BLEU = re.compile(r"quickstart\s+ends\s+with\s+`BLEU\s*=\s*([0-9]+(?:\.[0-9]+)?)`")


class ReadmeError(Exception):
    pass


def command_block(text: str, name: str) -> str:
    """The body of the fenced block that follows the `<!-- ci: NAME -->` marker line."""
    marker = re.compile(r"^\s*<!--\s*ci:\s*" + re.escape(name) + r"(?:\s.*)?-->\s*$")
    lines = text.splitlines()
    hits = [i for i, line in enumerate(lines) if marker.match(line)]
    if not hits:
        raise ReadmeError(f"no marker line '<!-- ci: {name} -->'")
    if len(hits) > 1:
        raise ReadmeError(f"marker '<!-- ci: {name} -->' appears {len(hits)} times "
                          f"(lines {', '.join(str(i + 1) for i in hits)})")
    at = hits[0] + 1
    while at < len(lines) and not lines[at].strip():
        at += 1
    opened = FENCE_OPEN.match(lines[at]) if at < len(lines) else None
    if not opened:
        raise ReadmeError(f"marker '<!-- ci: {name} -->' (line {hits[0] + 1}) is not followed "
                          f"by a ```bash code block")
    fence = opened.group(1)
    body = []
    for line in lines[at + 1:]:
        if line.strip() == fence:
            break
        body.append(line)
    else:
        raise ReadmeError(f"the code block after '<!-- ci: {name} -->' (line {at + 1}) "
                          f"is not closed")
    command = "\n".join(body).strip()
    if not command:
        raise ReadmeError(f"the code block after '<!-- ci: {name} -->' (line {at + 1}) is empty")
    return command


def stated_bleu(text: str) -> str:
    """The figure in "The quickstart ends with `BLEU = X`", as written."""
    found = STATED_BLEU.findall(text)
    if not found:
        raise ReadmeError("no sentence 'The quickstart ends with `BLEU = X`'")
    if len(set(found)) > 1:
        raise ReadmeError(f"the quickstart's BLEU is stated differently: {', '.join(found)}")
    return found[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name", nargs="?", help="the marker's name: <!-- ci: NAME -->")
    parser.add_argument("--bleu", action="store_true",
                        help="print the quickstart's BLEU that the README states")
    parser.add_argument("--readme", type=Path, default=DEFAULT_README)
    args = parser.parse_args(argv)
    if bool(args.name) == args.bleu:
        parser.error("give either NAME or --bleu")
    try:
        text = args.readme.read_text(encoding="utf-8")
    except OSError as exc:
        print(f"readme_commands: cannot read {args.readme}: {exc.strerror}", file=sys.stderr)
        return 1
    try:
        print(stated_bleu(text) if args.bleu else command_block(text, args.name))
    except ReadmeError as exc:
        print(f"readme_commands: {args.readme}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
