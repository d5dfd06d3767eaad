"""Layered parsing of the command line, environment and config files (configargparse).

Every option defaults to None here, so after parsing we know exactly which options the operator
gave (from any source); built-in defaults and the stored machine row are merged later
(``config.resolve``). Precedence inside this layer is configargparse's: command line, then
environment, then config file.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import configargparse

from wnm import __version__
from wnm.config.options import OPTIONS, Option
from wnm.errors import ConfigError, UsageError

DEFAULT_CONFIG_FILES = ("~/.local/share/wnm/config", "~/wnm/config")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


def parse_bool(option: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(option, f"must be true or false, not {value!r}")


class _Parser(configargparse.ArgParser):  # type: ignore[misc]
    """A parser whose errors become UsageError (one line, exit 2) instead of printing usage."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


class _BoolAction(argparse.Action):
    """``--flag``, ``--flag=false``, ``--flag true``, ``--no-flag`` and ``--no_flag``."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        kwargs.setdefault("nargs", "?")
        kwargs.setdefault("const", None)
        super().__init__(option_strings, dest, **kwargs)
        self.negations = frozenset({f"--no-{dest.replace('_', '-')}", f"--no_{dest}"})

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        negated = option_string in self.negations
        if negated:
            if values is not None:
                raise UsageError(f"{option_string} takes no value")
            setattr(namespace, self.dest, False)
            return
        if values is None:
            setattr(namespace, self.dest, True)
            return
        setattr(namespace, self.dest, parse_bool(self.dest, str(values)))


def _spellings(name: str) -> list[str]:
    dashed = name.replace("_", "-")
    return [f"--{name}"] + ([f"--{dashed}"] if dashed != name else [])


def _typed(option: Option) -> Any:
    def convert(text: str) -> Any:
        if option.kind == "int":
            try:
                return int(text.strip())
            except ValueError:
                raise ConfigError(option.name, f"must be a whole number, not {text!r}") from None
        if option.kind == "float":
            try:
                return float(text.strip())
            except ValueError:
                raise ConfigError(option.name, f"must be a number, not {text!r}") from None
        if option.choices and text not in option.choices:
            raise ConfigError(option.name, f"must be one of {', '.join(option.choices)}; not {text!r}")
        return text

    return convert


def build_parser() -> _Parser:
    parser = _Parser(
        prog="wnm",
        usage="wnm [options]   (wnm --help lists them all)",
        description="Weave Node Manager: keeps this host's Autonomi nodes running within its limits.",
        default_config_files=list(DEFAULT_CONFIG_FILES),
        allow_abbrev=False,
        add_help=True,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Every option also has a dashed spelling (--node-cap); persisted options also read "
        "NAME_IN_CAPS from the environment and name=value from the config file.",
    )
    for option in OPTIONS:
        names = _spellings(option.name)
        if option.short:
            names.insert(0, option.short)
        if option.name == "config":
            parser.add_argument(*names, is_config_file=True, default=None, help=option.help, metavar="FILE")
            continue
        help_text = option.help + (" [env " + option.env_var + "]" if option.env_var else "")
        if option.kind == "bool":
            negs = [f"--no-{option.name.replace('_', '-')}", f"--no_{option.name}"]
            parser.add_argument(
                *negs,
                *reversed(names),  # configargparse feeds env/config values to the last spelling
                dest=option.name,
                action=_BoolAction,
                default=None,
                env_var=option.env_var,
                metavar="BOOL",
                help=help_text,
            )
        else:
            parser.add_argument(
                *names,
                dest=option.name,
                type=_typed(option),
                default=None,
                env_var=option.env_var,
                metavar=option.metavar or option.name.upper(),
                help=help_text,
            )
    parser.add_argument(
        "--version",
        dest="version",
        nargs="?",
        const="",
        default=None,
        metavar="X.Y.Z",
        help="print wnm's version; with --force_action upgrade: the node version to install",
    )
    return parser


@dataclass(frozen=True)
class Parsed:
    """Options given by the operator (any source) mapped to typed values; absent ones are missing."""

    given: Mapping[str, Any]
    version: str | None

    def get(self, name: str, default: Any = None) -> Any:
        return self.given.get(name, default)

    def flag(self, name: str) -> bool:
        return bool(self.given.get(name, False))


def parse(argv: Sequence[str], env: Mapping[str, str] | None = None) -> Parsed:
    """Parse ``argv`` with ``env`` (default: os.environ) and the config files.

    Raises UsageError for unknown or malformed options and ConfigError for bad values.
    """
    parser = build_parser()
    try:
        namespace = parser.parse_args(list(argv), env_vars=dict(os.environ if env is None else env))
    except SystemExit as exc:  # --help
        raise _HelpShown(int(exc.code or 0)) from None
    except configargparse.ConfigFileParserException as exc:
        raise UsageError(f"config file: {exc}") from None
    except OSError as exc:
        raise UsageError(f"config file: {exc.strerror}: {exc.filename}") from None
    values = vars(namespace)
    version = values.pop("version", None)
    given = {k: v for k, v in values.items() if v is not None and k != "config"}
    return Parsed(given=given, version=version)


class _HelpShown(Exception):
    """argparse printed help (or usage) and wants to exit with ``code``."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


HelpShown = _HelpShown
__all__ = ["HelpShown", "Parsed", "__version__", "build_parser", "parse", "parse_bool"]
