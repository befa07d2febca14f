"""``xenfab report --html``, drawn by a real browser (headless Chromium).

- The page of the example opens from ``file://`` and lays out as it says: a copy of it with a
  measuring script appended (the page itself has none) is loaded with ``--dump-dom``, which
  gives the box of every bar and bar segment as Chromium drew them. Each dom0 has its section
  with a memory bar and a bar a volume group; every segment is as wide as its share of its
  bar says, none is empty, and each bar's segments fill it.
- A screenshot of the page itself (``--screenshot``) is decoded (PNG, with zlib: no imaging
  package) and each bar colour is found in it, about as often as the boxes measured say.
- Warnings and hostile strings are shown as text, and the page fetches nothing.

Chromium is Debian's ``chromium`` (scripts/install-validators); missing, the tests fail, or
skip with ``XENFAB_SKIP_VALIDATORS=1``. The ``xenfab`` binary is ``target/debug/xenfab``
unless ``XENFAB`` names another.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
XENFAB = Path(os.environ.get("XENFAB", ROOT / "target" / "debug" / "xenfab"))
WIDTH = 1280

# The colours of the page's CSS classes (report.html.j2), as the screenshot has them.
COLOURS = {
    "hyp": (0x32, 0x3F, 0x4B),
    "dom0": (0x7B, 0x87, 0x94),
    "free": (0xC8, 0xE6, 0xC9),
    "g0": (0x4E, 0x79, 0xA7),
    "g1": (0xF2, 0x8E, 0x2B),
}

MEASURE = """
<script>
const bars = [];
for (const bar of document.querySelectorAll('.bar')) {
  const r = bar.getBoundingClientRect();
  const segs = [...bar.querySelectorAll('.seg')].map(s => {
    const q = s.getBoundingClientRect();
    return {cls: s.classList[1], x: q.left, w: q.width, h: q.height, style: s.style.width,
            text: s.textContent, title: s.title};
  });
  bars.push({section: bar.closest('section').id, name: bar.getAttribute('aria-label'),
             x: r.left, y: r.top + window.scrollY, w: r.width, h: r.height,
             inner: bar.clientWidth, segs});
}
const pre = document.createElement('pre');
pre.id = 'measured';
pre.textContent = JSON.stringify({height: document.documentElement.scrollHeight, bars});
document.body.appendChild(pre);
</script>
"""


def _require_chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        message = "chromium is missing: run scripts/install-validators"
        if os.environ.get("XENFAB_SKIP_VALIDATORS") == "1":
            pytest.skip(f"{message} (XENFAB_SKIP_VALIDATORS=1)")
        pytest.fail(message)
    return path


def xenfab(*args: str) -> subprocess.CompletedProcess[str]:
    if not XENFAB.exists():
        pytest.fail(f"{XENFAB} is missing: build it with `cargo build -p xenfab-cli`")
    return subprocess.run([str(XENFAB), *args], capture_output=True, text=True, check=False)


def chromium(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    """Headless Chromium, its profile and crash dumps kept in ``home`` (a test's tmp_path)."""
    argv = [_require_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
            "--hide-scrollbars", "--force-device-scale-factor=1", "--no-first-run",
            f"--user-data-dir={home / 'profile'}", *args]
    r = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120,
                       env={**os.environ, "HOME": str(home)})
    assert r.returncode == 0, r.stderr
    return r


def measure(page: Path, tmp_path: Path) -> dict:
    """The boxes Chromium draws for the bars of ``page``: a copy with MEASURE appended."""
    probe = tmp_path / "measure.html"
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", MEASURE + "</body>"),
                     encoding="utf-8")
    dom = chromium(f"--window-size={WIDTH},1000", "--dump-dom", probe.as_uri(),
                   home=tmp_path).stdout
    found = re.search(r'<pre id="measured">(.*?)</pre>', dom, re.S)
    assert found, dom[-2000:]
    text = found.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">")
    return json.loads(text.replace("&amp;", "&"))


def read_png(path: Path) -> tuple[int, int, list[bytes]]:
    """Width, height and rows of RGB pixels of an 8-bit RGB or RGBA PNG (what Chromium
    writes), every scanline filter undone."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert header is not None
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        prev = line
        if bpp == 4:
            rgb = bytearray(width * 3)
            rgb[0::3], rgb[1::3], rgb[2::3] = line[0::4], line[1::4], line[2::4]
            rows.append(bytes(rgb))
        else:
            rows.append(bytes(line))
    return width, height, rows


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, Path]:
    """The example's page, its measured boxes and a screenshot of all of it."""
    _require_chromium()
    tmp = tmp_path_factory.mktemp("report")
    page = tmp / "report.html"
    r = xenfab("report", "--example", "--html", str(page))
    assert r.returncode == 0, r.stderr
    boxes = measure(page, tmp)
    shot = tmp / "report.png"
    chromium(f"--window-size={WIDTH},{boxes['height']}", f"--screenshot={shot}", page.as_uri(),
             home=tmp)
    return page, boxes, shot


def test_each_dom0_has_its_bars_and_each_segment_its_share(example: tuple[Path, dict, Path]) -> None:
    _, boxes, _ = example
    bars = boxes["bars"]
    sections = Counter(b["section"] for b in bars)
    # each dom0 of the example: memory, systemvg, xenvg
    assert sections == {"dom0-1": 3, "dom0-2": 3, "dom0-3": 3}, sections
    names = [b["name"].split(",")[0] for b in bars]
    assert names == ["memory", "volume group systemvg", "volume group xenvg"] * 3, names
    guests = {"dom0-1": ["ullr", "vali"], "dom0-2": ["bragi", "skadi"], "dom0-3": ["idunn"]}
    for bar in bars:
        segs = bar["segs"]
        assert segs, bar
        assert bar["w"] > WIDTH / 2, f"{bar['name']}: a bar of {bar['w']}px"
        drawn = 0.0
        for s in segs:
            share = float(s["style"].rstrip("%")) / 100
            assert s["w"] > 0 and s["h"] >= 20, f"{bar['name']}: {s}"
            assert abs(s["w"] - share * bar["inner"]) <= 1.5, f"{bar['name']}: {s} of {bar['inner']}px"
            assert s["title"].startswith(s["text"].split(" ")[0]), s  # a label, not colour alone
            drawn += s["w"]
        assert abs(drawn - bar["inner"]) <= 2, f"{bar['name']}: {drawn} of {bar['inner']}px"
        assert segs[-1]["cls"] == "free", bar
        labels = [s["text"].rsplit(" ", 1)[0] for s in segs]
        if bar["name"].startswith("memory"):
            assert labels == ["hypervisor", "dom0", *guests[bar["section"]], "free"], labels


def test_the_screenshot_shows_the_bars_in_their_colours(example: tuple[Path, dict, Path]) -> None:
    _, boxes, shot = example
    width, height, rows = read_png(shot)
    assert (width, height) == (WIDTH, boxes["height"])
    wanted = {bytes(c): name for name, c in COLOURS.items()}
    seen: Counter[str] = Counter()  # pixels of each colour within the bars' boxes
    least: Counter[str] = Counter()  # what the segments measured must show of it at least
    most: Counter[str] = Counter()  # and at most
    everywhere = Counter(wanted.get(row[x:x + 3]) for row in rows for x in range(0, len(row), 3))
    for bar in boxes["bars"]:
        top, left = round(bar["y"]), round(bar["x"])
        for row in rows[top:top + round(bar["h"])]:
            for x in range(left * 3, (left + round(bar["w"])) * 3, 3):
                name = wanted.get(row[x:x + 3])
                if name:
                    seen[name] += 1
        for i, s in enumerate(bar["segs"]):
            if s["cls"] in COLOURS:
                # a white line parts it from the next, and its label's text takes some pixels;
                # a fractional edge blends with its neighbour
                line = 1 if i + 1 < len(bar["segs"]) else 0
                least[s["cls"]] += 0.7 * max(s["w"] - line, 0) * s["h"]
                most[s["cls"]] += (s["w"] + 1) * s["h"]
    for name in COLOURS:
        assert least[name] > 0, name
        assert least[name] <= seen[name] <= most[name], \
            f"{name}: {seen[name]} pixels in the bars, not {least[name]:.0f} to {most[name]:.0f}"
        # the legend's swatches and the guest table's show the same colours outside the bars
        assert everywhere[name] > seen[name], name
    # free memory and space take most of the example's bars, as in the picture
    assert seen["free"] > sum(seen.values()) / 2


def test_warnings_and_names_are_text(tmp_path: Path) -> None:
    _require_chromium()
    example = xenfab("example").stdout
    busy = example.replace('  memory = "1024M"\n  disks = [{ size = "20G" }]',
                           '  memory = "1024M"\n  vcpus = 8\n  disks = [{ size = "20G" }]', 1)
    assert busy != example
    fabric = tmp_path / "<img src=x onerror=alert(1)>.toml"
    fabric.write_text(busy, encoding="utf-8")
    page = tmp_path / "report.html"
    r = xenfab("report", str(fabric), "--html", str(page))
    assert r.returncode == 0, r.stderr
    html = page.read_text(encoding="utf-8")
    assert "<img" not in html and "<script" not in html
    dom = chromium(f"--window-size={WIDTH},1000", "--dump-dom", page.as_uri(),
                   home=tmp_path).stdout
    assert "<img" not in dom, "a file name became an element"
    assert "&lt;img src=x onerror=alert(1)&gt;.toml" in dom
    xen01 = dom.split('id="dom0-1"', 1)[1].split('id="dom0-2"', 1)[0]
    assert "vcpu-overcommit" in xen01 and "10 vCPUs on 8 CPUs" in xen01
    assert "vcpu-overcommit" not in dom.split('id="dom0-2"', 1)[1]
