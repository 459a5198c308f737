"""`--format html` of summary, compare and check: one self-contained page (nothing fetched at view
time) holding the table, the share bars, the diagram, the conventions and the warnings; check's page
has expected against got with the spec's line. (tests/test_browser.py opens them in Chromium.)"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner

from paramcalc.cli import cli
from paramcalc.render.html_report import summary_page
from tests.conftest import SPECS, run_file, run_text

DRIFTED = "tests/cases/golden/lenet5_drifted.yaml"


class Page(HTMLParser):
    """What a page holds: the elements' attributes, the text, and every URL it would fetch."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def names(self, tag: str, css: str) -> list[str]:
        return [a.get("data-name") or "" for t, a in self.tags if t == tag and css in (a.get("class") or "").split()]

    def fetched(self) -> list[str]:
        return [value or "" for _, attrs in self.tags for key, value in attrs.items()
                if key in ("src", "href", "xlink:href", "action", "srcset")]


def html(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, [*args, "--format", "html"])
    return result.exit_code, result.stdout


@pytest.mark.parametrize("spec", ["lenet5.yaml", "resnet50.yaml", "googlenet.yaml", "bert_base.yaml"])
def test_summary_page_holds_every_layer_in_the_table_and_the_diagram(spec):
    code, text = html("summary", str(SPECS / spec))
    assert code == 0
    page = Page(text)
    report = run_file(spec)
    layers = [row.name for row in report.rows]
    assert page.names("tr", "layer") == layers  # the table, in order
    assert set(page.names("g", "layer")) == set(layers) | set(report.inputs)  # the diagram
    assert not page.fetched() and "<script" not in text and "@import" not in text
    assert not re.search(r"url\((?!#)", text)  # only references inside the page
    assert "default-src 'none'" in text  # and the browser is told to fetch nothing


def test_share_bars_give_each_layers_share():
    text = summary_page(run_file("lenet5.yaml"))
    # conv2d_1: 240,000 of 416,520 MACs (the golden summary's figures) = 57.6%; 2,416 of 61,706 params = 3.9%
    row = re.search(r'<tr class="layer" data-name="conv2d_1">.*?</tr>', text)
    assert row is not None
    assert re.findall(r'class="pct">([0-9.]+%)', row.group(0)) == ["57.6%", "3.9%"]
    assert 'style="width:100.00%"' in row.group(0)  # the heaviest layer's bar is full


def test_summary_page_has_totals_conventions_and_warnings():
    code, text = html("summary", "tests/cases/golden/alexnet_224.yaml")
    assert code == 0
    assert "<h2>Counting conventions</h2>" in text and "fvcore" in text and "torchinfo" in text
    assert "<h2>Warnings</h2>" in text and "floor" in text.lower()
    assert "Total params" in text


def test_folded_summary_page_shows_blocks():
    code, text = html("summary", "--depth", "1", str(SPECS / "resnet50.yaml"))
    assert code == 0
    assert "stack.bottleneck" in Page(text).names("tr", "block")


def test_summary_page_with_free_dimensions_says_why_the_conventions_are_missing():
    text = summary_page(run_text("input: [H, W, 3]\nlayers:\n  - Conv2D: {filters: 4, kernel_size: 3}\n"))
    assert "free dimensions" in text and "<h2>Diagram</h2>" in text


def test_summary_page_under_a_convention_has_its_column():
    code, text = html("summary", "--convention", "fvcore", str(SPECS / "resnet18.yaml"))
    assert code == 0 and "MACs (fvcore)" in text


@pytest.mark.parametrize("args", [("compare", str(SPECS / "mobilenet_v1.yaml")),
                                  ("compare", "--in", "32,64", "--out", "64", "--kernel", "3", "--size", "56"),
                                  ("compare", str(SPECS / "lenet5.yaml"), str(SPECS / "lenet5_rgb.yaml")),
                                  ("summary", "--set", "alpha=1,0.5", str(SPECS / "mobilenet_v1.yaml"))])
def test_compare_and_sweep_pages_hold_their_table(args):
    code, text = html(*args)
    assert code == 0 and text.startswith("<!DOCTYPE html>") and "<table>" in text
    assert not Page(text).fetched()


def test_check_page_shows_passes_and_failures_with_the_spec_line():
    code, text = html("check", str(SPECS / "lenet5.yaml"), DRIFTED)
    assert code == 1  # the exit code is check's, whatever the format
    page = Page(text)
    statuses = [a.get("data-status") for t, a in page.tags if t == "section"]
    assert statuses == ["pass", "fail"]
    # the drifted spec expects 61,700 params on its line 16; the model has 61,706
    failing = re.search(r'<tr class="fail"><td>params</td>.*?</tr>', text)
    assert failing is not None
    assert "61,700" in failing.group(0) and "61,706" in failing.group(0)
    assert "line 16:" in failing.group(0) and "<code>params: 61700</code>" in failing.group(0)


def test_check_page_of_an_unreadable_spec_shows_its_error(spec_file):
    path = spec_file("input: [8]\nlayers:\n  - Dense: {units: -1}\n")
    code, text = html("check", path)
    assert code == 2 and 'data-status="error"' in text and "spec.yaml:3" in text


def test_compare_pages_show_the_models_diagrams():
    code, text = html("compare", str(SPECS / "lenet5.yaml"), str(SPECS / "lenet5_rgb.yaml"))
    assert code == 0 and text.count('class="paramcalc-diagram"') == 2
    code, text = html("compare", str(SPECS / "mobilenet_v1.yaml"))
    assert code == 0 and text.count('class="paramcalc-diagram"') == 1
    assert set(Page(text).names("g", "layer")) >= {row.name for row in run_file("mobilenet_v1.yaml").rows}
    code, text = html("compare", "--in", "32", "--out", "64", "--kernel", "3", "--size", "28")
    assert code == 0 and "paramcalc-diagram" not in text  # a grid has no model
