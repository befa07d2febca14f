"""The helpers of the Python API: MACs, pxelinux names, the example."""

import pathlib

import pytest

import xenfab


def test_version_is_the_crate_version() -> None:
    assert isinstance(xenfab.__version__, str)
    assert xenfab.__version__.count(".") == 2


@pytest.mark.parametrize(
    ("ip", "mac"),
    [
        ("192.168.1.2", "00:16:3e:a8:01:02"),
        ("192.168.96.43", "00:16:3e:a8:60:2b"),
    ],
)
def test_derive_mac_xen_last3_is_the_default(ip: str, mac: str) -> None:
    assert xenfab.derive_mac(ip) == mac
    assert xenfab.derive_mac(ip, "xen-last3") == mac


def test_derive_mac_local_ipv4() -> None:
    assert xenfab.derive_mac("192.168.1.2", "local-ipv4") == "02:00:c0:a8:01:02"
    assert xenfab.derive_mac("192.168.1.2", scheme="local-ipv4") == "02:00:c0:a8:01:02"


@pytest.mark.parametrize("ip", ["192.168.1.256", "192.168.1", "", "fe80::1", "host.example.org"])
def test_derive_mac_rejects_a_bad_ip(ip: str) -> None:
    with pytest.raises(ValueError, match="invalid IPv4 address"):
        xenfab.derive_mac(ip)


def test_derive_mac_rejects_the_explicit_scheme() -> None:
    with pytest.raises(ValueError, match="`explicit` MAC scheme derives no address"):
        xenfab.derive_mac("192.168.1.2", "explicit")  # type: ignore[arg-type]


def test_derive_mac_rejects_an_unknown_scheme() -> None:
    with pytest.raises(ValueError, match="unknown MAC scheme `random`"):
        xenfab.derive_mac("192.168.1.2", "random")  # type: ignore[arg-type]


def test_hex_ip() -> None:
    assert xenfab.hex_ip("192.168.1.2") == "C0A80102"
    assert xenfab.hex_ip("10.0.0.1") == "0A000001"
    with pytest.raises(ValueError, match="invalid IPv4 address"):
        xenfab.hex_ip("10.0.0")


def test_pxelinux_name() -> None:
    assert xenfab.pxelinux_name("00:16:3e:a8:01:02") == "01-00-16-3e-a8-01-02"
    assert xenfab.pxelinux_name("00-16-3E-A8-60-2B") == "01-00-16-3e-a8-60-2b"
    with pytest.raises(ValueError, match="invalid MAC address"):
        xenfab.pxelinux_name("00:16:3e:a8:01")


def test_example_is_valid_without_warnings() -> None:
    text = xenfab.example()
    assert 'name = "ullr"' in text
    assert xenfab.Fabric.from_toml(text).validate() == []


def test_the_example_is_examples_seed_site() -> None:
    """The root's examples/seed-site.toml is a link to the file the crate embeds; an editor that
    replaced it with a copy would let the two drift apart."""
    root = pathlib.Path(__file__).resolve().parents[2]
    assert (root / "examples" / "seed-site.toml").read_text() == xenfab.example()
    assert (root / "xenfab-core" / "examples" / "seed-site.toml").read_text() == xenfab.example()


def test_all_names_exist() -> None:
    for name in xenfab.__all__:
        assert hasattr(xenfab, name)


def test_the_package_docstring_examples_run() -> None:
    import doctest

    assert doctest.testmod(xenfab).failed == 0
