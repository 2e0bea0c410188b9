"""What every CLI command shares: store opening, one-line errors, exit codes.

Exit codes: 0 success; 1 a verification failed; 2 bad usage or bad input;
3 the store or the environment failed (unwritable, corrupt, unreachable,
wrong schema version). Errors print as one line on stderr, no traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import click

from cmlops.atomic_files import atomic_open
from cmlops.errors import CmlopsError, InvalidInputError, ProofError, StoreError
from cmlops.terminal_text import json_terminal_safe, terminal_safe

EXIT_OK = 0
EXIT_VERIFY_FAILED = 1
EXIT_USAGE = 2
EXIT_FAILURE = 3


class CmlopsCommandError(click.ClickException):
    """A one-line error with the exit code that matches its kind."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file: TextIO | None = None) -> None:
        click.echo(f"Error: {terminal_safe(self.format_message())}", err=True)


def exit_code_for(error: CmlopsError) -> int:
    if isinstance(error, InvalidInputError):
        return EXIT_USAGE
    if isinstance(error, ProofError):
        return EXIT_VERIFY_FAILED
    if isinstance(error, StoreError):
        return EXIT_FAILURE
    return EXIT_FAILURE


def one_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return " ".join(text.split())


class ErrorHandlingGroup(click.Group):
    """A group whose commands turn cmlops errors into one-line messages and exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CmlopsError as error:
            raise CmlopsCommandError(one_line(error), exit_code_for(error)) from None
        except OSError as error:
            raise CmlopsCommandError(describe_os_error(error), EXIT_FAILURE) from None
        except OverflowError as error:  # a date or number beyond what Python can represent
            raise CmlopsCommandError(
                f"a value is out of range ({one_line(error)}): give a smaller number or a date "
                "within the years 1-9999",
                EXIT_USAGE,
            ) from None


def describe_os_error(error: OSError) -> str:
    """One line for a filesystem error, naming the user's folder rather than a temp file."""
    if not error.filename:
        return one_line(error)
    target = Path(str(error.filename))
    if target.name.startswith("."):  # our hidden temporary or partial file
        target = target.parent
    reason = error.strerror or type(error).__name__
    return f"cannot use {target}: {reason} — check that the folder exists and is writable"


def open_cli_store(ctx: click.Context, *, create: bool = True, migrate: bool = False):
    """Open the store named by the root options (``--home``, ``--store-url``) or the env."""
    from cmlops.store import open_store

    options = ctx.find_root().obj or {}
    return open_store(
        options.get("store_url"), home=options.get("home"), create=create, migrate=migrate
    )


def echo_json(value: Any) -> None:
    click.echo(json_terminal_safe(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)))


@contextmanager
def atomic_output(path: Path, *, force: bool = False, mode: str = "w"):
    """Write to a temporary file next to ``path`` and rename it into place on success."""
    path = Path(path)
    if path.exists() and not force:
        raise InvalidInputError(f"{path} exists: choose another file or pass --force")
    with atomic_open(path, mode) as handle:
        yield handle


def lazy(target: str) -> Callable[[], click.Command]:
    """Import ``module:attribute`` only when the command is used (fast ``--help``)."""

    def load() -> click.Command:
        import importlib

        module_name, _, attribute = target.partition(":")
        return getattr(importlib.import_module(module_name), attribute)

    return load


def fail(message: str, code: int = EXIT_USAGE) -> None:
    raise CmlopsCommandError(message, code)


def stdout_is_tty() -> bool:
    return sys.stdout.isatty()


def say(text: str) -> None:
    """Echo one line that may hold user strings, made terminal-safe."""
    click.echo(terminal_safe(text))
