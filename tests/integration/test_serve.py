"""nmtkit serve over loopback: the real command in a subprocess, real HTTP clients
(httpx, and libretranslatepy, a LibreTranslate client nobody here wrote)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx", reason="the serve extra's tests need httpx")
pytest.importorskip("fastapi", reason="nmtkit serve needs the serve extra")

from tests.conftest import run_cli  # noqa: E402

DEADLINE = 120  # seconds for a server to come up (the models load first)
LINES = ["a b c", "d e", "", "f g h i j k", "c b a a", "b", "k j i h", "e e d"]


class Running:
    def __init__(self, proc: subprocess.Popen, url: str, err: list[str]):
        self.proc, self.url, self.err = proc, url, err

    def post(self, path: str, **kw) -> httpx.Response:
        return httpx.post(self.url + path, timeout=60, **kw)

    def get(self, path: str, **kw) -> httpx.Response:
        return httpx.get(self.url + path, timeout=60, **kw)


def start(*args: str) -> Running:
    """``nmtkit serve ARGS --port 0`` on loopback, once /health answers (polled, with a
    deadline)."""
    proc = subprocess.Popen([sys.executable, "-m", "nmtkit", "serve", "--port", "0", *args],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"))
    err: list[str] = []
    found: list[str] = []

    def read():
        for line in proc.stderr:
            err.append(line)
            if "serving on " in line:
                found.append(line.split("serving on ")[1].split()[0])

    threading.Thread(target=read, daemon=True).start()
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"nmtkit serve exited {proc.returncode}: {''.join(err)}")
        if found:
            try:
                if httpx.get(found[0] + "/health", timeout=5).status_code == 200:
                    return Running(proc, found[0], err)
            except httpx.TransportError:
                pass
        time.sleep(0.05)  # polling the health endpoint, not waiting for it
    proc.kill()
    raise AssertionError(f"nmtkit serve not ready in {DEADLINE} s: {''.join(err)}")


def stop(server: Running) -> int:
    server.proc.send_signal(signal.SIGTERM)
    return server.proc.wait(timeout=60)


@pytest.fixture(scope="module")
def server(tiny_model, tiny_transformer):
    running = start("-m", str(tiny_model), "-m", f"tf={tiny_transformer}",
                    "--max-wait-ms", "20", "--max-lines", "16", "--max-chars", "200",
                    "--max-body", "20000")
    yield running
    assert stop(running) == 0


def cli_lines(model: Path, lines: list[str], *args: str) -> list[str]:
    out = run_cli("translate", "-m", str(model), *args, input="\n".join(lines) + "\n").stdout
    return out.splitlines()


def test_health_languages_and_openapi(server):
    assert server.get("/health").json() == {"status": "ready", "models": ["en-de", "tf"]}
    assert server.get("/languages").json() == [{"code": "en", "name": "en",
                                                "targets": ["de"]}]
    paths = server.get("/openapi.json").json()["paths"]
    assert {"/translate", "/languages", "/v1/translate", "/health"} <= set(paths)


def test_a_libretranslate_client_gets_what_the_cli_gives(server, tiny_model):
    from libretranslatepy import LibreTranslateAPI

    client = LibreTranslateAPI(server.url + "/")
    expected = cli_lines(tiny_model, LINES)
    assert [client.translate(line, "en", "de") for line in LINES] == expected
    assert client.languages() == [{"code": "en", "name": "en", "targets": ["de"]}]


def test_libretranslate_alternatives_and_an_ambiguous_auto(server, tiny_model):
    got = server.post("/translate", json={"q": LINES[:3], "source": "en", "target": "de",
                                          "alternatives": 2}).json()
    assert got["translatedText"] == cli_lines(tiny_model, LINES[:3])
    nbest = cli_lines(tiny_model, LINES[:3], "--beam", "5", "--n-best", "3")
    assert got["alternatives"] == [[n.split(" ||| ")[1] for n in nbest[3 * i + 1: 3 * i + 3]]
                                   for i in range(3)]
    # both models translate en into de (the Transformer was trained on the same data)
    r = server.post("/translate", json={"q": "a", "source": "auto", "target": "de"})
    assert r.status_code == 400 and r.json()["error"].startswith(
        "source: auto needs exactly one model translating into 'de', and this server has 2")


def test_many_concurrent_clients_each_get_the_cli_output_for_their_lines(
        server, tiny_model, tiny_transformer):
    """Mixed requests from 24 clients at once, batched together: every response equals
    `nmtkit translate` on its lines with its options (float32 does not depend on the
    batch)."""
    models = {"en-de": tiny_model, "tf": tiny_transformer}
    kinds = [("en-de", 5), ("en-de", 1), ("tf", 5), ("tf", 2)]
    expected = {(m, b): dict(zip(LINES, cli_lines(models[m], LINES, "--beam", str(b)),
                                 strict=True)) for m, b in kinds}

    def client(i: int):
        m, b = kinds[i % len(kinds)]
        lines = [LINES[(i + j) % len(LINES)] for j in range(1 + i % 4)]
        if m == "en-de" and b == 5 and i % 8 == 0:
            r = server.post("/translate", json={"q": lines, "source": "en", "target": "de"})
            return [expected[m, b][x] for x in lines], r.json()["translatedText"]
        r = server.post("/v1/translate", json={"q": lines, "model": m, "beam": b})
        return [expected[m, b][x] for x in lines], [t["text"] for t in r.json()["translations"]]

    with ThreadPoolExecutor(24) as pool:
        results = list(pool.map(client, range(96)))
    assert all(want == got for want, got in results)
    metrics = dict(line.rsplit(" ", 1) for line in server.get("/metrics").text.splitlines()
                   if line and not line.startswith("#"))
    # fewer batches than lines: lines of different requests were translated together
    assert float(metrics["nmtkit_batch_lines_count"]) < float(
        metrics["nmtkit_lines_translated_total"])


def test_the_native_api_gives_n_best_scores_alignments_and_attention(server, tiny_model):
    r = server.post("/v1/translate", json={"q": ["a b c", ""], "model": "en-de", "beam": 5,
                                            "n_best": 2, "alignments": True,
                                            "attention": True}).json()
    first, empty = r["translations"]
    jsonl = json.loads(cli_lines(tiny_model, ["a b c"], "--beam", "5", "--n-best", "2",
                                 "--output-format", "jsonl", "--jsonl-attention")[0])
    assert first["text"] == jsonl["translation"]
    assert [c["text"] for c in first["n_best"]] == [c["translation"] for c in jsonl["n_best"]]
    assert first["score"] == pytest.approx(jsonl["score"])
    assert first["attention"] == jsonl["attention"]
    assert [f"{s}-{t}" for s, t in first["alignment"]] == jsonl["word_alignment"].split()
    assert empty["text"] == "" and empty["attention"] is None


@pytest.mark.parametrize(("path", "body", "status", "says"), [
    ("/v1/translate", {"q": ["a"] * 17, "model": "tf"}, 413, "q: 17 lines is more than "
     "this server takes per request (16, --max-lines)"),
    ("/v1/translate", {"q": ["a " * 101], "model": "tf"}, 413, "q[0]: 202 characters"),
    ("/v1/translate", {"q": "a b", "model": "tf"}, 422, "q: "),
    ("/v1/translate", {"q": ["a"], "model": "nope"}, 404, "model: no model 'nope'"),
    ("/v1/translate", {"q": ["a"]}, 422, "model: needed, one of en-de, tf"),
    ("/v1/translate", {"q": ["a"], "model": "tf", "beam": 99}, 422, "beam: 99 is outside "
     "1..16 (--max-beam)"),
    ("/v1/translate", {"q": ["a"], "model": "tf", "beam": 2, "n_best": 3}, 422, "n_best"),
    ("/translate", {"q": ["a"], "source": "en", "target": "fr"}, 400, "no model translates "
     "'en' into 'fr'"),
    ("/translate", {"q": 3, "source": "en", "target": "de"}, 422, "q: expected a string"),
    ("/translate", {"q": "a", "source": "en", "target": "de", "format": "html"}, 422,
     "format: 'html'"),
    ("/translate", {"source": "en", "target": "de"}, 422, "q: missing"),
])
def test_bad_requests_are_one_json_error_naming_the_field_or_limit(server, path, body,
                                                                    status, says):
    r = server.post(path, json=body)
    assert r.status_code == status and says in r.json()["error"]
    assert set(r.json()) == {"error"} and "Traceback" not in r.text


def test_a_body_too_large_or_not_json_is_refused_and_the_server_goes_on(server):
    r = server.post("/v1/translate", content=b"{" + b" " * 30000 + b"}",
                    headers={"content-type": "application/json"})
    assert r.status_code == 413 and "--max-body" in r.json()["error"]
    r = server.post("/v1/translate", content=b"{not json", headers={"content-type":
                                                                    "application/json"})
    assert r.status_code == 422 and set(r.json()) == {"error"}
    r = server.post("/translate", content=b"{not json", headers={"content-type":
                                                                 "application/json"})
    assert r.status_code == 422 and r.json() == {"error": "body: not valid JSON"}
    assert server.get("/health").status_code == 200
    errors = [line for line in server.get("/metrics").text.splitlines()
              if line.startswith('nmtkit_errors_total{kind="too_large"}')]
    assert errors and float(errors[0].split()[-1]) >= 1


def test_api_keys_and_a_full_queue(tiny_model, tmp_path):
    keys = tmp_path / "keys.txt"
    keys.write_text("s3cret\n")
    running = start("-m", str(tiny_model), "--api-keys", str(keys), "--max-queue", "2")
    try:
        body = {"q": "a b", "source": "en", "target": "de"}
        assert running.post("/translate", json=body).status_code == 401
        assert running.post("/translate", json={**body, "api_key": "wrong"}).status_code == 403
        r = running.post("/translate", json={**body, "source": "auto", "api_key": "s3cret"})
        assert r.json() == {"translatedText": cli_lines(tiny_model, ["a b"])[0],
                            "detectedLanguage": {"confidence": 100.0, "language": "en"}}
        r = running.post("/v1/translate", json={"q": ["a", "b", "c"]},
                         headers={"authorization": "Bearer s3cret"})
        assert r.status_code == 503 and r.headers["retry-after"] == "1"
        assert "--max-queue" in r.json()["error"]
    finally:
        assert stop(running) == 0


def test_sigterm_answers_what_is_in_flight_and_exits_0(tiny_model):
    running = start("-m", str(tiny_model))
    [worker] = children(running.proc.pid)
    os.kill(worker, signal.SIGSTOP)  # the translation process holds the request...
    try:
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(running.post, "/v1/translate", json={"q": LINES})
            end = time.monotonic() + 30  # ...once the server has queued it
            while time.monotonic() < end and "nmtkit_queue_lines 0.0" in running.get(
                    "/metrics").text:
                pass
            assert not pending.done()
            running.proc.send_signal(signal.SIGTERM)  # while it is in flight
            os.kill(worker, signal.SIGCONT)
            response = pending.result(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker, signal.SIGCONT)
    assert response.status_code == 200
    assert [t["text"] for t in response.json()["translations"]] == cli_lines(tiny_model, LINES)
    assert running.proc.wait(timeout=60) == 0


def test_a_port_in_use_is_one_line(tiny_model):
    running = start("-m", str(tiny_model))
    try:
        port = running.url.rsplit(":", 1)[1]
        proc = run_cli("serve", "-m", str(tiny_model), "--port", port, check=False)
        assert proc.returncode == 2
        assert proc.stderr.strip().splitlines()[-1] == (
            f"nmtkit: error: --host 127.0.0.1 --port {port}: cannot listen there (in use, "
            "or not an address of this machine)")
    finally:
        assert stop(running) == 0


def children(pid: int) -> list[int]:
    """The translation processes of the server ``pid``: its children started by
    multiprocessing's spawn (not its resource tracker)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == pid and b"spawn_main" in cmdline:
            found.append(int(stat.parent.name))
    return found


def test_a_dead_translation_process_is_an_error_answer_and_is_started_again(tiny_model):
    running = start("-m", str(tiny_model))
    try:
        assert running.post("/v1/translate", json={"q": ["a b"]}).status_code == 200
        [worker] = children(running.proc.pid)  # the model translates in its own process
        os.kill(worker, signal.SIGKILL)
        end = time.monotonic() + 30
        answers = []
        while time.monotonic() < end:  # until the dead process shows: an error, not a hang
            r = running.post("/v1/translate", json={"q": ["a b"]})
            answers.append(r.status_code)
            if r.status_code != 200:
                break
        assert answers[-1] == 503 and "translation process died" in r.json()["error"]
        r = running.post("/v1/translate", json={"q": LINES})
        assert [t["text"] for t in r.json()["translations"]] == cli_lines(tiny_model, LINES)
        assert children(running.proc.pid) not in ([], [worker])  # a new one
    finally:
        assert stop(running) == 0


def test_a_model_of_several_target_languages_is_served_into_each(tmp_path):
    """An imported multi-target Marian model: /languages and /v1/models list its target
    languages, LibreTranslate's target and the native API's choose one (the CLI's
    --target-lang lines), its attention is shown, and a language it does not have is
    refused naming those it has."""
    from nmtkit.model_folder.marian import import_marian
    from tests.marian_models import SOURCES, MarianSpec, make_marian

    hf_dir = make_marian(tmp_path / "hf", MarianSpec(tags=(">>deu<<", ">>fra<<"), seed=6))
    model = import_marian(hf_dir, tmp_path / "multi", src_lang="en").out
    running = start("-m", str(model), "--max-wait-ms", "5", "--beam", "2")
    try:
        assert running.get("/languages").json() == [{"code": "en", "name": "en",
                                                     "targets": ["deu", "fra"]}]
        assert running.get("/v1/models").json() == [{"name": "en-deu+fra", "source": "en",
                                                     "target": None,
                                                     "targets": ["deu", "fra"]}]
        lines = SOURCES[:3]
        for lang in ("deu", "fra"):
            expected = cli_lines(model, lines, "--target-lang", lang, "--beam", "2")
            got = running.post("/translate", json={"q": lines, "source": "en",
                                                   "target": lang}).json()
            assert got["translatedText"] == expected
            native = running.post("/v1/translate", json={"q": lines, "target": lang,
                                                         "beam": 2}).json()
            assert [t["text"] for t in native["translations"]] == expected
        shown = running.post("/v1/translate", json={"q": lines[:1], "target": "fra",
                                                    "alignments": True, "attention": True})
        one = shown.json()["translations"][0]
        assert len(one["attention"]) == len(one["target_pieces"]) + 1
        assert {len(r) for r in one["attention"]} == {len(one["source_pieces"])}
        assert one["source_pieces"][0] == ">>fra<<"
        refused = running.post("/v1/translate", json={"q": lines, "target": "ita"})
        assert refused.status_code == 422
        assert "translates into deu, fra" in refused.json()["error"]
        refused = running.post("/translate", json={"q": "x", "source": "en", "target": "ita"})
        assert refused.status_code == 400 and "en->deu, en->fra" in refused.json()["error"]
    finally:
        assert stop(running) == 0


def test_one_name_for_several_folders_serves_their_ensemble(tiny_model, tiny_transformer):
    """``-m NAME=A -m NAME=B``: the ensemble, giving translate's ensemble lines; attention
    is refused for it."""
    other = tiny_transformer
    running = start("-m", f"both={tiny_model}", "-m", f"both={other}", "--max-wait-ms", "5")
    try:
        assert running.get("/health").json()["models"] == ["both"]
        expected = cli_lines(tiny_model, LINES, "-m", str(other))
        got = running.post("/v1/translate", json={"q": LINES}).json()
        assert [t["text"] for t in got["translations"]] == expected
        assert expected != cli_lines(tiny_model, LINES)
        refused = running.post("/v1/translate", json={"q": LINES, "alignments": True})
        assert refused.status_code == 422
        assert "an ensemble of 2 models" in refused.json()["error"]
    finally:
        assert stop(running) == 0
    assert any("model both: an ensemble of 2 models" in line for line in running.err)
