"""The studio at scale, in real Chromium: the runs table scrolls over server pages with only the rows on
screen in the DOM and sorts by a metric on the server; a run page draws charts as they scroll into view;
an image metric logged at several steps shows one image per step behind a slider."""

from __future__ import annotations

import hashlib
import re
import struct
import urllib.request
import zlib
from typing import Any

import pytest

from tests.browser import seed
from tests.browser.conftest import Studio
from tests.browser.lab import LabServer

pytestmark = pytest.mark.browser

RUNS = 150
DASH = "\u2013"  # the count says "1\u201315 of 150"


def _dom_rows(table: Any) -> int:
    return int(table.locator("tbody tr[data-run-id]").count())


def _scroll_to(studio: Studio, experiment: str, where: str) -> None:
    region = studio.sidebar().get_by_role("region", name=f"Scrollable runs of experiment {experiment}")
    region.evaluate(f"e => {{ e.scrollTop = {where}; }}")


def _metric_cells(table: Any) -> list[float]:
    texts = table.locator("tbody tr[data-run-id] td.jp-aml-col-metric").all_inner_texts()
    return [float(t) for t in texts]


def test_runs_table_keeps_few_rows_in_the_dom_and_scrolls_to_the_last_run(studio: Studio) -> None:
    lab = studio.lab
    seed.ensure_workspace(lab)
    seed.many_runs(lab, "scale", RUNS, threads=8)
    table = studio.expand_experiment("scale")
    sidebar = studio.sidebar()
    sidebar.get_by_text(re.compile(rf"^1{DASH}\d+ of {RUNS}$")).wait_for()
    assert table.get_attribute("aria-rowcount") == str(RUNS + 1)
    assert 5 < _dom_rows(table) < 60  # a screenful and some overscan, not 50 per page nor all of them
    oldest = lab.get("workspaces/default/runs", experiment="scale", sort="created_at", page_size=1)["items"][0]

    # Scrolling to the end loads the pages up to it; the oldest run is the last row.
    _scroll_to(studio, "scale", "e.scrollHeight")
    last = table.locator(f"tbody tr[data-run-id='{oldest['id']}']")
    last.wait_for()
    assert last.get_attribute("aria-rowindex") == str(RUNS + 1)
    sidebar.get_by_text(re.compile(rf"^\d+{DASH}{RUNS} of {RUNS}$")).wait_for()
    assert _dom_rows(table) < 60
    studio.shot("runs-virtual.png")


def test_runs_table_sorts_by_a_metric_on_the_server_across_pages(studio: Studio) -> None:
    lab = studio.lab
    seed.ensure_workspace(lab)
    if not any(e["name"] == "scale" for e in lab.get("workspaces/default/experiments")["items"]):
        seed.many_runs(lab, "scale", RUNS, threads=8)
    table = studio.expand_experiment("scale")
    sidebar = studio.sidebar()
    sidebar.get_by_label("Metric column").fill("score")
    sidebar.get_by_label("Metric column").press("Enter")
    header = table.get_by_role("columnheader", name="score")
    header.get_by_role("button").click()
    studio.wait(lambda: header.get_attribute("aria-sort") == "descending")
    scores = sorted((((i * 7919) % 1000) / 1000 for i in range(RUNS)), reverse=True)
    first = table.locator("tbody tr[data-run-id] td.jp-aml-col-metric").first
    studio.wait(lambda: first.inner_text() == f"{scores[0]:g}")
    top = _metric_cells(table)
    assert top == sorted(top, reverse=True) and top == scores[: len(top)]
    studio.shot("runs-metric-sorted.png")
    # The far end of the list, loaded page by page from the server, continues the order.
    _scroll_to(studio, "scale", "e.scrollHeight")
    sidebar.get_by_text(re.compile(rf"^\d+{DASH}{RUNS} of {RUNS}$")).wait_for()
    studio.wait(lambda: _metric_cells(table)[-1:] == [scores[-1]])
    bottom = _metric_cells(table)
    assert bottom == scores[-len(bottom):]
    # Ascending on the second click.
    header.get_by_role("button").click()
    studio.wait(lambda: header.get_attribute("aria-sort") == "ascending")
    studio.wait(lambda: first.inner_text() == f"{scores[-1]:g}")


def test_run_page_draws_charts_as_they_scroll_into_view(studio: Studio) -> None:
    lab, page = studio.lab, studio.page
    seed.ensure_workspace(lab)
    run = seed.interactive_run(lab, "lazy-charts")
    journal = seed.Journal(lab, run["id"])
    names = [f"m_{i:02d}" for i in range(40)]
    for name in names:
        for step in range(5):
            journal.scalar(name, step * 0.5, step)
    journal.flush()
    seed.set_status(lab, run["id"], "Completed")
    studio.run_command("aml:open-run", {"runId": run["id"], "workspace": "default", "tab": "metrics"})
    charts = page.get_by_role("img", name=re.compile(r"^Chart of m_"))
    charts.first.wait_for()
    page.wait_for_timeout(300)
    drawn = charts.count()
    assert 0 < drawn < len(names)  # the charts below the fold wait
    last = page.get_by_role("region", name="Metric m_39")
    assert last.get_by_role("img").count() == 0
    last.scroll_into_view_if_needed()
    last.get_by_role("img", name=re.compile(r"^Chart of m_39: 5 points")).wait_for()


def _png(rgb: tuple[int, int, int], size: int = 8) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def _put_blob(lab: LabServer, data: bytes) -> str:
    sha = hashlib.sha256(data).hexdigest()
    req = urllib.request.Request(f"{lab.url}/aml/api/v1/workspaces/default/blobs/{sha}", data=data, method="PUT")
    req.add_header("Authorization", f"token {lab.token}")
    req.add_header("Content-Type", "application/octet-stream")
    with urllib.request.urlopen(req, timeout=60):
        pass
    return sha


def test_image_slider_shows_the_image_of_each_step(studio: Studio) -> None:
    lab, page = studio.lab, studio.page
    seed.ensure_workspace(lab)
    run = seed.interactive_run(lab, "image-steps")
    journal = seed.Journal(lab, run["id"])
    colours = [(200, 30, 30), (30, 160, 30), (30, 30, 200), (220, 180, 0)]
    hashes = [_put_blob(lab, _png(c)) for c in colours]
    for sha in hashes:  # what run.log_image("pred", plot=plt) once per epoch records
        journal.add("i", "pred", sha256=sha, path="logs/images/pred.png")
    journal.flush()
    seed.set_status(lab, run["id"], "Completed")
    studio.run_command("aml:open-run", {"runId": run["id"], "workspace": "default", "tab": "metrics"})
    card = page.get_by_role("region", name="Metric pred")
    slider = card.get_by_role("slider", name="Step of pred")
    slider.wait_for()
    image = card.get_by_role("img", name=re.compile(r"^pred at step 3 "))
    image.wait_for()  # the newest step first
    assert card.get_by_text("Step 3 (4 of 4)").count() == 1

    def pixel() -> list[int]:
        return [int(v) for v in card.locator("img").evaluate(
            "img => { const c = document.createElement('canvas'); c.width = c.height = 1;"
            " const g = c.getContext('2d'); g.drawImage(img, 0, 0, 1, 1);"
            " return [...g.getImageData(0, 0, 1, 1).data]; }"
        )[:3]]

    studio.wait(lambda: pixel() == list(colours[3]))
    slider.focus()
    page.keyboard.press("Home")
    card.get_by_role("img", name=re.compile(r"^pred at step 0 ")).wait_for()
    studio.wait(lambda: card.locator("img").evaluate("i => i.complete && i.naturalWidth > 0"))
    assert pixel() == list(colours[0])
    page.keyboard.press("ArrowRight")
    card.get_by_role("img", name=re.compile(r"^pred at step 1 ")).wait_for()
    studio.wait(lambda: card.locator("img").evaluate("i => i.complete && i.naturalWidth > 0") and pixel() == list(
        colours[1]))
    studio.shot("image-slider.png")
