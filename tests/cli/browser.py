"""Headless Chromium (the system package) driven over the DevTools protocol on a pipe.

No browser download and no websocket: `--remote-debugging-pipe` makes Chromium read commands
from fd 3 and write replies and events to fd 4, each a JSON object ended by a NUL byte. A page is
loaded with the network, console and log domains on, so a test sees every request the page makes,
every console message and every error Chromium logs for it (a blocked load, a CSP violation).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--remote-debugging-pipe",
)


@dataclass
class PageVisit:
    text: str  # document.body.innerText: what a person can read
    screenshot: bytes  # PNG
    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    errors: list[str] = field(default_factory=list)  # console errors, exceptions, logged errors
    overflow: int = 0  # pixels the page is wider than the viewport (horizontal scrolling)


class Browser:
    def __init__(self) -> None:
        self.profile = tempfile.mkdtemp(prefix="aligner-chromium-")
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        # bash, not sh: dash redirects only one-digit descriptors, and under pytest they are not
        command = f'exec "$0" "$@" 3<&{to_child_r} 4>&{from_child_w}'
        self.process = subprocess.Popen(
            ["/bin/bash", "-c", command, str(CHROMIUM), *FLAGS, f"--user-data-dir={self.profile}"],
            pass_fds=(to_child_r, from_child_w),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._next_id = 0
        self._inbox: queue.Queue[dict[str, Any]] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.events: list[dict[str, Any]] = []

    def _read(self) -> None:
        buffer = b""
        with os.fdopen(self._from_child, "rb", buffering=0) as pipe:
            while chunk := pipe.read(65536):
                buffer += chunk
                while b"\0" in buffer:
                    message, buffer = buffer.split(b"\0", 1)
                    self._inbox.put(json.loads(message))

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + 30
        while True:
            reply = self._inbox.get(timeout=max(0.1, deadline - time.monotonic()))
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30) -> dict[str, Any]:
        for event in self.events:
            if event.get("method") == method:
                return event
        deadline = time.monotonic() + timeout
        while True:
            event = self._inbox.get(timeout=max(0.1, deadline - time.monotonic()))
            self.events.append(event)
            if event.get("method") == method:
                return event

    def settle(self, seconds: float = 0.5) -> None:
        """Collect what arrives in the next moment (late console messages, subresources)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                self.events.append(self._inbox.get(timeout=left))
            except queue.Empty:
                return

    def visit(self, url: str, width: int = 1280, height: int = 900) -> PageVisit:
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Network", "Runtime", "Log", "Page"):
            self.send(f"{domain}.enable", session)
        self._viewport(session, width, height)
        self.events.clear()
        self.send("Page.navigate", session, url=url)
        self.wait_for("Page.loadEventFired")
        self.settle()
        text = self._evaluate(session, "document.body.innerText")
        overflow = self._evaluate(
            session, "document.documentElement.scrollWidth - window.innerWidth"
        )
        # the whole page in one viewport: frames below the fold are painted only when visible
        full = int(self._evaluate(session, "document.documentElement.scrollHeight"))
        self._viewport(session, width, max(height, full))
        self.settle(0.3)
        shot = self.send("Page.captureScreenshot", session, format="png")
        visit = PageVisit(str(text), base64.b64decode(shot["data"]), overflow=int(overflow))
        for event in self.events:
            if event.get("sessionId") != session:
                continue
            params = event.get("params", {})
            method = event.get("method")
            if method == "Network.requestWillBeSent":
                visit.requests.append(params["request"]["url"])
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                visit.errors.append(" ".join(str(a.get("value")) for a in params.get("args", [])))
            elif method == "Runtime.exceptionThrown":
                visit.errors.append(str(params["exceptionDetails"].get("text")))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                visit.errors.append(str(params["entry"].get("text")))
        self.send("Target.closeTarget", targetId=target)
        return visit

    def _viewport(self, session: str, width: int, height: int) -> None:
        self.send(
            "Emulation.setDeviceMetricsOverride",
            session,
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=width < 600,
        )

    def _evaluate(self, session: str, expression: str) -> Any:
        reply = self.send("Runtime.evaluate", session, expression=expression, returnByValue=True)
        return reply["result"].get("value")

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, queue.Empty, OSError):
            self.send("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_child)
        shutil.rmtree(self.profile, ignore_errors=True)
