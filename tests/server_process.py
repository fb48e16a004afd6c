"""Run `emostudio serve` as a child process on a free loopback port (for the load script and live tests)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


class ServerProcess:
    """`python -m emostudio serve --host 127.0.0.1 --port P ARGS...`, stopped (SIGTERM, then SIGKILL) on exit.

    >>> with ServerProcess(["--model", "demo", "--outputs", "out"]) as srv:
    ...     urllib.request.urlopen(srv.url + "/readyz")
    """

    def __init__(
        self,
        args: list[str],
        *,
        port: int | None = None,
        log_path: str | os.PathLike | None = None,
        ready_timeout_s: float = 120.0,
        env: dict | None = None,
    ):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = ["--host", "127.0.0.1", "--port", str(self.port), *args]
        self.log_path = Path(log_path) if log_path else None
        self.ready_timeout_s = ready_timeout_s
        self.env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", **(env or {})}
        self.proc: subprocess.Popen | None = None
        self._log: IO[bytes] | None = None  # the server's output file, when log_path is given

    def __enter__(self) -> ServerProcess:
        self._log = open(self.log_path, "wb") if self.log_path else None  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "emostudio", "serve", *self.args],
            stdout=subprocess.DEVNULL if self._log is None else self._log,
            stderr=subprocess.STDOUT,
            env=self.env,
        )
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def readyz(self) -> tuple[int, dict]:
        try:
            with urllib.request.urlopen(self.url + "/readyz", timeout=5) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def wait_ready(self) -> dict:
        if self.proc is None:
            raise RuntimeError("the server is not started (use `with ServerProcess(...) as server:`)")
        deadline = time.monotonic() + self.ready_timeout_s
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with code {self.proc.returncode}{self._tail()}")
            try:
                status, body = self.readyz()
                last = body
                if status == 200:
                    return body
                if body.get("state") in ("missing", "failed"):
                    return body
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise TimeoutError(
            f"server not ready after {self.ready_timeout_s:.0f} s (last /readyz: {last}){self._tail()}"
        )

    def _tail(self) -> str:
        if self.log_path and self.log_path.exists():
            return "\n--- server log ---\n" + self.log_path.read_text(errors="replace")[-3000:]
        return ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self._log is not None:
            self._log.close()
            self._log = None
