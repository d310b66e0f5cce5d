"""``python app.py`` as users start it: no key, ``--port``, ``--share`` while offline.

No timing assertions: each start must answer HTTP 200 within a generous
deadline, and the measured seconds are printed (``pytest -s``) for the record.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

from helpers import REPO_ROOT, free_port, wait_http

DEADLINE_S = 60


def clean_env(tmp_path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "GRADIO_"))}
    env.update(
        GRIDANIM_DATA_DIR=str(tmp_path / "data"),
        GRADIO_TEMP_DIR=str(tmp_path / "gradio"),
        GRIDANIM_APP_TMP=str(tmp_path / "runs"),
    )
    env.update(extra)
    return env


def start(args: list[str], env: dict, tmp_path) -> tuple[subprocess.Popen, object]:
    log = open(tmp_path / "app.log", "w+")
    proc = subprocess.Popen(
        [sys.executable, "app.py", *args], cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    return proc, log


def stop(proc: subprocess.Popen, log) -> str:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.seek(0)
    text = log.read()
    log.close()
    return text


def test_starts_without_any_key_via_the_gradio_port_variable(tmp_path):
    port = free_port()
    proc, log = start([], clean_env(tmp_path, GRADIO_SERVER_PORT=str(port)), tmp_path)
    try:
        seconds = wait_http(f"http://127.0.0.1:{port}/", proc, DEADLINE_S)
        print(f"\npython app.py (no key) answered HTTP 200 after {seconds:.1f} s")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/gradio_api/info", timeout=10) as r:
            info = r.read().decode()
        assert '"/animate"' in info and '"/generate"' in info
    finally:
        out = stop(proc, log)
    assert "Traceback" not in out, out


def test_host_and_port_flags_win(tmp_path):
    port = free_port()
    proc, log = start(
        ["--host", "127.0.0.1", "--port", str(port)], clean_env(tmp_path, GRADIO_SERVER_PORT="1"), tmp_path
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/", proc, DEADLINE_S)
    finally:
        stop(proc, log)


def test_share_while_offline_keeps_serving_locally_and_says_so(tmp_path):
    port = free_port()
    # An unreachable proxy makes the tunnel request fail fast whatever the network allows.
    env = clean_env(
        tmp_path,
        GRADIO_SERVER_PORT=str(port),
        HTTPS_PROXY="http://127.0.0.1:9",
        HTTP_PROXY="http://127.0.0.1:9",
        NO_PROXY="127.0.0.1,localhost",
    )
    proc, log = start(["--share"], env, tmp_path)
    try:
        seconds = wait_http(f"http://127.0.0.1:{port}/", proc, DEADLINE_S)
        t0 = time.monotonic()
        while time.monotonic() - t0 < DEADLINE_S:
            log.seek(0)
            if "no public share link" in log.read():
                break
            time.sleep(0.2)
        assert proc.poll() is None
        wait_http(f"http://127.0.0.1:{port}/", proc, DEADLINE_S)  # still serving after the share attempt
        print(f"\npython app.py --share (offline) answered after {seconds:.1f} s")
    finally:
        out = stop(proc, log)
    assert "no public share link could be made" in out and "still serving locally" in out, out
