"""nmtkit serve under load, on loopback: sentences/s and latency with batching across
requests, against the same server with batching off (``--max-batch 1``, which for
one-sentence requests is LibreTranslate's one-text-at-a-time), for several numbers of
concurrent clients, in one run. Optionally a soak: resident memory of the server and its
translation processes over a long run, sampled every second, and failed requests.

Each client sends one-sentence requests (the lines of ``--input``, in turn) to
``POST /v1/translate`` and waits for each answer before sending the next; every loop is
bounded in time (``--seconds``) and in requests. The server is started and stopped here
(``nmtkit serve --port 0``, loopback only); the clients share one asyncio process on the
same machine, so they take some of its CPU too.

    python bench/serve_load.py --model-dir runs/m30k/rnn \\
        --input ../shared/data/multi30k/test2016.en --clients 1,8,32,128 --seconds 30
    python bench/serve_load.py --model-dir runs/m30k/rnn \\
        --input ../shared/data/multi30k/test2016.en --soak 600 --clients 32
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

MAX_REQUESTS = 1_000_000  # per client: a bound besides the time


def start(model_dir: Path, *args: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "nmtkit", "serve", "-m", str(model_dir),
                             "--host", "127.0.0.1", "--port", "0", *args],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"))
    found: list[str] = []

    def read():
        for line in proc.stderr:
            if "serving on " in line:
                found.append(line.split("serving on ")[1].split()[0])

    threading.Thread(target=read, daemon=True).start()
    end = time.monotonic() + 300
    while time.monotonic() < end and proc.poll() is None:
        if found:
            try:
                if httpx.get(found[0] + "/health", timeout=5).status_code == 200:
                    return proc, found[0]
            except httpx.TransportError:
                pass
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("serve_load: the server did not come up")


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=120)


async def load(url: str, lines: list[str], clients: int, seconds: float, beam: int,
               on_tick=None) -> dict:
    """``clients`` loops of one-sentence requests for ``seconds``; latencies and failures."""
    latencies: list[float] = []
    failed = 0
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        async def one(i: int):
            nonlocal failed
            n = i
            for _ in range(MAX_REQUESTS):
                if time.monotonic() >= deadline:
                    return
                t0 = time.perf_counter()
                try:
                    r = await client.post("/v1/translate", json={
                        "q": [lines[n % len(lines)]], "beam": beam})
                    ok = r.status_code == 200 and len(r.json()["translations"]) == 1
                except httpx.HTTPError:
                    ok = False
                if ok:
                    latencies.append(time.perf_counter() - t0)
                else:
                    failed += 1
                n += clients

        async def ticker():
            while time.monotonic() < deadline:
                await asyncio.sleep(1)
                on_tick()

        start = time.monotonic()
        tasks = [one(i) for i in range(clients)] + ([ticker()] if on_tick else [])
        await asyncio.gather(*tasks)
        wall = time.monotonic() - start
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {"sent": len(latencies) / wall, "p50": q[49], "p95": q[94], "p99": q[98],
            "ok": len(latencies), "failed": failed}


def mean_batch(url: str) -> float:
    """Lines per batch so far, from the server's metrics."""
    m = dict(line.rsplit(" ", 1) for line in httpx.get(url + "/metrics").text.splitlines()
             if line and not line.startswith("#"))
    return float(m["nmtkit_batch_lines_sum"]) / max(float(m["nmtkit_batch_lines_count"]), 1)


def rss_mib(pid: int) -> float:
    """Resident memory of the server and its translation processes (its children)."""
    pids = [pid] + [int(stat.parent.name) for stat in Path("/proc").glob("[0-9]*/stat")
                    if _parent(stat) == pid]
    total = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def _parent(stat: Path) -> int:
    try:
        return int(stat.read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-dir", type=Path, required=True)
    ap.add_argument("--input", type=Path, required=True)
    ap.add_argument("--clients", default="1,8,32,128")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--beam", type=int, default=5)
    ap.add_argument("--max-wait-ms", default="5")
    ap.add_argument("--soak", type=float, default=0, help="seconds of a soak instead")
    args = ap.parse_args()
    lines = [x for x in args.input.read_text(encoding="utf-8").splitlines() if x.strip()]
    clients = [int(c) for c in args.clients.split(",")]
    if args.soak:
        proc, url = start(args.model_dir, "--max-wait-ms", args.max_wait_ms)
        samples: list[float] = []
        try:
            result = asyncio.run(load(url, lines, clients[0], args.soak, args.beam,
                                      on_tick=lambda: samples.append(rss_mib(proc.pid))))
        finally:
            stop(proc)
        minute = [samples[i: i + 60] for i in range(0, len(samples), 60)]
        second, last = statistics.mean(minute[1]), statistics.mean(minute[-1])
        print(f"| {args.soak / 60:.0f} min | {clients[0]} | {result['ok']:,} | "
              f"{result['failed']} | {result['sent']:.1f} | {second:.0f} | {last:.0f} | "
              f"{last / second:.3f} | {max(samples):.0f} |")
        return
    print("| clients | batching | sentences/s | p50 ms | p95 ms | p99 ms | failed | "
          "lines a batch | vs off |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for n in clients:
        rows = {}
        for mode, extra in (("off (--max-batch 1)", ["--max-batch", "1"]),
                            ("on", ["--max-wait-ms", args.max_wait_ms])):
            proc, url = start(args.model_dir, *extra)
            try:
                asyncio.run(load(url, lines, min(n, 4), 3, args.beam))  # warm-up
                rows[mode] = asyncio.run(load(url, lines, n, args.seconds, args.beam))
                rows[mode]["batch"] = mean_batch(url)
            finally:
                stop(proc)
        base = rows["off (--max-batch 1)"]["sent"]
        for mode, r in rows.items():
            print(f"| {n} | {mode} | {r['sent']:.1f} | {r['p50'] * 1000:.0f} | "
                  f"{r['p95'] * 1000:.0f} | {r['p99'] * 1000:.0f} | {r['failed']} | "
                  f"{r['batch']:.1f} | {r['sent'] / base:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
