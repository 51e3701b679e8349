"""How the command line reports problems: the user's mistakes plainly, our bugs as internal errors.

A *user error* is one a user can fix from its message: an error class of pixelfes's own
(``ModelFileError``, ``NoFaceError``, ...), a ``ValueError`` or ``LookupError`` that
pixelfes raised on purpose (bad argument, bad file), or an ``OSError`` from the system
(missing file, no permission, disk full) or an ``ImportError`` (a package to install). Anything else, and any
``ValueError`` raised deep inside numpy, OpenCV or Pillow, is an *internal error*: a
bug of ours, reported with the hint to rerun with ``--debug`` (or ``PIXELFES_DEBUG=1``)
for the traceback.
"""

from __future__ import annotations

import os
import sys
import traceback
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

DEBUG_ENV = "PIXELFES_DEBUG"
_PACKAGE_DIR = str(Path(__file__).resolve().parent)
_debug_flag = False
DEBUG_HINT = f"rerun with --debug (or {DEBUG_ENV}=1) to see the traceback, and please report it"


def set_debug(on: bool) -> None:
    """Turn traceback printing on or off for this process (``--debug``)."""
    global _debug_flag
    _debug_flag = bool(on)


def debug_enabled() -> bool:
    """Whether ``--debug`` was given or ``$PIXELFES_DEBUG`` is set to a true value."""
    env = os.environ.get(DEBUG_ENV, "").strip().lower()
    return _debug_flag or env not in ("", "0", "false", "no", "off")


def _raised_in_pixelfes(exc: BaseException) -> bool:
    tb: TracebackType | None = exc.__traceback__
    last = None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    if last is None:  # never raised (constructed by hand): treat as ours
        return True
    return str(Path(last.tb_frame.f_code.co_filename).resolve()).startswith(_PACKAGE_DIR)


def is_user_error(exc: BaseException) -> bool:
    """Whether ``exc`` is a problem the user can fix from its message (see module docstring)."""
    if isinstance(exc, OSError | ImportError):  # the system's state: a file, a missing package
        return True
    if type(exc).__module__.split(".")[0] == "pixelfes":  # our own error classes are deliberate
        return True
    if type(exc) in (KeyError, IndexError):  # a failed lookup in our own code is a bug
        return False
    if isinstance(exc, ValueError | LookupError):
        return _raised_in_pixelfes(exc)
    return False


def describe(exc: BaseException) -> str:
    """One message for ``exc``: its text for user errors, an "internal error: ..." line otherwise."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, OSError) and exc.filename is not None and str(exc.filename) not in text:
        text = f"{exc.filename}: {text}"
    if is_user_error(exc):
        return text
    return f"internal error: {type(exc).__name__}: {text}; {DEBUG_HINT}"


def report(exc: BaseException, where: str | None = None, hint: str = "",
           file: TextIO | None = None) -> None:
    """Print ``exc`` as one line (``error: [where: ]message``); the traceback under ``--debug``."""
    out = file if file is not None else sys.stderr
    if debug_enabled():
        traceback.print_exception(exc, file=out)
    text = describe(exc) + hint
    if where:
        line = f"error: {where}: {text}"
    else:
        line = text if text.startswith("internal error") else f"error: {text}"
    print(line, file=out)


def _one_line_warning(message: Warning | str, category: type[Warning], filename: str,
                      lineno: int, file: TextIO | None = None, line: str | None = None) -> None:
    out = file if file is not None else sys.stderr
    text = " ".join(str(message).split())
    if debug_enabled():
        text += f"  [{category.__name__} at {filename}:{lineno}]"
    try:
        print(f"warning: {text}", file=out)
    except OSError:
        pass


@contextmanager
def clean_warnings() -> Iterator[None]:
    """Show every warning raised inside as one ``warning: ...`` line (once per message)."""
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = _one_line_warning
        yield


def run_reporting(func: Any, *args: Any) -> int:
    """Call ``func(*args)`` and turn any exception into a one-line report and an exit status."""
    try:
        return int(func(*args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - the last line of defence of the CLI
        report(exc)
        return 1
