"""Command line entry point: argv -> request -> application; errors -> exit codes, in one place.

Exit codes: 0 done; 1 runtime failure (or every attempted action failed); 2 usage or config error
(nothing was changed); 75 another run holds the lock; 130 interrupted.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from wnm import __version__
from wnm.errors import AlreadyRunning, ConfigError, NotInitialized, UsageError, WnmError

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_ALREADY_RUNNING = 75
EXIT_INTERRUPTED = 130

log = logging.getLogger("wnm")


def main(argv: Sequence[str] | None = None) -> int:
    """Run wnm with ``argv`` (default: sys.argv[1:]) and return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--version"]:
        print(f"wnm version {__version__}")
        return EXIT_OK
    from wnm.app.logs import setup_logging
    from wnm.config.parser import HelpShown, parse

    try:
        parsed = parse(args)
    except HelpShown as shown:
        return shown.code
    except (UsageError, ConfigError) as exc:
        _error(f"wnm: {exc}")
        return EXIT_USAGE
    if parsed.version == "" and not parsed.given.get("force_action"):
        print(f"wnm version {__version__}")
        return EXIT_OK
    try:
        setup_logging(parsed)
    except OSError as exc:
        _error(f"wnm: --logfile: {exc.strerror}: {exc.filename}")
        return EXIT_USAGE
    try:
        from wnm.app.dispatch import dispatch

        return dispatch(parsed)
    except (UsageError, ConfigError) as exc:
        log.error("%s", exc)
        return EXIT_USAGE
    except NotInitialized as exc:
        log.error("%s; run: wnm --init --rewards_address 0x... (see wnm --help)", exc)
        return EXIT_USAGE
    except AlreadyRunning as exc:
        log.error("%s; exiting", exc)
        return EXIT_ALREADY_RUNNING
    except WnmError as exc:
        log.error("%s", exc)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        log.error("interrupted")
        return EXIT_INTERRUPTED
    except Exception:  # a bug: say so with the traceback, still one exit code
        log.exception("internal error (please report this with the lines above)")
        return EXIT_FAILURE


def _error(message: str) -> None:
    print(message, file=sys.stderr)
