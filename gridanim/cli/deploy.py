"""``python -m gridanim deploy USER/SPACE [--private] [--dry-run] [--json]``: publish the app as a Space."""

from __future__ import annotations

import argparse
import os

from ..errors import InputError
from ..hosting.deploy import (
    PROJECT_ROOT,
    SECRET,
    TOKEN_ENV,
    check_front_matter,
    check_repo_id,
    deploy,
    files_to_upload,
    space_url,
)
from .common import emit


def add(sub) -> None:
    p = sub.add_parser(
        "deploy",
        help="publish the app as a Hugging Face Space",
        description="Create (or update) a Gradio Space USER/SPACE and upload the app to it. "
        f"Needs {TOKEN_ENV} (a write token). If {SECRET} is set, it becomes the Space's secret "
        "so the Space can generate grids (visitors can also paste their own key).",
        epilog="examples:\n  python -m gridanim deploy alice/gridanim --dry-run\n"
        "  HF_TOKEN=hf_... python -m gridanim deploy alice/gridanim --private",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("repo_id", metavar="USER/SPACE", help="the Space to create or update")
    p.add_argument(
        "--private", action="store_true", help="make a new Space private (an existing one keeps its visibility)"
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="list what would be uploaded and whether a secret would be set; send nothing",
    )
    p.add_argument("--folder", default=str(PROJECT_ROOT), help="the folder to upload (default: this project)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout instead of a summary")
    p.set_defaults(func=run)


def run(args) -> int:
    check_repo_id(args.repo_id)
    key = os.environ.get(SECRET, "").strip() or None
    if args.dry_run:
        files = files_to_upload(args.folder)
        warnings = []
        try:
            check_front_matter(args.folder)
        except InputError as e:
            warnings.append(str(e))
        report = {
            "repo_id": args.repo_id,
            "url": space_url(args.repo_id),
            "files": files,
            "private": args.private,
            "secret_set": bool(key),
            "dry_run": True,
            "warnings": warnings,
        }
        lines = [
            f"dry run: would create or update {report['url']} ({'private' if args.private else 'public'}, sdk gradio) with {len(files)} files:"
        ]
        lines += [f"  {f}" for f in files]
        lines.append(
            f"would set the Space secret {SECRET} from your environment"
            if key
            else f"no {SECRET} here: the Space would start without a key (visitors paste their own)"
        )
        if not os.environ.get(TOKEN_ENV):
            lines.append(f"note: {TOKEN_ENV} is not set; a real deploy needs it")
        lines += [f"warning: {w}" for w in warnings]
        emit(args, {"command": "deploy", **report}, lines)
        return 0
    report = deploy(
        args.repo_id, folder=args.folder, private=args.private, token=os.environ.get(TOKEN_ENV), openai_key=key
    )
    lines = [f"deployed {len(report['files'])} files to {report['url']}"]
    lines.append(
        f"set the Space secret {SECRET} (value not shown)"
        if report["secret_set"]
        else f"no {SECRET} set: visitors must paste their own key, or add the secret in the Space settings"
    )
    lines.append("the Space builds for a minute or two; then open the URL above")
    emit(args, {"command": "deploy", **report, "warnings": []}, lines)
    return 0
