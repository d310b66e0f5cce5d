"""``python -m gridanim deploy USER/SPACE``: publish the app as a Hugging Face Space.

Steps (``huggingface_hub``, token from ``HF_TOKEN``, a write token):

1. ``create_repo(USER/SPACE, repo_type="space", space_sdk="gradio", private=..., exist_ok=True)``;
2. ``upload_folder`` of the project with :data:`IGNORE_PATTERNS` (tests, benches,
   outputs, caches, secrets files and rendered GIF/MP4 stay home; huggingface_hub
   does not read ``.gitignore``);
3. when ``OPENAI_API_KEY`` is set here, ``add_space_secret(..., "OPENAI_API_KEY", key)``
   so the Space can generate with it (the value is never printed or logged).

``--dry-run`` makes no request and needs no token: it lists the files that would
be uploaded (computed here with the same patterns and the same matching rule as
``upload_folder``: ``fnmatch.fnmatchcase`` on the ``/``-separated relative path,
where ``*`` also matches ``/``) and says whether the secret would be set.
``HF_ENDPOINT`` points everything at another hub (tests use a local fake).

Before uploading, ``README.md`` must carry the Space front matter
(``sdk: gradio``), or the Space would not know how to start the app.
"""

from __future__ import annotations

import os
import re
from fnmatch import fnmatchcase
from pathlib import Path

from ..errors import GridanimError, InputError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TOKEN_ENV = "HF_TOKEN"
SECRET = "OPENAI_API_KEY"

IGNORE_PATTERNS = [
    ".*/**",
    "**/.*/**",  # every hidden folder: .git, .venv, tool caches (.ruff_cache, .mypy_cache, ...)
    ".git/**",
    "**/.git/**",
    ".github/**",
    ".venv/**",
    "venv/**",
    ".cache/**",
    "tests/**",
    "bench/**",
    ".benchmarks/**",
    ".ci/**",
    "scripts/**",
    "__pycache__/**",
    "**/__pycache__/**",
    "*.pyc",
    "*.egg-info/**",
    ".gradio/**",
    ".pytest_cache/**",
    "test-artifacts/**",
    "outputs/**",
    "*.gif",
    "*.mp4",
    "*.log",
    ".env",
    ".env.*",
    "**/.env",
    "**/.env.*",
    "requirements-dev.txt",
]
_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*(\n|\Z)", re.S)


class DeployError(GridanimError):
    """The Space could not be created or updated."""


def files_to_upload(
    folder: str | os.PathLike = PROJECT_ROOT, ignore_patterns: list[str] = IGNORE_PATTERNS
) -> list[str]:
    """Relative ``/`` paths ``upload_folder`` would send, sorted (no network)."""
    root = Path(folder).expanduser().resolve()
    if not root.is_dir():
        raise InputError(f"{root} is not a folder")
    paths = (p.relative_to(root).as_posix() for p in sorted(root.glob("**/*")) if p.is_file())
    return [p for p in paths if not any(fnmatchcase(p, pat) for pat in ignore_patterns)]


def check_repo_id(repo_id: str) -> str:
    if not _REPO_ID.match(repo_id or ""):
        raise InputError(f"'{repo_id}' is not a Space id: use USER/SPACE, e.g. alice/gridanim")
    return repo_id


def check_front_matter(folder: str | os.PathLike) -> None:
    """Refuse to deploy without a README.md whose front matter says ``sdk: gradio``."""
    readme = Path(folder) / "README.md"
    try:
        text = readme.read_text("utf-8")
    except OSError:
        raise InputError(
            f"{readme} is missing: a Space needs README.md with front matter (sdk: gradio, app_file: app.py)"
        ) from None
    m = _FRONT_MATTER.match(text)
    if not m or not re.search(r"^sdk:\s*gradio\s*$", m.group(1), re.M):
        raise InputError(
            f"{readme} has no Space front matter with 'sdk: gradio': add the --- block at the top (see the README)"
        )


def _transport_errors() -> tuple[type[BaseException], ...]:
    """Connection-level errors of whichever HTTP client huggingface_hub uses (httpx2 in 2.x)."""
    errors: list[type[BaseException]] = [OSError]
    for mod in ("httpx2", "httpx", "requests"):
        try:
            m = __import__(mod)
        except ImportError:
            continue
        err = getattr(m, "RequestError", None) or getattr(m, "ConnectionError", None)
        if isinstance(err, type):
            errors.append(err)
    return tuple(errors)


def space_url(repo_id: str) -> str:
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
    return f"{endpoint}/spaces/{repo_id}"


def deploy(
    repo_id: str,
    *,
    folder: str | os.PathLike = PROJECT_ROOT,
    private: bool = False,
    token: str | None = None,
    openai_key: str | None = None,
    message: str = "Deploy gridanim",
) -> dict:
    """Create or update the Space; returns a report (never containing the key)."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    check_repo_id(repo_id)
    check_front_matter(folder)
    if not token:
        raise DeployError(
            f"{TOKEN_ENV} is not set: create a write token at huggingface.co/settings/tokens "
            f"and export {TOKEN_ENV}=hf_..."
        )
    files = files_to_upload(folder)
    api = HfApi(token=token, endpoint=os.environ.get("HF_ENDPOINT") or None)  # read per call, not at import
    step = "create the Space"
    try:
        url = api.create_repo(repo_id, repo_type="space", space_sdk="gradio", private=private, exist_ok=True)
        step = "upload the files"
        commit = api.upload_folder(
            repo_id=repo_id,
            repo_type="space",
            folder_path=str(folder),
            ignore_patterns=IGNORE_PATTERNS,
            commit_message=message,
        )
        if openai_key:
            step = f"set the {SECRET} secret"
            api.add_space_secret(repo_id, SECRET, openai_key, description="used by gridanim to generate grids")
    except HfHubHTTPError as e:
        status = getattr(getattr(e, "response", None), "status_code", None)
        hint = " (check that HF_TOKEN is a write token for that user or org)" if status in (401, 403) else ""
        raise DeployError(f"could not {step} on the Hub{f' (HTTP {status})' if status else ''}{hint}") from None
    except _transport_errors() as e:  # connection refused, DNS, timeout
        raise DeployError(
            f"could not {step}: cannot reach the Hub at {space_url(repo_id).rsplit('/spaces/', 1)[0]} "
            f"({type(e).__name__})"
        ) from None
    return {
        "repo_id": repo_id,
        "url": str(url) if url else space_url(repo_id),
        "commit": str(getattr(commit, "commit_url", commit)),
        "files": files,
        "private": private,
        "secret_set": bool(openai_key),
        "dry_run": False,
    }
