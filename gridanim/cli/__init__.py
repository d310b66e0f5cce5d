"""Command line: ``python -m gridanim detect|animate ...`` (a stable contract).

This module owns argument parsing, writing output files, the ``--json`` report
and turning errors into one ``error: ...`` line on stderr:

* exit 0: done;
* exit 2: the user can fix it (bad image, bad argument, encoder failure:
  any :class:`~gridanim.errors.GridanimError`, and argparse usage errors);
* exit 1: a bug (``error: internal error: ...``; set ``GRIDANIM_DEBUG=1`` for
  the traceback).

With ``--json`` stdout carries exactly one JSON object and nothing else;
warnings go inside it. Startup is kept lean: heavy modules are imported inside
the command functions, and only what the command needs (never gradio, openai
or imageio on the detect/animate path); a run of one command imports and
builds only that command's parser.

Adding a subcommand: a module ``gridanim/cli/<name>.py`` with ``add(subparsers)``
(its parser, ``set_defaults(func=run)``) and ``run(args) -> int``, listed in
:data:`COMMANDS`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from .common import PROG, CliError, Parser, fail

# One module per command (gridanim/cli/<name>.py), in help order: each has ``add(subparsers)`` and ``run(args)``.
COMMANDS = ("detect", "animate", "generate", "redraw", "presets", "deploy")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The CLI's parser; ``only`` (a command name) leaves the other commands out (and unimported)."""
    from . import detect

    parser = Parser(
        prog=PROG,
        description="gridanim: turn a grid of animation panels into a clean looping GIF and MP4.",
        epilog=detect.EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"gridanim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    for name in COMMANDS if only not in COMMANDS else (only,):
        importlib.import_module(f"{__name__}.{name}").add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 2 user error, 1 bug)."""
    debug = os.environ.get("GRIDANIM_DEBUG") == "1"
    import warnings

    if not debug:
        warnings.simplefilter("ignore")  # library warnings must not add stderr lines
    try:
        argv = list(sys.argv[1:] if argv is None else argv)
        # `gridanim animate ...`: only that command's parser (help and bad commands get them all)
        args = build_parser(argv[0] if argv else None).parse_args(argv)
        return int(args.func(args) or 0)
    except CliError as e:
        fail(str(e))
        return 2
    except KeyboardInterrupt:
        fail("interrupted")
        return 130
    except BrokenPipeError:  # e.g. `... --json | head -c 10`: not an error, and no shutdown noise
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except OSError:
            pass
        return 0
    except Exception as e:
        from ..errors import GridanimError, OptionError
        from ..options import CLI_NAMES

        if isinstance(e, GridanimError):
            fail(e.worded(CLI_NAMES) if isinstance(e, OptionError) else str(e))
            return 2
        if isinstance(e, MemoryError):
            fail("out of memory: use a smaller image or --max-size")
            return 2
        if debug:
            import traceback

            traceback.print_exc()
        fail(f"internal error: {type(e).__name__}: {e} (set GRIDANIM_DEBUG=1 for details and report it)")
        return 1
