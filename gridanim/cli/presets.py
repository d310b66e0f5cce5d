"""``python -m gridanim presets [--json]``: the styles ``generate --style`` accepts."""

from __future__ import annotations

import argparse

from .common import emit


def add(sub) -> None:
    p = sub.add_parser(
        "presets",
        help="list the styles --style accepts",
        description="List the style presets: the shipped ones in presets/ and any in GRIDANIM_PRESETS_DIR.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..generation.presets import load_presets, preset_dirs

    cat = load_presets()
    report = {
        "command": "presets",
        "presets": [cat.presets[k].to_dict() for k in cat.names()],
        "folders": [str(d) for d in preset_dirs()],
        "warnings": [str(e) for e in cat.errors.values()],
    }
    width = max((len(k) for k in cat.names()), default=0)
    lines = []
    for k in cat.names():
        p = cat.presets[k]
        lines.append(f"{k:<{width}}  {p.name}: {p.description} ({p.rows}x{p.cols} {p.shape}, {p.fps} fps)")
    lines.append(
        'use: python -m gridanim generate "PROMPT" --style NAME; add a style: drop NAME.toml into presets/ or GRIDANIM_PRESETS_DIR'
    )
    lines += [f"warning: {w}" for w in report["warnings"]]
    emit(args, report, lines)
    return 0
