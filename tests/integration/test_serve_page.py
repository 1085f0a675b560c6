"""nmtkit serve's web page in a real browser: Debian's chromium, driven headless by
playwright, against the real server over loopback. Skips, saying why, only where no
browser is installed (.ci/run installs one)."""

from __future__ import annotations

import json
import shutil

import pytest

pytest.importorskip("fastapi", reason="nmtkit serve needs the serve extra")
sync_api = pytest.importorskip("playwright.sync_api",
                               reason="the browser test needs playwright (the test extra)")

from tests.conftest import run_cli  # noqa: E402
from tests.integration.test_serve import start, stop  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("no chromium on PATH: install Debian's chromium package (.ci/run does)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox"])
        yield browser
        browser.close()


def test_the_page_translates_and_shows_a_lines_attention(browser, tiny_model):
    server = start("-m", str(tiny_model))
    try:
        page = browser.new_page()
        page.goto(server.url + "/")
        sync_api.expect(page.locator("#model option")).to_have_text(["en-de (en → de)"])
        lines = ["a b c", "d e f g"]
        page.fill("#input", "\n".join(lines))
        page.click("#translate")
        items = page.locator("#output li")
        expected = run_cli("translate", "-m", str(tiny_model), "--beam", "5",
                           input="\n".join(lines) + "\n").stdout.splitlines()
        sync_api.expect(items).to_have_text(expected)
        items.nth(1).click()
        rows = page.locator("#heatmap table tbody tr")
        record = json.loads(run_cli("translate", "-m", str(tiny_model), "--beam", "5",
                                    "--output-format", "jsonl", "--jsonl-attention",
                                    input=lines[1] + "\n").stdout)
        sync_api.expect(rows).to_have_count(len(record["attention"]))
        heads = page.locator("#heatmap table thead th")
        assert heads.all_text_contents()[1:] == record["source_pieces"]
        weights = [[float(w) for w in rows.nth(r).locator("td").evaluate_all(
            "cells => cells.map(c => c.dataset.weight)")] for r in range(rows.count())]
        assert weights == record["attention"]
        assert page.locator("#error").text_content() == ""
        page.fill("#beam", "999")  # over the server's --max-beam: its error, shown
        page.click("#translate")
        sync_api.expect(page.locator("#error")).to_have_text(
            "beam: 999 is outside 1..16 (--max-beam)")
    finally:
        assert stop(server) == 0
