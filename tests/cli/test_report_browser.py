"""report.html in a real browser: headless Chromium opens it, any console error or Content-Security-Policy
violation fails the test, and a screenshot of the top is saved next to the report.

Chromium is driven over the DevTools protocol on a pipe (--remote-debugging-pipe: fd 3 in, fd 4 out,
NUL-separated JSON), so no extra Python package is needed. Skipped with the reason when no Chromium is
installed; .ci/run installs the `chromium` package where apt-get is available, so CI runs it.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from helpers.run_folder import XSS, write_default_four
from leakhunt.report.build import build_outputs

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
CHROMIUM_ENV = "LEAKHUNT_CHROMIUM"
VIEWPORT = (1280, 2000)
TIMEOUT_S = 60.0
SETTLE_S = 0.5  # after the load event: late console messages (CSP reports are queued) still arrive


def find_chromium() -> str | None:
    explicit = os.environ.get(CHROMIUM_ENV)
    if explicit:
        return explicit if Path(explicit).is_file() else shutil.which(explicit)
    return next((path for path in map(shutil.which, CHROMIUM_NAMES) if path), None)


CHROMIUM = find_chromium()
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason=f"no Chromium found (looked for {', '.join(CHROMIUM_NAMES)} on PATH and ${CHROMIUM_ENV}); "
           "install the `chromium` package (.ci/run does where apt-get is available) to run the browser check")


class Browser:
    """Just enough of the DevTools protocol: commands, events, one page."""

    def __init__(self, binary: str, profile: Path):
        command_read, self._command_write = os.pipe()
        self._event_read, event_write = os.pipe()

        def child_pipes() -> None:  # the protocol's fixed descriptors: 3 (commands in), 4 (replies out)
            commands, replies = os.dup(command_read), os.dup(event_write)
            os.dup2(commands, 3)
            os.dup2(replies, 4)

        self.process = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
             "--no-default-browser-check", "--hide-scrollbars", "--remote-debugging-pipe",
             f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            # close_fds=False: pass_fds would require 3 and 4 to be open here; Python's own descriptors are
            # not inheritable (PEP 446), so only the two dup2'd ones reach Chromium.
            preexec_fn=child_pipes, close_fds=False)
        os.close(command_read)
        os.close(event_write)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []
        self.session: str | None = None

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no message from Chromium in time")
            ready, _, _ = select.select([self._event_read], [], [], left)
            if ready:
                chunk = os.read(self._event_read, 1 << 20)
                if not chunk:
                    raise EOFError("Chromium closed the DevTools pipe")
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, params: dict | None = None, page: bool = True) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if page and self.session:
            message["sessionId"] = self.session
        os.write(self._command_write, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def open_page(self, width: int, height: int) -> None:
        target = self.send("Target.createTarget", {"url": "about:blank"}, page=False)["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True},
                                 page=False)["sessionId"]
        for domain in ("Runtime.enable", "Log.enable", "Page.enable"):
            self.send(domain)
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})

    def load(self, url: str) -> None:
        self.events.clear()
        self.send("Page.navigate", {"url": url})
        deadline = time.monotonic() + TIMEOUT_S
        while not any(event.get("method") == "Page.loadEventFired" for event in self.events):
            self.events.append(self._read(deadline))
        settle = time.monotonic() + SETTLE_S
        while True:
            try:
                self.events.append(self._read(settle))
            except TimeoutError:
                break

    def evaluate(self, expression: str):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return result["result"].get("value")

    def problems(self) -> list[str]:
        """Console errors and warnings, CSP violations, uncaught exceptions seen since the last load."""
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Log.entryAdded":
                entry = params.get("entry", {})
                if entry.get("level") in ("error", "warning") or entry.get("source") in ("security", "violation"):
                    found.append(f"{entry.get('source')} {entry.get('level')}: {entry.get('text')}")
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning", "assert"):
                found.append(f"console.{params.get('type')}: {params.get('args')}")
            elif method == "Runtime.exceptionThrown":
                found.append(f"exception: {params.get('exceptionDetails', {}).get('text')}")
        return found

    def screenshot(self, path: Path) -> None:
        shot = self.send("Page.captureScreenshot", {"format": "png"})
        path.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        try:
            self.send("Browser.close", page=False)
            self.process.wait(timeout=10)
        except Exception:  # noqa: BLE001 - whatever state it is in, it must not outlive the test
            self.process.kill()
            self.process.wait(timeout=10)
        finally:
            os.close(self._command_write)
            os.close(self._event_read)


@pytest.fixture
def browser(tmp_path: Path):
    opened = Browser(CHROMIUM, tmp_path / "chromium-profile")
    try:
        try:
            opened.open_page(*VIEWPORT)
        except (EOFError, TimeoutError, OSError) as error:
            # A stub that is no browser (Ubuntu's snap wrapper without snapd) is as good as none.
            pytest.skip(f"Chromium at {CHROMIUM} did not start a DevTools session: {error}")
        yield opened
    finally:
        opened.close()


@needs_chromium
def test_report_html_renders_in_chromium_without_console_errors_or_csp_violations(tmp_path: Path, browser):
    root = write_default_four(tmp_path / "run", iterations=600, names={"saved-model": f"saved{XSS}"})
    build_outputs(root, formats=("json", "md", "html"))
    browser.load((root / "report.html").as_uri())
    screenshot = root / "report.png"
    browser.screenshot(screenshot)
    print(f"screenshot: {screenshot}")
    assert browser.problems() == []
    assert browser.evaluate("document.scripts.length") == 0
    assert browser.evaluate("document.title") == "leakhunt report"
    # Every plot rendered with a real size (inline SVG scaled by CSS), the recommendation on top.
    sizes = browser.evaluate("[...document.querySelectorAll('svg.plot')].map(s => [s.getBoundingClientRect().width,"
                             " s.getBoundingClientRect().height])")
    assert len(sizes) == 5 and all(width > 600 and height > 100 for width, height in sizes), sizes
    top = browser.evaluate("document.getElementById('recommendation').getBoundingClientRect().top")
    assert 0 < top < 200
    assert "Use persistent" in browser.evaluate("document.getElementById('recommendation').innerText")
    assert XSS in browser.evaluate("document.body.innerText")  # shown as text, not run
    assert screenshot.stat().st_size > 10_000


@needs_chromium
def test_the_browser_check_sees_a_csp_violation(tmp_path: Path, browser):
    """The check above can fail: a page that breaks its own CSP is caught."""
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" '
                    "content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\"></head>"
                    '<body><img src="https://example.invalid/x.png"><script>console.log(1)</script></body></html>',
                    encoding="utf-8")
    browser.load(page.as_uri())
    problems = browser.problems()
    assert any("Content Security Policy" in problem for problem in problems), problems
