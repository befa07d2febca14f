"""The exceptions of xenfab, raised by the native module ``xenfab._xenfab``.

They are defined in Python because :class:`ParseError` and :class:`ValidationError` are both
a :class:`XenfabError` and a :class:`ValueError` (as pydantic's ``ValidationError`` is), which
a native exception type cannot be.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from ._xenfab import Diagnostic

__all__ = ["ParseError", "RenderError", "ValidationError", "XenfabError"]


class XenfabError(Exception):
    """The base class of every error xenfab raises for bad input or a failed render."""


class ParseError(XenfabError, ValueError):
    """Input that is not well-formed: a syntax error, an unknown key, a value of the wrong
    type, or a kickstart file that cannot be made safe. The message names the place
    (``fabric.toml:20:8: …``, ``line 3: …``); :attr:`line` and :attr:`column` give it too."""

    line: int | None
    """The line of the input, counted from 1, or ``None`` where the error has no place in it
    (such as a mapping given to ``Fabric.from_dict``)."""

    column: int | None
    """The column in characters, counted from 1, or ``None`` where unknown."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


class ValidationError(XenfabError, ValueError):
    """A fabric that parses but has errors; :attr:`diagnostics` lists every diagnostic (its
    warnings too), and the message has one line each."""

    diagnostics: list[Diagnostic]
    """Every diagnostic of the fabric, errors and warnings, in file order."""

    def __init__(self, message: str, diagnostics: Sequence[Diagnostic] = ()) -> None:
        super().__init__(message)
        self.diagnostics = list(diagnostics)


class RenderError(XenfabError):
    """A valid fabric whose artefacts could not be rendered (a bug in xenfab)."""
