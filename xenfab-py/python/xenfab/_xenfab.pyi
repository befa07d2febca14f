"""Type stubs of the native module ``xenfab._xenfab``; use it through :mod:`xenfab`."""

from typing import Literal, TypedDict

__version__: str

class Diagnostic(TypedDict):
    """One problem with a fabric, as :func:`validate` returns it (a plain ``dict`` at runtime)."""

    severity: Literal["error", "warning"]
    """``"error"`` stops rendering; ``"warning"`` does not."""
    code: str
    """The stable, kebab-case name of the rule, such as ``"ip-outside-network"``."""
    path: str
    """The field it is about, such as ``"dom0s[xen01].guests[ullr].ip"``; ``""`` for the whole fabric."""
    message: str
    """What is wrong, in lower case."""
    file: str | None
    """The file, as ``origin`` named it, or ``None`` where the field was not located."""
    line: int | None
    """The line, counted from 1, or ``None`` where unknown."""
    column: int | None
    """The column in characters, counted from 1, or ``None`` where unknown."""

def derive_mac(ip: str, scheme: Literal["xen-last3", "local-ipv4"] = "xen-last3") -> str: ...
def hex_ip(ip: str) -> str: ...
def pxelinux_name(mac: str) -> str: ...
def example() -> str: ...
def validate(text: str, origin: str = "<string>") -> list[Diagnostic]: ...
