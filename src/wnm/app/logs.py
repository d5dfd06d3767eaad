"""Logging: one line per event on stderr (cron and journald friendly), optionally a log file."""

from __future__ import annotations

import logging
import sys

from wnm.config.parser import Parsed

FORMAT = "%(asctime)s %(levelname)s %(message)s"
DATEFMT = "%Y-%m-%dT%H:%M:%S"


def setup_logging(parsed: Parsed) -> None:
    """Configure the ``wnm`` logger from -q/-v/--loglevel/--logfile. Raises OSError for a bad logfile."""
    level_name = parsed.get("loglevel") or "INFO"
    if parsed.flag("verbose"):
        level_name = "DEBUG"
    if parsed.flag("quiet"):
        level_name = "ERROR"
    level = getattr(logging, str(level_name).upper(), logging.INFO)
    root = logging.getLogger("wnm")
    root.handlers.clear()
    root.setLevel(level)
    root.propagate = False
    formatter = logging.Formatter(FORMAT, DATEFMT)
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setFormatter(formatter)
    root.addHandler(stderr)
    logfile = parsed.get("logfile")
    if logfile:
        handler = logging.FileHandler(logfile, encoding="utf-8")
        handler.setFormatter(formatter)
        root.addHandler(handler)
