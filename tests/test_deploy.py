"""``python -m gridanim deploy``: the dry-run listing, and the real sequence against a local fake Hub.

The fake Hub is a tiny HTTP server on 127.0.0.1 (``HF_ENDPOINT`` points
huggingface_hub at it) that answers the four calls a deploy makes: create the
repo, pre-upload, commit (NDJSON, whose ``file`` lines say what was uploaded)
and set a Space secret; README front matter validation is answered too.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from helpers import REPO_ROOT

from gridanim.cli import main
from gridanim.hosting import deploy as D

HF_KEY = "hf_test_token_0123456789"
OPENAI_KEY = "sk-deploy-test-0123456789abcdef"
FRONT = "---\ntitle: t\nsdk: gradio\nsdk_version: 6.31.0\napp_file: app.py\n---\n\n# t\n"


class FakeHub:
    def __init__(self, fail: dict[str, int] | None = None):
        self.calls: list[tuple[str, str, dict, bytes]] = []
        self.fail = fail or {}
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    out = b""
                    while (size := int(self.rfile.readline().strip() or b"0", 16)) != 0:
                        out += self.rfile.read(size)
                        self.rfile.readline()
                    self.rfile.readline()
                    return out
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _send(self, status: int, obj) -> None:
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                hub.calls.append(("GET", self.path, dict(self.headers), b""))
                self._send(404, {"error": "not found"})

            def do_POST(self):
                body = self._body()
                hub.calls.append(("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                for part, status in hub.fail.items():
                    if part in self.path:
                        return self._send(status, {"error": "refused"})
                if self.path == "/api/repos/create":
                    j = json.loads(body)
                    return self._send(200, {"url": f"{hub.url}/spaces/{j['organization']}/{j['name']}"})
                if self.path == "/api/validate-yaml":
                    return self._send(200, {"errors": [], "warnings": []})
                if "/preupload/" in self.path:
                    files = json.loads(body)["files"]
                    return self._send(
                        200,
                        {"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files]},
                    )
                if "/commit/" in self.path:
                    return self._send(
                        200, {"commitUrl": f"{hub.url}/spaces/u/s/commit/{'a' * 40}", "commitOid": "a" * 40}
                    )
                if self.path.endswith("/secrets"):
                    return self._send(200, {})
                self._send(404, {"error": f"unknown {self.path}"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def paths(self) -> list[str]:
        return [p for m, p, _, _ in self.calls if m == "POST" and p != "/api/validate-yaml"]

    def committed(self) -> list[str]:
        [body] = [b for m, p, _, b in self.calls if "/commit/" in p]
        lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
        return sorted(x["value"]["path"] for x in lines if x["key"] == "file")


@pytest.fixture
def hub(monkeypatch):
    h = FakeHub()
    monkeypatch.setenv("HF_ENDPOINT", h.url)
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    yield h
    h.stop()


@pytest.fixture
def project(tmp_path):
    """A small folder shaped like the project, with things that must stay home."""
    root = tmp_path / "proj"
    files = {
        "README.md": FRONT,
        "app.py": "print('app')\n",
        "requirements.txt": "gradio==6.31.0\n",
        "gridanim/__init__.py": "",
        "gridanim/__pycache__/x.cpython-311.pyc": "",
        "presets/ghibli.toml": "name='x'\n",
        "examples/ball.png": "png",
        "tests/test_x.py": "",
        "bench/b.py": "",
        "outputs/20261121-000000-abcdef.png": "",
        ".git/config": "",
        ".gradio/certificate.pem": "",
        ".env": "OPENAI_API_KEY=sk-secret",
        "demo.gif": "",
        "examples/demo.mp4": "",
        "requirements-dev.txt": "pytest\n",
        ".ruff_cache/0.17.6/123": "",
        "gridanim/.mypy_cache/x.json": "",
    }
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


KEEP = ["README.md", "app.py", "examples/ball.png", "gridanim/__init__.py", "presets/ghibli.toml", "requirements.txt"]


def test_files_to_upload_keeps_the_app_and_leaves_the_rest(project):
    assert D.files_to_upload(project) == KEEP


def test_dry_run_on_this_repo_lists_a_sensible_file_set(capsys, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert main(["deploy", "alice/gridanim", "--dry-run", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    files = report["files"]
    for needed in (
        "app.py",
        "requirements.txt",
        "README.md",
        "gridanim/__init__.py",
        "gridanim/data/models.toml",
        "presets/ghibli.toml",
        "examples/bouncing_ball_3x4.png",
    ):
        assert needed in files, needed
    for f in files:
        assert not f.startswith(
            ("tests/", ".git/", "bench/", ".ci/", "outputs/", "test-artifacts/", ".pytest_cache/", ".gradio/")
        )
        assert "__pycache__" not in f and not f.endswith((".gif", ".mp4", ".pyc"))
    assert report["dry_run"] is True and report["secret_set"] is False


def test_dry_run_says_a_secret_would_be_set_without_showing_it(capsys, monkeypatch, project):
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    assert main(["deploy", "alice/gridanim", "--dry-run", "--folder", str(project)]) == 0
    out = capsys.readouterr().out
    assert "would set the Space secret OPENAI_API_KEY" in out
    assert OPENAI_KEY not in out
    assert [line.strip() for line in out.splitlines() if line.startswith("  ")] == KEEP


def test_deploy_creates_uploads_exactly_the_dry_run_list_and_sets_the_secret(hub, project, monkeypatch, capsys):
    monkeypatch.setenv("HF_TOKEN", HF_KEY)
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    assert main(["deploy", "alice/gridanim", "--private", "--folder", str(project)]) == 0
    out = capsys.readouterr()
    assert hub.paths() == [
        "/api/repos/create",
        "/api/spaces/alice/gridanim/preupload/main",
        "/api/spaces/alice/gridanim/commit/main",
        "/api/spaces/alice/gridanim/secrets",
    ]
    create = json.loads(hub.calls[0][3])
    assert create["type"] == "space" and create["sdk"] == "gradio" and create["visibility"] == "private"
    assert create["name"] == "gridanim" and create["organization"] == "alice"
    assert all(h.get("authorization") == f"Bearer {HF_KEY}" for m, p, h, _ in hub.calls if m == "POST")
    assert hub.committed() == D.files_to_upload(project) == KEEP
    secret = json.loads(next(b for m, p, _, b in hub.calls if p.endswith("/secrets")))
    assert secret["key"] == "OPENAI_API_KEY" and secret["value"] == OPENAI_KEY
    assert OPENAI_KEY not in out.out + out.err and HF_KEY not in out.out + out.err
    assert "deployed 6 files" in out.out and "value not shown" in out.out


def test_deploy_without_an_openai_key_sets_no_secret(hub, project, monkeypatch, capsys):
    monkeypatch.setenv("HF_TOKEN", HF_KEY)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert main(["deploy", "alice/gridanim", "--folder", str(project)]) == 0
    assert not any(p.endswith("/secrets") for p in hub.paths())
    assert json.loads(hub.calls[0][3])["visibility"] == "public"
    assert "no OPENAI_API_KEY set" in capsys.readouterr().out


def test_missing_token_is_one_line_and_sends_nothing(hub, project, capsys):
    assert main(["deploy", "alice/gridanim", "--folder", str(project)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: HF_TOKEN is not set")
    assert hub.calls == []


def test_hub_refusal_is_one_line_naming_the_step(project, monkeypatch, capsys):
    h = FakeHub(fail={"/commit/": 403})
    monkeypatch.setenv("HF_ENDPOINT", h.url)
    monkeypatch.setenv("HF_TOKEN", HF_KEY)
    try:
        assert main(["deploy", "alice/gridanim", "--folder", str(project)]) == 2
    finally:
        h.stop()
    err = capsys.readouterr().err
    assert err.startswith("error: could not upload the files on the Hub (HTTP 403)") and "write token" in err


def test_unreachable_hub_is_one_line(project, monkeypatch, capsys):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("HF_TOKEN", HF_KEY)
    assert main(["deploy", "alice/gridanim", "--folder", str(project)]) == 2
    assert capsys.readouterr().err.startswith("error: could not create the Space: cannot reach the Hub")


@pytest.mark.parametrize("bad", ["gridanim", "alice/", "/x", "a/b/c", "alice/grid anim"])
def test_bad_space_ids_are_refused(bad, capsys):
    assert main(["deploy", bad, "--dry-run"]) == 2
    assert "is not a Space id" in capsys.readouterr().err


def test_readme_without_front_matter_is_refused_before_any_request(hub, project, monkeypatch, capsys):
    (project / "README.md").write_text("# just a title\n")
    monkeypatch.setenv("HF_TOKEN", HF_KEY)
    assert main(["deploy", "alice/gridanim", "--folder", str(project)]) == 2
    assert "sdk: gradio" in capsys.readouterr().err and hub.calls == []


def test_the_shipped_readme_has_valid_space_front_matter():
    D.check_front_matter(REPO_ROOT)
    text = (REPO_ROOT / "README.md").read_text("utf-8")
    req = (REPO_ROOT / "requirements.txt").read_text("utf-8")
    import re

    version = re.search(r"^sdk_version:\s*(\S+)", text, re.M).group(1)
    assert f"gradio=={version}" in req
    assert re.search(r'^python_version:\s*"3\.11"', text, re.M)
    desc = re.search(r"^short_description:\s*(.+)$", text, re.M).group(1).strip()
    assert len(desc) <= 60


def test_deploy_is_a_registered_subcommand():
    out = subprocess.run(
        [sys.executable, "-m", "gridanim", "deploy", "--help"], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0 and "USER/SPACE" in out.stdout and "--dry-run" in out.stdout
