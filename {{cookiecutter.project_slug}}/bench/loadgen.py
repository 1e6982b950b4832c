"""Real servers and wrk: one server worker pinned to one core, the load generator to another.

Standard library only, so that tools outside the project's environment (the template
repository's `make bench-compare`) can drive servers with it too. Install wrk with your system's
package manager: `apt-get install wrk` (Debian, Ubuntu), `brew install wrk` (macOS). Without
wrk, a small Python load generator stands in so the HTTP modes still run end to end; its
figures are far below what the servers can do and are labelled as such.
"""

from __future__ import annotations

import http.client
import itertools
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

SERVER_CPU = "0"
LOAD_CPU = "1"
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}
MAX_VARIANTS = 256  # header sets wrk rotates through (session tokens, API keys ...)
# Each request carries the next header set, as if from another client behind a trusted proxy
# (16,384 addresses in turn): per-IP rate limits run with their shipped budgets and no single
# client exhausts them. wrk runs LuaJIT (Lua 5.1).
_SCRIPT = """
local variants = { VARIANTS }
local n = 0
request = function()
  n = n % 16384 + 1
  for name, value in pairs(variants[n % #variants + 1]) do wrk.headers[name] = value end
  wrk.headers["X-Forwarded-For"] = string.format("10.0.%d.%d", math.floor(n / 256), n % 256)
  return wrk.format()
end
"""


def _lua_string(value: str) -> str:
    level = "="
    while f"]{level}]" in value:
        level += "="
    return f"[{level}[{value}]{level}]"


def lua_script(variants: Sequence[Mapping[str, str]]) -> str:
    """The wrk script sending `variants` in turn, each with another X-Forwarded-For."""
    tables = (
        "{" + ", ".join(f"[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in headers.items()) + "}"
        for headers in (variants or [{}])[:MAX_VARIANTS]
    )
    return _SCRIPT.replace("VARIANTS", ", ".join(tables), 1)


def wrk_path() -> str | None:
    return shutil.which("wrk")


def pinned(command: Sequence[str], cpu: str) -> list[str]:
    """Prefix `taskset -c cpu` when there are two cores or more and taskset exists."""
    taskset = shutil.which("taskset")
    if taskset is None or (os.cpu_count() or 1) < 2:
        return list(command)
    return [taskset, "-c", cpu, *command]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def python_server(kind: str, python: str, target: str, port: int, factory: bool = False) -> list[str]:
    """The command serving an ASGI app with one worker: kind is "uvicorn" or "granian"."""
    if kind == "uvicorn":
        command = [python, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port", str(port)]
        command += ["--workers", "1", "--no-access-log", "--log-level", "warning"]
    elif kind == "granian":
        command = [python, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port)]
        command += ["--workers", "1", "--runtime-threads", "1", "--log-level", "warning", target]
    else:
        raise ValueError(f"unknown server {kind!r}")
    if factory:
        command.insert(3, "--factory")
    return command


def has_module(python: str, module: str) -> bool:
    """True when `python` can import `module` (granian is optional)."""
    found = subprocess.run([python, "-c", f"import {module}"], capture_output=True, check=False)  # noqa: S603
    return found.returncode == 0


class Server:
    """A server process pinned to SERVER_CPU, started on enter once `ready_path` answers 200."""

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        port: int,
        env: Mapping[str, str],
        cwd: Path,
        log: Path,
        ready_path: str = "/",
    ) -> None:
        self.name = name
        self.command = pinned(command, SERVER_CPU)
        self.url = f"http://127.0.0.1:{port}"
        self.env = dict(env)
        self.cwd = cwd
        self.log = log
        self.ready_path = ready_path
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        self.start()
        self.wait()
        return self

    def start(self) -> None:
        """Launch the process (without waiting: several servers can start side by side)."""
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(  # noqa: S603 - our own command line
                self.command, cwd=self.cwd, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )

    def wait(self) -> None:
        """Return once `ready_path` answers 200; raise with the log's tail if it never does."""
        assert self.process is not None, "start() first"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited {self.process.returncode}:\n{self.tail()}")
            try:
                status, _ = get(self.url + self.ready_path)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer {self.ready_path} within 60 s:\n{self.tail()}")

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def tail(self, limit: int = 4000) -> str:
        return self.log.read_text("utf-8", errors="replace")[-limit:] if self.log.exists() else ""


def get(url: str, headers: Mapping[str, str] | None = None) -> tuple[int, bytes]:
    """One GET: status and body (error statuses included)."""
    request = urllib.request.Request(url, headers=dict(headers or {}))  # noqa: S310 - http://127.0.0.1 only
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as error:
        return int(error.code), bytes(error.read())


@dataclass(frozen=True)
class Load:
    """What wrk measured: throughput and latency percentiles."""

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx/3xx answers and socket errors
    generator: str = "wrk"  # or "python" (no wrk installed: not comparable)


def _ms(value: str, unit: str) -> float:
    return float(value) * _UNITS[unit]


def wrk(url: str, variants: Sequence[Mapping[str, str]], seconds: int, connections: int) -> Load:
    """Run wrk (one thread, pinned to LOAD_CPU) against `url`, rotating the header sets `variants`.

    Without wrk, the Python stand-in runs instead (see the module's docstring).
    """
    path = wrk_path()
    if path is None:
        return python_load(url, variants, seconds, connections)
    command = [path, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="bench-") as script:
        script.write(lua_script(variants))
        script.flush()
        done = subprocess.run(  # noqa: S603 - our own command line
            pinned([*command, "-s", script.name, url], LOAD_CPU),
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        )
    text = done.stdout
    if script.name in done.stderr or script.name in text:
        raise RuntimeError(f"wrk could not run its script:\n{done.stderr}{text}")
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    total = re.search(r"(\d+) requests in", text)
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", text, re.MULTILINE))
    if rps is None or total is None or set(percentiles) != {"50", "99"}:
        raise RuntimeError(f"could not read wrk's report:\n{text}\n{done.stderr}")
    p50 = re.fullmatch(r"([\d.]+)(us|ms|s)", percentiles["50"])
    p99 = re.fullmatch(r"([\d.]+)(us|ms|s)", percentiles["99"])
    if p50 is None or p99 is None:
        raise RuntimeError(f"could not read wrk's latencies:\n{text}")
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", text))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return Load(float(rps.group(1)), _ms(*p50.groups()), _ms(*p99.groups()), int(total.group(1)), errors)


def python_load(url: str, variants: Sequence[Mapping[str, str]], seconds: float, connections: int) -> Load:
    """A few keep-alive connections in threads: proves the path works, measures little."""
    parts = urlsplit(url)
    path = parts.path or "/"
    rotation = itertools.cycle(
        {**headers, "X-Forwarded-For": f"10.0.{n // 256}.{n % 256}"}
        for n, headers in zip(range(1, 16385), itertools.cycle(variants or [{}]))
    )
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client() -> None:
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=10)
        try:
            while time.perf_counter() < deadline:
                with lock:
                    headers = next(rotation)
                started = time.perf_counter()
                try:
                    connection.request("GET", path, headers=headers)
                    response = connection.getresponse()
                    response.read()
                    failed = response.status >= 400
                except (OSError, http.client.HTTPException):
                    failed = True
                    connection.close()
                with lock:
                    latencies.append((time.perf_counter() - started) * 1e3)
                    errors[0] += failed
        finally:
            connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(max(1, min(connections, 4)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    if not latencies:
        raise RuntimeError(f"no request to {url} completed")
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return Load(len(latencies) / elapsed, latencies[len(latencies) // 2], p99, len(latencies), errors[0], "python")
