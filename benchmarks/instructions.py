"""CPU instructions per request inside a gunicorn worker, counted by valgrind's callgrind.

Requests/s through a server on a shared 2-CPU machine vary by about 20 % from one second to the
next; an instruction count does not. Each system's gunicorn (the server run's configuration:
gthread, 1 worker x 8 threads, SQLite) runs under ``valgrind --tool=callgrind`` with counting
switched on (``callgrind_control -i on``) only while the worker serves the measured requests of one
keep-alive connection, after a warm-up. What is counted is everything that worker process
executes for those requests: gunicorn's HTTP parsing, Django, DRF and the authentication system,
garbage collection included.

Run alone after ``make bench`` has set up ``.tmp/bench.sqlite3`` (``python instructions.py``), or
from ``run.py``, which does it when valgrind is installed.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis

HERE = Path(__file__).resolve().parent
TMP = HERE / ".tmp"
BIN = Path(sys.executable).parent
REDIS_URL = "redis://127.0.0.1:6379/3"
REQUESTS = 300
WARM_UP = 100
# (label, the system's settings, whose credential is sent)
SYSTEMS = {
    "none": ("No authentication (baseline)", "none", None),
    "none_header": ("No authentication, a credential sent and never read", "none", "ours_local"),
    "floor": ("A DRF class that returns a fixed user (no lookup at all)", "floor", "ours_local"),
    "drf": ("DRF TokenAuthentication", "drf", "drf"),
    "knox": ("knox (defaults)", "knox", "knox"),
    "ours": ("ours, no cache", "ours", "ours"),
    "ours_cache": ("ours, Redis cache", "ours_cache", "ours_cache"),
    "ours_local": ("ours, Redis + local cache", "ours_local", "ours_local"),
}


def _wait_ready(port: int, headers: dict, process: subprocess.Popen) -> http.client.HTTPConnection:
    deadline = time.monotonic() + 300  # Django starts ~50 times slower under valgrind
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited under valgrind; see benchmarks/.tmp/callgrind.log")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            _get(connection, headers)
            return connection
        except (OSError, http.client.HTTPException):
            time.sleep(1)
    raise RuntimeError("gunicorn under valgrind did not answer")


def _get(connection: http.client.HTTPConnection, headers: dict) -> None:
    connection.request("GET", "/ping/", headers=headers)
    response = connection.getresponse()
    response.read()
    if response.status != 200:
        raise RuntimeError(f"/ping/ answered {response.status}")


def _worker_pid(master: int) -> int:
    found = subprocess.run(  # noqa: S603 (our own arguments)
        [_tool("pgrep"), "-P", str(master)], capture_output=True, text=True, check=False
    )
    pids = [int(pid) for pid in found.stdout.split()]
    if len(pids) != 1:
        raise RuntimeError(f"expected one gunicorn worker, found {pids}")
    return pids[0]


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} is not installed")
    return path


def _control(pid: int, switch: str) -> None:
    """Switch callgrind's counting in process ``pid`` on or off."""
    subprocess.run([_tool("callgrind_control"), "-i", switch, str(pid)], check=True, capture_output=True)  # noqa: S603


def _redis_reads() -> int:
    stats = redis.Redis.from_url(REDIS_URL).info("commandstats")
    return sum(stats.get(f"cmdstat_{name}", {}).get("calls", 0) for name in ("get", "mget"))


def count(system: str, credentials: dict, env: dict, port: int) -> dict:
    """Instructions per request of ``system`` in its gunicorn worker, and Redis reads per request."""
    _label, auth, sender = SYSTEMS[system]
    header = credentials[sender]["header"] if sender else None
    headers = {"Authorization": header} if header else {}
    out = TMP / f"callgrind.{system}.%p"
    command = [
        *(_tool("valgrind"), "--tool=callgrind", "--instr-atstart=no", "--trace-children=yes"),
        f"--callgrind-out-file={out}",
        *(str(BIN / "python"), str(BIN / "gunicorn"), "bench.instructions_wsgi:application"),
        *("--bind", f"127.0.0.1:{port}", "--workers", "1", "--worker-class", "gthread", "--threads", "8"),
        *("--keep-alive", "30", "--timeout", "600", "--log-level", "warning"),
    ]
    for stale in TMP.glob(f"callgrind.{system}.*"):
        stale.unlink()
    environment = {**env, "BENCH_AUTH": auth, "PYTHONHASHSEED": "0"}
    with open(TMP / "callgrind.log", "a") as log:
        process = subprocess.Popen(  # noqa: S603
            command, cwd=HERE, env=environment, stdout=log, stderr=log, start_new_session=True
        )
    try:
        connection = _wait_ready(port, headers, process)
        for _ in range(WARM_UP):
            _get(connection, headers)
        worker = _worker_pid(process.pid)
        reads = _redis_reads()
        _control(worker, "on")
        for _ in range(REQUESTS):
            _get(connection, headers)
        _control(worker, "off")
        reads = _redis_reads() - reads
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(120)
    text = (TMP / f"callgrind.{system}.{worker}").read_text(errors="replace")
    totals = next(int(line.split()[1]) for line in text.splitlines() if line.startswith("totals:"))
    return {"instructions": totals / REQUESTS, "redis_reads": reads / REQUESTS}


def measure(credentials: dict, env: dict, free_port, log) -> dict:
    results = {}
    for system in SYSTEMS:
        log(f"  instructions: {system}")
        redis.Redis.from_url(REDIS_URL).flushdb()
        results[system] = count(system, credentials, env, free_port())
    base = results["none"]["instructions"]
    for entry in results.values():
        entry["ratio"] = base / entry["instructions"]
    return results


def table(results: dict) -> tuple[list[str], list[list[str]], list[str]]:
    header = ["System", "Instructions per request", "Ratio to no authentication", "Redis reads per request"]
    rows = [
        [
            SYSTEMS[system][0],
            f"{entry['instructions'] / 1000:,.0f} k",
            f"{entry['ratio']:.3f}",
            f"{entry['redis_reads']:.2f}",
        ]
        for system, entry in results.items()
    ]
    notes = [
        f"Counted by callgrind in the gunicorn worker (gthread, 1 worker x 8 threads, SQLite) over "
        f"{REQUESTS} keep-alive requests after {WARM_UP} of warm-up; the count repeats to within 1 % "
        "from run to run (the ratio to no authentication is what requests/s would be if the CPU "
        "were the only limit).",
        "Valgrind slows every thread about 50 times, so the worker stretches the clocks of the local "
        "layer's heartbeat and of the journal's check (`bench/instructions_wsgi.py`): at full speed "
        "they cost 4 pings and 1 query a second per process, which this count leaves out.",
        "The credential sent in the second and third rows is the same length as ours.",
    ]
    return header, rows, notes


def main() -> None:
    import run

    credentials = run.reset_database("sqlite")
    results = measure(credentials, run.env_for("sqlite"), run.free_port, run.log)
    header, rows, notes = table(results)
    print(run.markdown(header, rows, notes))


if __name__ == "__main__":
    main()
