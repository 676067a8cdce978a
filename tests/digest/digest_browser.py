"""A tiny DevTools-protocol driver for Debian's headless Chromium (test helper, not a test).

Headless Chromium will not make a window narrower than 500 px, so phone widths need device
emulation over the DevTools protocol (`Emulation.setDeviceMetricsOverride`). The port comes
from the DevToolsActivePort file Chromium writes into its profile folder.
"""

from __future__ import annotations

import base64
import contextlib
import json
import subprocess
import time
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

CHROMIUM = Path("/usr/bin/chromium")
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
    "--remote-debugging-port=0",
    "--remote-allow-origins=*",
]

MEASURE_JS = """(() => {
  const doc = document.documentElement;
  return {
    innerWidth: window.innerWidth,
    clientWidth: doc.clientWidth,
    scrollWidth: Math.max(doc.scrollWidth, document.body.scrollWidth),
    scrollHeight: Math.max(doc.scrollHeight, document.body.scrollHeight),
    images: [...document.images].map(i => ({
      alt: i.alt, complete: i.complete, naturalWidth: i.naturalWidth,
      renderedWidth: i.getBoundingClientRect().width,
    })),
    widest: Math.max(...[...document.querySelectorAll('body *')].map(e => e.getBoundingClientRect().right)),
  };
})()"""


class Chromium:
    """One headless Chromium process, driven over the DevTools protocol."""

    def __init__(self, profile: Path, timeout_s: float = 30.0) -> None:
        self.timeout_s = timeout_s
        self.proc = subprocess.Popen(
            [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout_s
        while not port_file.exists() or len(port_file.read_text().split()) < 2:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.proc.kill()
                raise RuntimeError("chromium did not start its DevTools endpoint")
            time.sleep(0.05)
        port, path = port_file.read_text().split()[:2]
        self.ws = connect(f"ws://127.0.0.1:{port}{path}", max_size=None, open_timeout=timeout_s)
        self._id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        self._id += 1
        request: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session:
            request["sessionId"] = session
        self.ws.send(json.dumps(request))
        deadline = time.monotonic() + self.timeout_s
        while True:
            reply = json.loads(self.ws.recv(timeout=max(deadline - time.monotonic(), 0.1)))
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, event: str, session: str) -> None:
        deadline = time.monotonic() + self.timeout_s
        while True:
            for i, seen in enumerate(self.events):
                if seen.get("method") == event and seen.get("sessionId") == session:
                    del self.events[i]
                    return
            self.events.append(json.loads(self.ws.recv(timeout=max(deadline - time.monotonic(), 0.1))))

    def open(self, url: str, width: int, height: int = 900) -> str:
        """A new tab emulating a `width` px wide screen (a phone below 600 px), loaded with `url`."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.send("Page.enable", session=session)
        self.resize(session, width, height)
        self.send("Page.navigate", {"url": url}, session)
        self.wait_for("Page.loadEventFired", session)
        return session

    def resize(self, session: str, width: int, height: int) -> None:
        metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600}
        self.send("Emulation.setDeviceMetricsOverride", metrics, session)

    def measure(self, session: str) -> dict[str, Any]:
        result = self.send("Runtime.evaluate", {"expression": MEASURE_JS, "returnByValue": True}, session)
        return result["result"]["value"]

    def screenshot(self, session: str, path: Path, width: int) -> Path:
        """The whole page at `width` px: the viewport is grown to the page's height first."""
        height = min(int(self.measure(session)["scrollHeight"]), 10000)
        self.resize(session, width, height)
        data = self.send("Page.captureScreenshot", {"format": "png"}, session)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.send("Browser.close")
        with contextlib.suppress(Exception):
            self.ws.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
