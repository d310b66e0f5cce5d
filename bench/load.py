"""Drive N concurrent visitors against the app's /animate endpoint and print throughput and latency.

    python bench/load.py [--visitors 16] [--requests 2] [--rows 3 --cols 4] [--size 1536x1024]
    python bench/load.py --url http://127.0.0.1:7860/ ...     # attach to an app already running

Without ``--url`` it starts ``python app.py`` on a free 127.0.0.1 port with a
throw-away data dir, and stops it at the end; then it also reports the app
process's peak RSS (``VmHWM``) and the peak RSS of the app plus its children
(the ffmpeg encoders), sampled every 0.1 s. Each visitor is a thread with its
own ``gradio_client.Client`` (and its own ``X-Forwarded-For``, as if from a
different address) making ``--requests`` calls one after another on the same
rows x cols grid, drawn here in code. Everything is bounded: a fixed number of
calls, a timeout per call, loopback addresses only.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


# ------------------------------------------------------------------ the grid


def make_grid(path: Path, rows: int, cols: int, size: tuple[int, int]) -> Path:
    """A rows x cols grid of panels with a ball moving round a loop, on light gutters."""
    import math

    from PIL import Image, ImageDraw

    w, h = size
    im = Image.new("RGB", (w, h), (240, 240, 240))
    d = ImageDraw.Draw(im)
    g = max(4, w // 150)
    n = rows * cols
    for i in range(n):
        r, c = divmod(i, cols)
        x0, x1 = c * w // cols + g, (c + 1) * w // cols - g
        y0, y1 = r * h // rows + g, (r + 1) * h // rows - g
        d.rectangle((x0, y0, x1, y1), fill=(110, 160, 215))
        t = 2 * math.pi * i / n
        cx, cy = (x0 + x1) / 2 + math.cos(t) * (x1 - x0) / 4, (y0 + y1) / 2 + math.sin(t) * (y1 - y0) / 4
        rad = min(x1 - x0, y1 - y0) / 8
        d.ellipse((cx - rad, cy - rad, cx + rad, cy + rad), fill=(230, 120, 40))
    im.save(path, "PNG")
    return path


# ------------------------------------------------------------------ the app process


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_app(workdir: Path, log_path: Path, timeout_s: float = 120) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **os.environ,
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "GRIDANIM_DATA_DIR": str(workdir / "data"),
        "GRADIO_TEMP_DIR": str(workdir / "gradio"),
    }
    env.pop("OPENAI_API_KEY", None)  # /animate never needs one
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the app exited with {proc.returncode} before serving: see {log_path}")
        try:
            urllib.request.urlopen(url, timeout=2).read(1)
            return proc, url
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit(f"the app did not answer on {url} within {timeout_s:.0f} s: see {log_path}")


def stop_app(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def _status_kb(pid: int, field_name: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        kids = []
        for task in Path(f"/proc/{p}/task").glob("*"):  # children of every thread, not just the main one
            try:
                kids += [int(k) for k in (task / "children").read_text().split()]
            except OSError:
                pass
        out += kids
        todo += kids
    return out


class TreeRss:
    """Samples the RSS of a process and all its descendants; keeps the peak."""

    def __init__(self, pid: int, every_s: float = 0.1) -> None:
        self.pid, self.every_s, self.peak_kb = pid, every_s, 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            total = sum(_status_kb(p, "VmRSS") for p in [self.pid, *_children(self.pid)])
            self.peak_kb = max(self.peak_kb, total)

    def __enter__(self) -> TreeRss:
        self._t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._t.join(5)


# ------------------------------------------------------------------ visitors


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def visitor(
    i: int,
    url: str,
    grid: Path,
    rows: int,
    cols: int,
    requests: int,
    timeout_s: float,
    start: threading.Barrier,
    res: Results,
) -> None:
    from gradio_client import Client, handle_file

    try:
        client = Client(url, verbose=False, analytics_enabled=False, headers={"X-Forwarded-For": f"198.51.100.{i + 1}"})
    except Exception as e:  # a visitor that cannot even connect is a failure of every call it would make
        with res.lock:
            res.failures += [f"visitor {i}: connect: {e}"] * requests
        start.wait()
        return
    start.wait()
    for _ in range(requests):
        t0 = time.perf_counter()
        try:
            job = client.submit(handle_file(str(grid)), str(rows), str(cols), api_name="/animate")
            gif, mp4 = job.result(timeout=timeout_s)[:2]
            if not (str(gif).endswith(".gif") and str(mp4).endswith(".mp4")):
                raise RuntimeError(f"unexpected outputs {gif!r}, {mp4!r}")
        except Exception as e:
            with res.lock:
                res.failures.append(f"visitor {i}: {type(e).__name__}: {' '.join(str(e).split())[:200]}")
            continue
        with res.lock:
            res.latencies.append(time.perf_counter() - t0)
    client.close()


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0-100)."""
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(-(-q * len(s) // 100)) - 1))
    return s[k]


def run(url: str, grid: Path, args) -> dict:
    res = Results()
    start = threading.Barrier(args.visitors + 1)
    threads = [
        threading.Thread(
            target=visitor,
            args=(i, url, grid, args.rows, args.cols, args.requests, args.timeout, start, res),
            daemon=True,
        )
        for i in range(args.visitors)
    ]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join(args.timeout * args.requests + 60)
    wall = time.perf_counter() - t0
    ok = len(res.latencies)
    return {
        "visitors": args.visitors,
        "calls": args.visitors * args.requests,
        "ok": ok,
        "failed": len(res.failures),
        "failures": res.failures[:10],
        "wall_s": round(wall, 2),
        "animations_per_min": round(ok / wall * 60, 1) if wall else 0.0,
        "p50_s": round(percentile(res.latencies, 50), 2) if ok else None,
        "p95_s": round(percentile(res.latencies, 95), 2) if ok else None,
        "mean_s": round(statistics.fmean(res.latencies), 2) if ok else None,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python bench/load.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--url", help="attach to a running app (loopback only); default: start app.py")
    p.add_argument("--visitors", type=int, default=16, help="concurrent visitors (default 16)")
    p.add_argument("--requests", type=int, default=2, help="calls per visitor, one after another (default 2)")
    p.add_argument("--rows", type=int, default=3)
    p.add_argument("--cols", type=int, default=4)
    p.add_argument("--size", default="1536x1024", help="grid image size WxH (default 1536x1024, a generated grid's)")
    p.add_argument("--timeout", type=float, default=300, help="seconds per call (default 300)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)
    if args.visitors < 1 or args.requests < 1:
        p.error("--visitors and --requests must be at least 1")
    if args.url and urllib.parse.urlparse(args.url).hostname not in LOOPBACK:
        p.error("--url must be a loopback address (127.0.0.1 / localhost): this script only loads your own machine")
    w, h = (int(v) for v in args.size.lower().split("x"))

    with tempfile.TemporaryDirectory(prefix="gridanim-load-") as tmp:
        work = Path(tmp)
        grid = make_grid(work / "grid.png", args.rows, args.cols, (w, h))
        proc = None
        url = args.url
        if not url:
            proc, url = start_app(work, work / "app.log")
        try:
            if proc:
                with TreeRss(proc.pid) as tree:
                    out = run(url, grid, args)
                out["app_peak_rss_mib"] = round(_status_kb(proc.pid, "VmHWM") / 1024)
                out["app_tree_peak_rss_mib"] = round(tree.peak_kb / 1024)
            else:
                out = run(url, grid, args)
        finally:
            if proc:
                stop_app(proc)
    out.update(grid=f"{args.rows}x{args.cols} ({args.rows * args.cols} frames) {w}x{h}", cpus=os.cpu_count())
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"{out['visitors']} visitors x {args.requests} calls on a {out['grid']} grid, {out['cpus']} CPUs")
        print(f"ok {out['ok']} / {out['calls']}, failed {out['failed']}, wall {out['wall_s']} s")
        print(
            f"throughput {out['animations_per_min']} animations/min; latency p50 {out['p50_s']} s, p95 {out['p95_s']} s"
        )
        if "app_peak_rss_mib" in out:
            print(
                f"app peak RSS {out['app_peak_rss_mib']} MiB (VmHWM); app + ffmpeg children peak {out['app_tree_peak_rss_mib']} MiB (sampled)"
            )
        for f in out["failures"]:
            print("  " + f)
    return 0 if out["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
