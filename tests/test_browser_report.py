"""The report in a real browser: headless Chromium renders it, runs nothing, fetches nothing.

Chromium loads a report with every kind of audit and hostile strings in model names,
parameters and test ids. Its dumped DOM must hold every section and no script or
image element; its console must stay silent (a blocked fetch or inline script would
be logged as a Content-Security-Policy violation); its network log must show no
request made by the page (Chromium's own background requests, whose initiator is
"not an origin", are not the page's). Skips when no Chromium is installed (CI
installs Debian's ``chromium`` package).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from report_samples import HOSTILE, document, every_kind

from pytest_mlaudit.report import html

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-quic", "--disable-extensions", "--disable-default-apps",
    "--no-pings", "--host-resolver-rules=MAP * ~NOTFOUND", "--enable-logging=stderr", "--v=0",
)


def find_browser() -> str | None:
    return next((path for path in map(shutil.which, BROWSERS) if path), None)


@pytest.fixture(scope="module")
def browser() -> str:
    path = find_browser()
    if path is None:
        pytest.skip(f"no headless browser found (looked for {', '.join(BROWSERS)}): apt-get install chromium")
    return path


@pytest.fixture(scope="module")
def rendered(browser, tmp_path_factory):
    """The report as Chromium leaves it: dumped DOM, console lines, page requests, screenshot."""
    directory = tmp_path_factory.mktemp("browser")
    report = directory / "audit.html"
    report.write_text(html.render(document()), encoding="utf-8")
    dom = run(browser, directory, "dom", "--dump-dom", f"--log-net-log={directory / 'net.json'}", report.as_uri())
    shot = run(browser, directory, "shot", f"--screenshot={directory / 'audit.png'}", "--window-size=1280,2000",
               report.as_uri())
    console = [line for result in (dom, shot) for line in result.stderr.splitlines() if ":CONSOLE" in line]
    return {"dom": dom.stdout, "console": console, "requests": page_requests(directory / "net.json"),
            "screenshot": directory / "audit.png"}


def run(browser: str, directory: Path, name: str, *arguments: str) -> subprocess.CompletedProcess:
    profile = directory / f"profile-{name}"
    return subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", *arguments],
                          capture_output=True, text=True, timeout=120, check=True)


def page_requests(net_log: Path) -> list[str]:
    """URLs of the requests the page made, from Chromium's network log."""
    log = json.loads(net_log.read_text())
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    starts = [event.get("params", {}) for event in log["events"] if event["type"] == start_job]
    return [params["url"] for params in starts if "url" in params and params.get("initiator") != "not an origin"]


def parse(dom: str):
    from test_report_html import Elements

    return Elements(dom)


def test_summary_and_every_section_are_in_the_rendered_page(rendered):
    page = parse(rendered["dom"])
    ids = {attrs.get("id") for _, attrs in page.tags}
    assert {"summary", "requirements", "models", "audits", "published", "datasets", "environment", "methodology"} <= ids
    assert {f"audit-{n}" for n in range(1, len(every_kind()) + 1)} <= ids
    assert len(page.named("svg")) == 6
    assert "Executive summary" in "".join(page.text)


def test_hostile_strings_show_as_text_and_never_run(rendered):
    page = parse(rendered["dom"])
    assert page.named("script") == [] and page.named("img") == []
    assert not [attrs for _, attrs in page.tags if any(name.startswith("on") for name in attrs)]
    text = "".join(page.text)
    for hostile in HOSTILE:
        assert hostile in text


def test_console_stays_silent(rendered):
    assert rendered["console"] == []


def test_page_makes_no_network_request(rendered):
    assert rendered["requests"] == []


def test_screenshot_is_taken(rendered):
    assert rendered["screenshot"].stat().st_size > 10_000
    assert rendered["screenshot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
