"""The pictures in a real browser: the HTML reports and SVG diagrams opened in headless Chromium
(Debian's `chromium` package; no driver, no download). For each page: no console message at all
(the pages have no script, so any message is the browser complaining: a blocked fetch, bad markup),
every layer of the spec in the page, and the diagram's boxes measured where Chromium drew them: no
two overlap, and every line of text lies inside its box (the layout guesses text widths; this checks
the guess against a real font). Screenshots go to artifacts/screenshots/ for CI to keep.

Without Chromium the tests skip, unless PARAMCALC_REQUIRE_BROWSER=1 (CI sets it): then they fail."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from paramcalc.cli import cli
from tests.conftest import ROOT, SPECS, run_file

SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--mute-audio"]
TIMEOUT = 120  # seconds for one browser run (a loaded CI machine is slow to start Chromium)


def find_browser() -> str | None:
    for name in CANDIDATES:
        found = shutil.which(name) or (f"/usr/bin/{name}" if os.access(f"/usr/bin/{name}", os.X_OK) else None)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser() -> str:
    found = find_browser()
    if found is None:
        if os.environ.get("PARAMCALC_REQUIRE_BROWSER") == "1":
            pytest.fail("PARAMCALC_REQUIRE_BROWSER=1 but no Chromium was found (install it: apt-get install -y "
                        "chromium)", pytrace=False)
        pytest.skip("no Chromium (apt-get install -y chromium); PARAMCALC_REQUIRE_BROWSER=1 makes this a failure")
    return found


def run_browser(browser: str, url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="paramcalc-chromium-") as profile:
        return subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", *extra, url], capture_output=True,
                              text=True, timeout=TIMEOUT, check=False)


def console_messages(stderr: str) -> list[str]:
    """The page's console messages in Chromium's log (`...:INFO:CONSOLE:1] "message", source: ...`)."""
    return [line for line in stderr.splitlines() if re.search(r":CONSOLE[:(]", line)]


def open_page(browser: str, path: Path) -> tuple[str, list[str]]:
    """The page's DOM after loading, and its console messages."""
    done = run_browser(browser, path.as_uri(), "--enable-logging=stderr", "--v=0", "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, console_messages(done.stderr)


# Run in a copy of the page (the page itself has no script, and its policy forbids one): writes the
# rectangles Chromium drew for every box, and for every line of text, into the DOM.
MEASURE = """<script>
const boxes = [];
for (const g of document.querySelectorAll("g.layer")) {
  const r = g.querySelector("rect").getBoundingClientRect();
  const texts = [...g.querySelectorAll("text")].map(t => { const b = t.getBoundingClientRect();
    return [b.left, b.top, b.right, b.bottom]; });
  boxes.push({name: g.dataset.name, rect: [r.left, r.top, r.right, r.bottom], texts});
}
const out = document.createElement("pre");
out.id = "paramcalc-measured";
out.textContent = JSON.stringify(boxes);
document.body.appendChild(out);
</script>"""


def measured(browser: str, page: str, folder: Path) -> list[dict]:
    """The boxes of the diagram in `page` (HTML text, or an SVG document) as Chromium lays them out."""
    if page.lstrip().startswith("<svg"):
        page = f"<!DOCTYPE html><html><body style='margin:0'>{page}</body></html>"
    page = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page)
    copy = folder / "measured.html"
    copy.write_text(page.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    dom, _ = open_page(browser, copy)
    found = re.search(r'<pre id="paramcalc-measured">(.*?)</pre>', dom, re.S)
    assert found, "the measuring script did not run"
    return list(json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&")))


def overlapping(boxes: list[dict]) -> list[tuple[str, str]]:
    rects = sorted(((b["rect"], b["name"]) for b in boxes), key=lambda item: item[0][1])
    pairs = []
    for i, (a, name_a) in enumerate(rects):
        for b, name_b in rects[i + 1:]:
            if b[1] >= a[3]:
                break
            if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
                pairs.append((name_a, name_b))
    return pairs


def text_outside(boxes: list[dict], slack: float = 0.5) -> list[str]:
    return [b["name"] for b in boxes for t in b["texts"]
            if t[0] < b["rect"][0] - slack or t[2] > b["rect"][2] + slack
            or t[1] < b["rect"][1] - slack or t[3] > b["rect"][3] + slack]


def output_of(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code in (0, 1), result.output
    return result.stdout


def screenshot(browser: str, path: Path, name: str, size: str = "1280,2000") -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / f"{name}.png"
    shot.unlink(missing_ok=True)
    done = run_browser(browser, path.as_uri(), f"--screenshot={shot}", f"--window-size={size}")
    assert done.returncode == 0 and shot.exists() and shot.stat().st_size > 10_000, done.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return shot


# (screenshot name, spec, the command's arguments, the layers to find in the page)
PAGES = [
    ("lenet5_summary", "lenet5.yaml", ["summary", "--format", "html"]),
    ("resnet50_summary", "resnet50.yaml", ["summary", "--format", "html"]),
    ("googlenet_summary_depth1", "googlenet.yaml", ["summary", "--format", "html", "--depth", "1"]),
]


@pytest.mark.parametrize("name, spec, args", PAGES, ids=[p[0] for p in PAGES])
def test_summary_page_in_chromium(browser, tmp_path, name, spec, args):
    text = output_of(*args, str(SPECS / spec))
    path = tmp_path / f"{name}.html"
    path.write_text(text, encoding="utf-8")
    dom, console = open_page(browser, path)
    assert console == []
    report = run_file(spec)
    depth = int(args[args.index("--depth") + 1]) if "--depth" in args else None
    from paramcalc.report import display_rows

    shown = [row.name for row in display_rows(report, depth)]
    for layer in shown:
        assert f'data-name="{layer}"' in dom, layer
    boxes = measured(browser, text, tmp_path)
    assert {b["name"] for b in boxes} == set(shown) | set(report.inputs)
    assert overlapping(boxes) == []
    assert text_outside(boxes) == []
    screenshot(browser, path, name)


@pytest.mark.parametrize("spec", ["lenet5.yaml", "resnet50.yaml", "unet.yaml", "densenet121.yaml"])
def test_svg_diagram_in_chromium(browser, tmp_path, spec):
    name = spec.removesuffix(".yaml")
    path = tmp_path / f"{name}.svg"
    result = CliRunner().invoke(cli, ["draw", str(SPECS / spec), "-o", str(path)])
    assert result.exit_code == 0, result.output
    dom, console = open_page(browser, path)
    assert console == []
    report = run_file(spec)
    for layer in [*report.inputs, *(row.name for row in report.rows)]:
        assert f'data-name="{layer}"' in dom, layer
    boxes = measured(browser, path.read_text(encoding="utf-8"), tmp_path)
    assert len(boxes) == len(report.rows) + len(report.inputs)
    assert overlapping(boxes) == []
    assert text_outside(boxes) == []
    if spec in ("lenet5.yaml", "resnet50.yaml"):
        screenshot(browser, path, f"{name}_diagram", "1100,2400")


def test_sweep_and_check_pages_in_chromium(browser, tmp_path):
    pages = {
        "mobilenet_v1_sweep": output_of("summary", "--format", "html", "--set", "alpha=0.25,0.5,0.75,1",
                                        "--set", "res=128,160,192,224", str(SPECS / "mobilenet_v1.yaml")),
        "check_failures": output_of("check", "--format", "html", str(SPECS / "lenet5.yaml"),
                                    "tests/cases/golden/lenet5_drifted.yaml"),
    }
    for name, text in pages.items():
        path = tmp_path / f"{name}.html"
        path.write_text(text, encoding="utf-8")
        dom, console = open_page(browser, path)
        assert console == [] and "<table" in dom
        screenshot(browser, path, name, "1280,1500")
    # the sweep's plot: a point per combination
    assert pages["mobilenet_v1_sweep"].count('class="point"') == 16


def test_sweep_and_grid_plots_in_chromium(browser, tmp_path):
    for name, args in (("mobilenet_v1_sweep_plot", ["summary", "--set", "alpha=0.25,0.5,0.75,1", "--set",
                                                    "res=128,160,192,224", str(SPECS / "mobilenet_v1.yaml")]),
                       ("compare_grid_plot", ["compare", "--in", "32,64,128", "--out", "32,64,128,256,512",
                                              "--kernel", "3,5,7", "--size", "56"])):
        path = tmp_path / f"{name}.svg"
        output_of(*args, "--plot", str(path))
        dom, console = open_page(browser, path)
        assert console == [] and 'class="point"' in dom
        screenshot(browser, path, name, "780,1010")


def test_the_console_check_can_fail(browser, tmp_path):
    """The checks above would see a blocked fetch or a script error: this page has both."""
    path = tmp_path / "bad.html"
    path.write_text("<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
                    "'none'\"></head><body><img src=\"http://example.invalid/a.png\"></body></html>", encoding="utf-8")
    _, console = open_page(browser, path)
    assert console and "Content Security Policy" in console[0]


def test_the_geometry_checks_can_fail():
    boxes = [{"name": "a", "rect": [0, 0, 10, 10], "texts": [[1, 1, 12, 5]]},
             {"name": "b", "rect": [5, 5, 15, 15], "texts": []}]
    assert overlapping(boxes) == [("a", "b")] and text_outside(boxes) == ["a"]
