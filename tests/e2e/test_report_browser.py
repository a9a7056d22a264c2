"""The HTML data report renders in a real headless Chromium, offline, and reads as charts.

Needs Debian's `chromium` (.ci/run installs it; this test installs nothing and
skips when it is missing). The page is served by a loopback HTTP server this
test starts, and driven over the DevTools protocol (a websocket on 127.0.0.1):
every request the page makes is recorded, the drawn SVG bars are measured in
the live DOM, and a full-page screenshot is saved to tests/artifacts/report.png
(git-ignored; plus one image per report section) for a person to look at.
"""

from __future__ import annotations

import base64
import functools
import http.server
import json
import re
import shutil
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.conftest import run

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
# The flags of /work/.library/env/machines/python.md: no sandbox as root, and none of
# Chromium's own background traffic (which this machine's closed network refuses).
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
]
SECTIONS = (
    "funnel",
    "labels",
    "lengths",
    "sources",
    "scores",
    "annotation",
    "evaluation",
    "examples",
)


class _LoggingHandler(http.server.SimpleHTTPRequestHandler):
    requests: list[str]

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def do_GET(self):  # noqa: N802 - the base class's name
        self.requests.append(self.path)
        super().do_GET()


@pytest.fixture
def report_server(built_project):
    """The report folder on 127.0.0.1, with the list of paths requested from it."""
    folder = built_project / "data/processed/report"
    handler = functools.partial(
        type("H", (_LoggingHandler,), {"requests": []}), directory=str(folder)
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler.func.requests
    server.shutdown()
    server.server_close()


class DevTools:
    """The few DevTools-protocol calls this test needs, over one page's websocket."""

    def __init__(self, ws_url: str):
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise AssertionError(f"{method}: {msg['error']}")
                return msg["result"]
            self.events.append(msg)

    def wait_for(self, method: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            for msg in self.events[seen:]:
                if msg.get("method") == method:
                    return msg
            seen = len(self.events)
            self.events.append(json.loads(self.ws.recv()))
        raise AssertionError(f"no {method} within {timeout}s")

    def evaluate(self, expression: str):
        result = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        return result["result"].get("value")

    def screenshot(self, path: Path, clip: dict) -> None:
        shot = self.call(
            "Page.captureScreenshot",
            format="png",
            captureBeyondViewport=True,
            clip={**clip, "scale": 1},
        )
        path.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        self.ws.close()


@pytest.fixture
def browser(tmp_path):
    if CHROMIUM is None:
        pytest.skip(
            "Debian's chromium is not installed (.ci/run installs it: apt-get install -y chromium)"
        )
    pytest.importorskip(
        "websocket", reason="websocket-client (dev extra) drives Chromium's DevTools protocol"
    )
    profile = tmp_path / "profile"
    proc = subprocess.Popen(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.is_file() and port_file.read_text().strip()):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"chromium did not start its DevTools endpoint (exit {proc.poll()})"
                )
            time.sleep(0.2)
        port = int(port_file.read_text().splitlines()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as resp:
            pages = [t for t in json.load(resp) if t.get("type") == "page"]
        tools = DevTools(pages[0]["webSocketDebuggerUrl"])
        yield tools
        tools.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_report_renders_offline_in_chromium_with_charts_and_a_screenshot(
    built_project, report_server, browser
):
    base, served = report_server
    html = (built_project / "data/processed/report/index.html").read_text(encoding="utf-8")
    # Nothing in the page points off the machine (the SVG namespace is a name, never fetched).
    urls = set(re.findall(r"""(?:https?:)?//[^\s"'<>)]+""", html)) - {"http://www.w3.org/2000/svg"}
    assert urls == set()

    browser.call("Network.enable")
    browser.call("Page.enable")
    browser.call(
        "Emulation.setDeviceMetricsOverride",
        width=1280,
        height=900,
        deviceScaleFactor=1,
        mobile=False,
    )
    browser.call("Page.navigate", url=f"{base}/index.html")
    browser.wait_for("Page.loadEventFired")

    drawn = browser.evaluate(
        """(() => {
          const charts = [...document.querySelectorAll('svg.chart')];
          const bars = [...document.querySelectorAll('svg.chart rect.bar, svg.chart rect.cell')];
          const visible = bars.filter(r => { const b = r.getBBox(); return b.width > 0 && b.height > 0; });
          const label = (id) => [...document.querySelectorAll('#' + id + ' rect.bar')].map(r => r.dataset.label);
          return {
            charts: charts.length,
            sized: charts.filter(c => c.getBoundingClientRect().width > 100).length,
            bars: bars.length, visible: visible.length,
            sections: [...document.querySelectorAll('main section')].map(s => s.id),
            funnel: label('funnel'), evaluation_cells: document.querySelectorAll('#evaluation rect.cell').length,
            text: document.body.innerText,
            height: document.documentElement.scrollHeight,
          };
        })()"""
    )
    assert drawn["charts"] >= 12 and drawn["sized"] == drawn["charts"]
    assert drawn["visible"] >= 100, drawn["visible"]
    assert set(SECTIONS) <= set(drawn["sections"])
    assert {"ingest", "clean", "dedup", "quality", "split", "validate", "export"} <= set(
        drawn["funnel"]
    )
    assert (
        drawn["evaluation_cells"] >= 9 * 9
    )  # the leaf confusion matrix of the example's predictions
    assert "账户问题>账单>账单查询" in drawn["text"]  # Chinese labels reach the page as text

    requests = [
        e["params"]["request"]["url"]
        for e in browser.events
        if e.get("method") == "Network.requestWillBeSent"
    ]
    assert requests and all(u.startswith(base) or u.startswith("data:") for u in requests), requests
    assert served and {p.split("?")[0] for p in served} <= {"/index.html", "/favicon.ico"}, served

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.screenshot(
        ARTIFACTS / "report.png", {"x": 0, "y": 0, "width": 1280, "height": drawn["height"]}
    )
    for section in SECTIONS:
        box = browser.evaluate(
            f"JSON.stringify(document.getElementById('{section}').getBoundingClientRect())"
        )
        rect = json.loads(box)
        browser.screenshot(
            ARTIFACTS / f"report_{section}.png",
            {
                "x": 0,
                "y": rect["y"] + browser.evaluate("window.scrollY"),
                "width": 1280,
                "height": rect["height"],
            },
        )
    png = (ARTIFACTS / "report.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000

    # On a narrower screen nothing leaves its panel (long raw locators wrap).
    browser.call(
        "Emulation.setDeviceMetricsOverride",
        width=1024,
        height=900,
        deviceScaleFactor=1,
        mobile=False,
    )
    overflowing = browser.evaluate(
        """(() => [...document.querySelectorAll('main section')].flatMap(s => {
          const edge = s.getBoundingClientRect().right;
          return [...s.querySelectorAll('td, th')]
            .filter(e => e.getBoundingClientRect().right > edge + 0.5)
            .map(e => s.id + ': ' + e.textContent.slice(0, 60));
        }))()"""
    )
    assert overflowing == [], overflowing[:5]


def _drawn_plots(browser, timeout: float = 30) -> list[dict]:
    """Each DVC plot div with the size of what Vega drew in it (polled: vegaEmbed is async)."""
    script = """(() => [...document.querySelectorAll('body > div[id]')].map(d => {
        const m = d.querySelector('svg.marks, canvas.marks');
        const b = m ? m.getBoundingClientRect() : {width: 0, height: 0};
        return {id: d.id, width: Math.round(b.width), height: Math.round(b.height),
                marks: m ? m.querySelectorAll('path, rect, text').length : 0};
      }))()"""
    deadline = time.monotonic() + timeout
    plots = browser.evaluate(script)
    while time.monotonic() < deadline and not (plots and all(p["marks"] for p in plots)):
        time.sleep(0.5)
        plots = browser.evaluate(script)
    return plots


def test_dvc_plots_page_renders_offline_with_vega_inlined(built_project, browser, tmp_path):
    """`make plots` (python -m ftdata.plots): DVC's page with Vega inlined, network blocked."""
    declared = [
        next(iter(p)) for p in yaml.safe_load((built_project / "dvc.yaml").read_text())["plots"]
    ]
    run(["python", "-m", "ftdata.plots"], built_project)
    page = built_project / "dvc_plots/index.html"
    assert "<script src=" not in page.read_text(encoding="utf-8")
    assert (
        run(
            ["git", "check-ignore", "-q", "dvc_plots/index.html"], built_project, check=False
        ).returncode
        == 0
    )
    # DVC's own page, for contrast: it loads Vega from a CDN, so with the network blocked it is blank.
    run(["dvc", "plots", "show", "-o", str(tmp_path / "cdn")], built_project)

    browser.call("Network.enable")
    browser.call("Page.enable")
    browser.call("Runtime.enable")
    browser.call("Network.setBlockedURLs", urls=["http://*", "https://*"])
    browser.call(
        "Emulation.setDeviceMetricsOverride",
        width=1280,
        height=900,
        deviceScaleFactor=1,
        mobile=False,
    )

    browser.call("Page.navigate", url=(tmp_path / "cdn/index.html").as_uri())
    browser.wait_for("Page.loadEventFired")
    blank = _drawn_plots(browser, timeout=3)
    assert len(blank) == len(declared) and not any(p["marks"] for p in blank)

    browser.events.clear()
    browser.call("Page.navigate", url=page.as_uri())
    browser.wait_for("Page.loadEventFired")
    plots = _drawn_plots(browser)
    assert [p["id"] for p in plots] == declared  # each plot once, in dvc.yaml's order
    assert all(p["width"] > 100 and p["height"] > 100 and p["marks"] > 5 for p in plots), plots

    methods = [e.get("method") for e in browser.events]
    failed = [e["params"] for e in browser.events if e.get("method") == "Network.loadingFailed"]
    errors = [
        e["params"]
        for e in browser.events
        if e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] == "error"
    ]
    assert "Runtime.exceptionThrown" not in methods and not failed and not errors, (failed, errors)
    requests = [
        e["params"]["request"]["url"]
        for e in browser.events
        if e.get("method") == "Network.requestWillBeSent"
    ]
    assert all(u.startswith(("file://", "data:")) for u in requests), requests

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    height = browser.evaluate("document.documentElement.scrollHeight")
    browser.screenshot(
        ARTIFACTS / "dvc_plots.png", {"x": 0, "y": 0, "width": 1280, "height": height}
    )
