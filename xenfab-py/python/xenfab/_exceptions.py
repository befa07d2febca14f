"""The exceptions of xenfab, raised by the native module ``xenfab._xenfab``.

They are defined in Python because :class:`ParseError` and :class:`ValidationError` are both
a :class:`XenfabError` and a :class:`ValueError` (as pydantic's ``ValidationError`` is), which
a native exception type cannot be.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

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

    path: str | None
    """The field of a mapping given to ``Fabric.from_dict`` that is wrong, such as
    ``"dom0s[0].guests[1]"`` (the message names it too), or ``None`` where the error is not
    about one field, or not about a mapping."""

    def __init__(
        self,
        message: str,
        line: int | None = None,
        column: int | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.line = line
        self.column = column
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        # An exception pickles its `args`, the message alone: the place goes with it.
        return (type(self), (str(self), self.line, self.column, self.path), self.__dict__)


class ValidationError(XenfabError, ValueError):
    """A fabric that parses but has errors; :attr:`diagnostics` lists every diagnostic (its
    warnings too), and the message has one line each."""

    diagnostics: list[Diagnostic]
    """Every diagnostic of the fabric, errors and warnings, in file order."""

    def __init__(self, message: str, diagnostics: Sequence[Diagnostic] = ()) -> None:
        super().__init__(message)
        self.diagnostics = list(diagnostics)

    def __reduce__(self) -> tuple[Any, ...]:
        # An exception pickles its `args`, the message alone: the diagnostics go with it.
        return (type(self), (str(self), self.diagnostics), self.__dict__)


class RenderError(XenfabError):
    """A valid fabric whose artefacts could not be rendered (a bug in xenfab)."""
