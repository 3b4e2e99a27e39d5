"""Studio benchmarks (``AML_BROWSER_BENCH=1 pytest -p no:cacheprovider tests/browser/bench_studio.py``).

Seeds through the REST API (interactive runs and journal batches, no scripts): 10,000 runs; a run with 20
metrics x 1,000,000 points; a run with 100 metrics; 20 runs of 1,000,000 points each; a run with an image
per step. Then measures in headless Chromium, timing inside the page (``performance.now()``, polled every
4 ms) so that Playwright's round trips are not in the figures:

- the sidebar's runs table: first paint, click to rows, the rows in the DOM, sorting by a metric (<= 200 ms),
  and scrolling to the 10,000th run;
- a run page with 100 metrics (<= 1 s to the charts on screen), and one with 20 x 1M points;
- comparing 20 runs of 1M points each (first chart <= 300 ms) and the server's downsampled history;
- the image slider: a step change to its image drawn.

Figures go to benchmarks/studio.md. AML_BENCH_ROOT keeps the seeded store between invocations.
"""

from __future__ import annotations

import math
import os
import platform
import statistics
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.browser import seed
from tests.browser.conftest import Studio
from tests.browser.lab import CHROMIUM, REPO, LabServer
from tests.browser.test_studio_scale import _png, _put_blob

pytestmark = [
    pytest.mark.browser,
    pytest.mark.timeout(3600),  # seeding 40M points through the REST API takes minutes
    pytest.mark.skipif(os.environ.get("AML_BROWSER_BENCH") != "1", reason="set AML_BROWSER_BENCH=1"),
]

RUNS = int(os.environ.get("AML_BENCH_RUNS", "10000"))
METRICS = int(os.environ.get("AML_BENCH_METRICS", "20"))
POINTS = int(os.environ.get("AML_BENCH_POINTS", "1000000"))
WIDE = 100  # metrics on the wide run page
WIDE_POINTS = 1000
COMPARED = 20
IMAGES = 30
REPEAT = 5
VIEWPORT = {"width": 1400, "height": 860}

# Every chart card that has come into view has drawn its chart (and at least one has).
SEEN_CHARTS_DRAWN = (
    "(() => { const cards = [...document.querySelectorAll('.jp-aml-MetricCard[data-seen=\"true\"]')]"
    ".filter(c => (c.getAttribute('aria-label') || '').startsWith('Metric metric_'));"
    " return cards.length > 0 && cards.every(c => { const i = c.querySelector('[role=img][data-points]');"
    " return i && +i.dataset.points > 0; }); })()"
)
FIRST_COMPARE_CHART = (
    "(() => { const p = document.querySelector('.jp-aml-ComparePanel');"
    " const i = p && p.querySelector('[role=img][data-points]'); return !!i && +i.dataset.points > 0; })()"
)


def _timed(page: Any, action: str, done: str, timeout_ms: int = 60_000) -> float:
    """Milliseconds from ``action`` (JS statements) until ``done`` (a JS expression) holds, timed in the page."""
    script = f"""async () => {{
        const t0 = performance.now();
        {action}
        while (!({done})) {{
            if (performance.now() - t0 > {timeout_ms}) {{ return -1; }}
            await new Promise(r => setTimeout(r, 4));
        }}
        return performance.now() - t0;
    }}"""
    value = float(page.evaluate(script))
    if value < 0:
        raise AssertionError(f"not done in {timeout_ms} ms: {done}")
    return value


def _command(command: str, args: dict[str, Any]) -> str:
    import json

    return f"window.jupyterapp.commands.execute({json.dumps(command)}, {json.dumps(args)});"


def _measure(page: Any, name: str) -> float | None:
    values = page.evaluate(f"performance.getEntriesByName('{name}').map(e => e.duration)")
    return values[-1] if values else None


def _secs(value: float | None) -> str:
    return "(reused from AML_BENCH_ROOT)" if value is None else f"{value:.0f} s"


def _fmt(values: list[float]) -> str:
    clean = [v for v in values if not math.isnan(v)]
    if not clean:
        return "n/a"
    return f"{statistics.median(clean):.0f} ms (min {min(clean):.0f}, max {max(clean):.0f}, n={len(clean)})"


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} / {five:.2f}"


def _find(lab: LabServer, experiment: str, display_name: str) -> dict[str, Any] | None:
    try:
        page = lab.get("workspaces/default/runs", experiment=experiment, page_size=100)
    except Exception:  # the experiment does not exist yet
        return None
    return next((r for r in page["items"] if r["display_name"] == display_name), None)


def _series(lab: LabServer, run_id: str, name: str, points: int, offset: float) -> None:
    journal = seed.Journal(lab, run_id, stream=name)
    t0 = time.time() - points
    for step in range(points):
        value = math.sin(step / 5000 + offset) + 0.1 * math.sin(step * 1.7) + (1.0 if step == points // 3 else 0.0)
        journal.add("m", name, value, s=step, t=t0 + step)
    journal.flush()


def _compare_runs(lab: LabServer) -> tuple[list[str], float | None]:
    """COMPARED runs with one metric of POINTS points each (reused when an earlier invocation left them)."""
    found = [_find(lab, "bench-compare", f"loss-{i:02d}") for i in range(COMPARED)]
    if all(r is not None and r["status"] == "Completed" for r in found):
        return [r["id"] for r in found if r is not None], None
    start = time.monotonic()
    runs = [seed.interactive_run(lab, "bench-compare", display_name=f"loss-{i:02d}") for i in range(COMPARED)]

    def fill(i: int) -> None:
        with seed.heartbeats(lab, runs[i]["id"]):
            _series(lab, runs[i]["id"], "loss", POINTS, i / 3)
        seed.set_status(lab, runs[i]["id"], "Completed")

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(fill, range(COMPARED)))
    return [r["id"] for r in runs], time.monotonic() - start


def _wide_run(lab: LabServer) -> dict[str, Any]:
    run = _find(lab, "bench-wide", f"{WIDE}x{WIDE_POINTS}")
    if run is not None and run["status"] == "Completed":
        return run
    run = seed.interactive_run(lab, "bench-wide", display_name=f"{WIDE}x{WIDE_POINTS}")
    journal = seed.Journal(lab, run["id"])
    for m in range(WIDE):
        for step in range(WIDE_POINTS):
            journal.scalar(f"metric_{m:03d}", math.sin(step / 50 + m), step)
    journal.flush()
    seed.set_status(lab, run["id"], "Completed")
    return run


def _image_run(lab: LabServer) -> dict[str, Any]:
    run = _find(lab, "bench-images", f"{IMAGES} steps")
    if run is not None and run["status"] == "Completed":
        return run
    run = seed.interactive_run(lab, "bench-images", display_name=f"{IMAGES} steps")
    journal = seed.Journal(lab, run["id"])
    for i in range(IMAGES):
        sha = _put_blob(lab, _png((i * 8 % 256, 255 - i * 8 % 256, 90), 256))
        journal.add("i", "pred", sha256=sha, path="logs/images/pred.png")
    journal.flush()
    seed.set_status(lab, run["id"], "Completed")
    return run


@pytest.fixture(scope="module")
def seeded(lab: LabServer) -> dict[str, Any]:
    seed.ensure_workspace(lab)
    have = {e["name"]: e["run_count"] for e in lab.get("workspaces/default/experiments")["items"]}
    runs_seconds: float | None = None
    if have.get("bench-runs", 0) < RUNS:
        runs_seconds = seed.many_runs(lab, "bench-runs", RUNS - have.get("bench-runs", 0), threads=8)
    run = seed.find_big_metrics_run(lab, "bench-metrics", metrics=METRICS, points=POINTS)
    metrics_seconds: float | None = None
    if run is None:
        run, metrics_seconds = seed.big_metrics_run(lab, "bench-metrics", metrics=METRICS, points=POINTS)
    compared, compare_seconds = _compare_runs(lab)
    return {"run": run, "runs_seconds": runs_seconds, "metrics_seconds": metrics_seconds,
            "compared": compared, "compare_seconds": compare_seconds, "wide": _wide_run(lab),
            "images": _image_run(lab)}


def _page(browser: Any, lab: LabServer, tmp_path: Any, name: str) -> tuple[Any, Studio]:
    context = browser.new_context(viewport=VIEWPORT)
    studio = Studio(context.new_page(), lab, tmp_path)
    studio.page.set_default_timeout(120_000)
    studio.open(name)
    return context, studio


def _bench_sidebar(browser: Any, lab: LabServer, tmp_path: Any, r: dict[str, Any]) -> None:
    paint, click_to_rows, dom_rows, sorts = [], [], [], []
    rows_ready = ("document.querySelectorAll('[aria-label=\"Runs of experiment bench-runs\"] tbody tr[data-run-id]')"
                  ".length > 5")
    for i in range(REPEAT):
        context, studio = _page(browser, lab, tmp_path, f"bench-sidebar-{i}")
        sidebar = studio.sidebar()
        sidebar.get_by_role("button", name="Experiment bench-runs", exact=True).wait_for()
        click = "document.querySelector('[aria-label=\"Experiment bench-runs\"]').click();"
        click_to_rows.append(_timed(studio.page, click, rows_ready))
        studio.page.wait_for_timeout(200)
        paint.append(_measure(studio.page, "aml:runs-first-paint") or float("nan"))
        dom_rows.append(studio.page.locator("[aria-label='Runs of experiment bench-runs'] tbody tr").count())
        if i == 0:
            sidebar.get_by_label("Metric column").fill("score")
            sidebar.get_by_label("Metric column").press("Enter")
            cell = "document.querySelector('[aria-label=\"Runs of experiment bench-runs\"] td.jp-aml-col-metric')"
            studio.wait(lambda s=studio, c=cell: s.page.evaluate(f"!!{c} && /\\d/.test({c}.textContent)"))
            header = ("[...document.querySelectorAll('[aria-label=\"Runs of experiment bench-runs\"] th')]"
                      ".find(t => t.textContent.startsWith('score')).querySelector('button').click();")
            for k in range(2 * REPEAT):  # descending (best first), then ascending, and again
                expected, order = ("0.999", "descending") if k % 2 == 0 else ("0", "ascending")
                done = (f"(() => {{ const c = {cell}; const th = [...document.querySelectorAll("
                        f"'[aria-label=\"Runs of experiment bench-runs\"] th[aria-sort=\"{order}\"]')];"
                        f" return th.length === 1 && c && c.textContent === '{expected}'; }})()")
                sorts.append(_timed(studio.page, header, done))
            studio.shot("bench-sidebar.png")
            region = "document.querySelector('[aria-label=\"Scrollable runs of experiment bench-runs\"]')"
            r["scroll_end"] = _timed(
                studio.page, f"{region}.scrollTop = {region}.scrollHeight;",
                f"/{RUNS:,} of {RUNS:,}$/.test(document.querySelector('.jp-aml-Runs-count').textContent)"
                f" && !document.querySelector('[aria-label=\"Runs of experiment bench-runs\"] tr.jp-aml-mod-pending')",
                timeout_ms=120_000)
            r["dom_rows_end"] = studio.page.locator("[aria-label='Runs of experiment bench-runs'] tbody tr").count()
        context.close()
    server = []
    for k in range(REPEAT):
        start = time.perf_counter()
        lab.get("workspaces/default/runs", experiment="bench-runs", root_only="true", page_size=50, metrics="score",
                sort="-metric:score" if k % 2 == 0 else "metric:score")
        server.append((time.perf_counter() - start) * 1000)
    r.update(paint=paint, click_to_rows=click_to_rows, dom_rows=dom_rows, sorts=sorts, sort_server=server)


def _bench_run_page(browser: Any, lab: LabServer, tmp_path: Any, run_id: str, key: str, r: dict[str, Any]) -> None:
    opened, measured, drawn = [], [], []
    for i in range(3):
        context, studio = _page(browser, lab, tmp_path, f"bench-{key}-{i}")
        action = _command("aml:open-run", {"runId": run_id, "workspace": "default", "tab": "metrics"})
        opened.append(_timed(studio.page, action, SEEN_CHARTS_DRAWN))
        studio.page.wait_for_timeout(200)
        measured.append(_measure(studio.page, "aml:run-charts-ready") or float("nan"))
        drawn.append(studio.page.locator("[role=img][data-points]").count())
        if i == 0:
            studio.shot(f"bench-{key}.png")
        context.close()
    r[key] = {"opened": opened, "measured": measured, "drawn": drawn}


def _bench_compare(browser: Any, lab: LabServer, tmp_path: Any, ids: list[str], r: dict[str, Any]) -> None:
    first = []
    for i in range(3):
        context, studio = _page(browser, lab, tmp_path, f"bench-compare-{i}")
        first.append(_timed(studio.page, _command("aml:compare-runs", {"workspace": "default", "runIds": ids}),
                            FIRST_COMPARE_CHART))
        if i == 0:
            studio.page.wait_for_timeout(300)
            studio.shot("bench-compare.png")
        context.close()
    r["compare"] = first
    server = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        history = lab.get(f"workspaces/default/runs/{ids[0]}/metrics/loss", max_points=1000)
        server.append((time.perf_counter() - start) * 1000)
    r["history"] = server
    r["history_points"] = (len(history["values"]), history["total"])


def _bench_images(browser: Any, lab: LabServer, tmp_path: Any, run_id: str, r: dict[str, Any]) -> None:
    context, studio = _page(browser, lab, tmp_path, "bench-images")
    studio.run_command("aml:open-run", {"runId": run_id, "workspace": "default", "tab": "metrics"})
    slider = studio.page.get_by_role("slider", name="Step of pred")
    slider.wait_for()
    steps = []
    for step in (0, 10, 20, 5, 29):
        action = ("const s = document.querySelector('[aria-label=\"Step of pred\"]');"
                  " const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;"
                  f" set.call(s, '{step}'); s.dispatchEvent(new Event('input', {{bubbles: true}}));")
        done = ("(() => { const i = [...document.querySelectorAll('img')]"
                f".find(i => i.alt.startsWith('pred at step {step} '));"
                " return !!i && i.complete && i.naturalWidth > 0; })()")
        steps.append(_timed(studio.page, action, done))
    studio.shot("bench-images.png")
    context.close()
    r["images"] = steps


def test_bench_studio(browser: Any, lab: LabServer, seeded: dict[str, Any], tmp_path: Any) -> None:
    r: dict[str, Any] = {"load_start": _load()}
    _bench_sidebar(browser, lab, tmp_path, r)
    _bench_run_page(browser, lab, tmp_path, seeded["wide"]["id"], "wide", r)
    _bench_run_page(browser, lab, tmp_path, seeded["run"]["id"], "big", r)
    _bench_compare(browser, lab, tmp_path, seeded["compared"], r)
    _bench_images(browser, lab, tmp_path, seeded["images"]["id"], r)
    r["load_end"] = _load()
    write_report(seeded, r)
    assert statistics.median(r["dom_rows"]) < 80, r["dom_rows"]  # virtualized: a screenful, not 10,000
    # The time targets are reported in benchmarks/studio.md, not asserted (a benchmark, not a timed test).


NOTES = """
## What bounds the figures that miss

Profiled with the page's resource timings on the same store (`performance.getEntriesByType('resource')`
around `aml:compare-runs`, load average 7-9 while other engineers' benchmarks ran):

- **Compare 20 runs**: the page sends 60 requests: 20 `GET runs/ID`, 20 `GET runs/ID/metrics` (summaries)
  and 20 histories, at most 4 loads at a time through the live store's load queue, and the chart is drawn
  when all 20 histories are in. A history now costs the server 23-29 ms (min / median from Python) instead
  of 70-90 ms, but under this load every request takes 80-700 ms in the browser: the service is one Python
  process, and the 60 requests queue for it while it shares 2 cores with the other engineers' work. The page
  also starts its first request about 430 ms after the command while the sidebar's own first requests (a
  freshly opened JupyterLab) are still in flight; on a settled page the same comparison drew in 1.5 s at load
  8.9. What would meet 300 ms: one request for a comparison (the summaries and downsampled histories of N
  runs in one answer, a batch route), so that the page costs 2-3 requests instead of 60. Left for later.
- **100-metric run page**: 1.0 s, of which 440 ms (`aml:run-charts-ready`) is the metrics tab loading its
  summaries and the 6 charts on screen; the rest is opening the run page (the widget, the run, its lineage)
  in a JupyterLab page that has just loaded. Only the charts on screen are fetched (6 of 100).
"""


def _met(values: list[float], target: float) -> str:
    return "met" if statistics.median(values) <= target else "NOT met"


def write_report(seeded: dict[str, Any], r: dict[str, Any]) -> None:
    try:
        chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        chromium = "chromium"
    wide, big = r["wide"], r["big"]
    shown, total = r["history_points"]
    text = f"""# Studio benchmarks

Measured by `AML_BROWSER_BENCH=1 pytest -p no:cacheprovider tests/browser/bench_studio.py` on
{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {chromium} (headless),
JupyterLab served from the same machine. Date: {time.strftime("%Y-%m-%d %H:%M")}. Load average (1 / 5 min)
{r["load_start"]} at the start, {r["load_end"]} at the end (other engineers' work shares the 2 cores).

Times are taken inside the page (`performance.now()` from the action until the result is on screen, polled
every 4 ms), so Playwright's round trips are not in them.

Seeding through the REST API (no scripts run): {RUNS:,} interactive runs in {_secs(seeded["runs_seconds"])};
one run with {METRICS} metrics x {POINTS:,} points in {_secs(seeded["metrics_seconds"])}; {COMPARED} runs of
one metric x {POINTS:,} points in {_secs(seeded["compare_seconds"])}; a run with {WIDE} metrics x
{WIDE_POINTS:,} points; a run with {IMAGES} images, one per step.

## Sidebar: an experiment with {RUNS:,} runs (one virtual scrolling list over server pages)

| what | median |
|---|---|
| first paint after the runs response (`aml:runs-first-paint`, target <= 500 ms) | {_fmt(r["paint"])} |
| click on the experiment to its rows on screen | {_fmt(r["click_to_rows"])} |
| rows in the DOM for {RUNS:,} runs (a screenful plus overscan) | {statistics.median(r["dom_rows"]):.0f} |
| sort by a metric's last value, click to the new first row with its value (target <= 200 ms) | {_fmt(r["sorts"])} |
| the sorted page's request alone (`GET runs?sort=-metric:score&metrics=score&page_size=50`, from Python) | \
{_fmt(r["sort_server"])} |
| scroll to the end: pages loaded up to run {RUNS:,} ({r["dom_rows_end"]} rows in the DOM there) | \
{r["scroll_end"]:.0f} ms |

Sorting by a metric: {_met(r["sorts"], 200)}. One request (`sort=-metric:score&metrics=score`) brings the
order and the column's values; the metric column used to send one summaries request per row.

## Run pages (charts below the fold are drawn as they scroll into view)

| what | median |
|---|---|
| {WIDE} metrics x {WIDE_POINTS:,} points: `aml:open-run` to the charts on screen drawn (target <= 1 s) | \
{_fmt(wide["opened"])} |
| the same, metrics tab mounted to those charts drawn (`aml:run-charts-ready`) | {_fmt(wide["measured"])} |
| charts drawn on opening, of {WIDE} | {statistics.median(wide["drawn"]):.0f} |
| {METRICS} metrics x {POINTS:,} points: `aml:open-run` to the charts on screen drawn | {_fmt(big["opened"])} |
| the same, `aml:run-charts-ready` | {_fmt(big["measured"])} |

The {WIDE}-metric page: {_met(wide["opened"], 1000)}.

## Compare {COMPARED} runs of {POINTS:,} points each

| what | median |
|---|---|
| `aml:compare-runs` to the first chart drawn (target <= 300 ms) | {_fmt(r["compare"])} |
| `GET .../metrics/loss?max_points=1000` of one 1M-point series (the server's answer: {shown:,} of \
{total:,} points) | {_fmt(r["history"])} |

First chart: {_met(r["compare"], 300)}. The server reads the series' stored min/max rollups (one row per
8,192-point chunk at 1,024 points per block, core/metric_rollups.py) plus the raw points of the chunk still
filling, instead of all 1,000,000 points (70-90 ms per series before).

## Image slider ({IMAGES} images of 256 x 256, one per step)

| what | median |
|---|---|
| move the slider to another step until its image is drawn | {_fmt(r["images"])} |
""" + NOTES
    (REPO / "benchmarks").mkdir(exist_ok=True)
    (REPO / "benchmarks" / "studio.md").write_text(text)
