"""The benchmark driver: ``make bench`` (or ``.venv/bin/python run.py``) from the repository root.

Measures an authenticated GET of a tiny DRF view under each authentication system, interleaved
in rounds, on SQLite and PostgreSQL, then the scale run (``scale.py``). Writes Markdown, RST and a
PNG chart to ``results/`` and prints the table. Servers listen on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import loadgen

HERE = Path(__file__).resolve().parent
TMP = HERE / ".tmp"
RESULTS = HERE / "results"
BIN = Path(sys.executable).parent
SYSTEMS = {
    "none": "No authentication (baseline)",
    "drf": "DRF TokenAuthentication",
    "knox": "knox (defaults)",
    "knox_refresh": "knox (AUTO_REFRESH=True)",
    "session": "Django session auth",
    "ours": "ours, no cache",
    "ours_cache": "ours, Redis cache",
    "ours_local": "ours, Redis + local cache",
}
CACHED = ("ours_cache", "ours_local")  # Redis is emptied before each of their runs
DATABASES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
REDIS_URL = "redis://127.0.0.1:6379/3"  # db 15 belongs to the test suite


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def env_for(db: str, auth: str = "none") -> dict:
    return {
        **os.environ,
        "BENCH_DB": db,
        "BENCH_AUTH": auth,
        "BENCH_REDIS": REDIS_URL,
        "PYTHONPATH": str(HERE),
    }


def child(args: list[str], db: str, auth: str = "none", timeout: float = 600) -> str:
    result = subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        [sys.executable, *args],
        cwd=HERE,
        env=env_for(db, auth),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode:
        raise RuntimeError(f"{args} ({db}, {auth}) failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def pg_admin(*statements: str) -> None:
    import psycopg

    with psycopg.connect(dbname="postgres", autocommit=True, **PG) as conn:
        for statement in statements:
            conn.execute(statement)


def reset_database(db: str) -> dict:
    if db == "postgres":
        pg_admin("DROP DATABASE IF EXISTS bench WITH (FORCE)", "CREATE DATABASE bench")
    else:
        (TMP / "bench.sqlite3").unlink(missing_ok=True)
    child(["manage.py", "migrate", "--verbosity", "0"], db)
    return json.loads(child(["-m", "bench.worker", "setup"], db))


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request_headers(credential: dict) -> dict:
    if "header" in credential:
        return {"Authorization": credential["header"]}
    if "cookie" in credential:
        return {"Cookie": f"sessionid={credential['cookie']}"}
    return {}


def wait_ready(port: int, headers: dict, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited; see benchmarks/.tmp/gunicorn.log")
        result = loadgen.run(port, "/ping/", headers, 1, 2, 1)
        if result["requests"]:
            return
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer 200 on /ping/")


def load(port: int, headers: dict, args: argparse.Namespace) -> dict:
    wrk = shutil.which("wrk")
    if wrk is None:
        return loadgen.run(port, "/ping/", headers, args.connections, args.load_seconds, args.load_requests)
    command = [wrk, "-t1", f"-c{args.connections}", f"-d{args.load_seconds}s", "--timeout", "5s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(  # noqa: S603
        [*command, f"http://127.0.0.1:{port}/ping/"],
        capture_output=True,
        text=True,
        timeout=args.load_seconds + 30,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*", output)
    return {
        "rps": rps,
        "errors": int(bad.group(1)) if bad else 0,
        "socket": errors.group(0) if errors else "",
    }


def serve_and_load(db: str, auth: str, credential: dict, args: argparse.Namespace) -> dict:
    port = free_port()
    headers = request_headers(credential)
    command = [
        str(BIN / "gunicorn"),
        "bench.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(args.workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(args.connections),
        "--keep-alive",
        "30",
        "--log-level",
        "warning",
    ]
    with open(TMP / "gunicorn.log", "a") as output:
        process = subprocess.Popen(  # noqa: S603
            command, cwd=HERE, env=env_for(db, auth), stdout=output, stderr=output, start_new_session=True
        )
    try:
        wait_ready(port, headers, process)
        loadgen.run(port, "/ping/", headers, args.connections, 1.0, 400)  # warm every worker
        return load(port, headers, args)
    finally:
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(process.pid, sig)
                process.wait(wait)
                break
            except ProcessLookupError:
                break
            except subprocess.TimeoutExpired:
                continue


def measure(args: argparse.Namespace) -> dict:
    data: dict = {db: {s: {"inproc": [], "server": [], "queries": None} for s in SYSTEMS} for db in args.dbs}
    credentials = {}
    for db in args.dbs:
        log(f"{DATABASES[db]}: fresh database, migrate, credentials")
        credentials[db] = reset_database(db)
    order = list(SYSTEMS)
    for round_ in range(args.rounds):
        for db in args.dbs:
            log(f"round {round_ + 1}/{args.rounds} on {DATABASES[db]}")
            for auth in order:
                credential = credentials[db][auth]
                if auth in CACHED:
                    flush_redis()
                result = json.loads(
                    child(
                        [
                            *("-m", "bench.worker", "inproc", json.dumps(credential)),
                            *(str(args.inproc_requests), str(args.inproc_seconds)),
                        ],
                        db,
                        auth,
                    )
                )
                if auth in CACHED:
                    flush_redis()
                server = serve_and_load(db, auth, credential, args)
                if server["errors"]:
                    raise RuntimeError(f"{auth} on {db}: {server['errors']} failed requests")
                entry = data[db][auth]
                entry["inproc"].append(result["rps"])
                entry["server"].append(server["rps"])
                entry["queries"] = {"steady": result["steady"], "renewal": result["renewal"]}
                log(
                    f"  {auth:13} in-process {result['rps']:7.0f}/s  server {server['rps']:7.0f}/s  "
                    f"SQL {result['steady']['reads']}r/{result['steady']['writes']}w "
                    f"(renewal {result['renewal']['reads']}r/{result['renewal']['writes']}w)"
                )
        order = order[1:] + order[:1]  # interleave: a different system goes first each round
    return data


def summarise(data: dict) -> dict:
    """Median over rounds of each round's ratio to that round's baseline."""
    summary = {}
    for db, systems in data.items():
        base = systems["none"]
        summary[db] = {"baseline": {k: statistics.median(base[k]) for k in ("inproc", "server")}}
        for auth, entry in systems.items():
            summary[db][auth] = {
                "queries": {k: [v["reads"], v["writes"]] for k, v in entry["queries"].items()},
                **{
                    kind: {
                        "ratio": statistics.median(
                            r / b for r, b in zip(entry[kind], base[kind], strict=True)
                        ),
                        "rps": statistics.median(entry[kind]),
                    }
                    for kind in ("inproc", "server")
                },
            }
    return summary


def table_rows(summary: dict) -> tuple[list[str], list[list[str]]]:
    header = ["System"]
    for db in summary:
        name = DATABASES[db]
        header += [f"{name} SQL r/w", f"{name} SQL r/w after renewal", f"{name} in-process", f"{name} server"]
    rows = []
    for auth, label in SYSTEMS.items():
        row = [label]
        for db in summary:
            entry = summary[db][auth]
            q = entry["queries"]
            row += [
                f"{q['steady'][0]} / {q['steady'][1]}",
                f"{q['renewal'][0]} / {q['renewal'][1]}",
                f"{entry['inproc']['ratio']:.2f}",
                f"{entry['server']['ratio']:.2f}",
            ]
        rows.append(row)
    return header, rows


def footnote(summary: dict, args: argparse.Namespace, elapsed: float) -> list[str]:
    base = ", ".join(
        f"{DATABASES[db]} {s['baseline']['inproc']:.0f} req/s in-process, "
        f"{s['baseline']['server']:.0f} req/s server"
        for db, s in summary.items()
    )
    tool = "wrk" if shutil.which("wrk") else "the Python load generator (loadgen.py)"
    return [
        f"Ratios are requests/s relative to no authentication (median of {args.rounds} interleaved rounds); "
        f"baseline: {base}.",
        f"Server: gunicorn gthread, {args.workers} worker(s) x {args.connections} threads on 127.0.0.1, "
        f"{tool}, "
        f"{args.connections} keep-alive connections, {args.load_seconds} s per run. In-process: Django test "
        f"client, up to {args.inproc_requests} requests or {args.inproc_seconds} s per run.",
        "SQL r/w: reads / writes for one request in steady state, and for one request made after the "
        "renewal interval (ours: RENEWAL_INTERVAL; knox: MIN_REFRESH_INTERVAL). "
        "Redis round trips are not SQL.",
        f"Machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; "
        f"measured in {elapsed / 60:.1f} min.",
    ]


def markdown(header: list[str], rows: list[list[str]], notes: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n\n" + "\n".join(f"- {note}" for note in notes) + "\n"


def rst(header: list[str], rows: list[list[str]], notes: list[str]) -> str:
    lines = [".. list-table::", "   :header-rows: 1", ""]
    for row in [header, *rows]:
        lines.append(f"   * - {row[0]}")
        lines += [f"     - {cell}" for cell in row[1:]]
    return "\n".join(lines) + "\n\n" + "\n".join(f"- {note}" for note in notes) + "\n"


def chart(summary: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [SYSTEMS[s] for s in SYSTEMS if s != "none"]
    fig, axes = plt.subplots(1, len(summary), figsize=(5.2 * len(summary), 4.2), sharey=True, squeeze=False)
    for ax, (db, entries) in zip(axes[0], summary.items(), strict=True):
        for offset, kind, name in ((-0.2, "inproc", "in-process (test client)"), (0.2, "server", "gunicorn")):
            values = [entries[s][kind]["ratio"] for s in SYSTEMS if s != "none"]
            ax.barh([i + offset for i in range(len(values))], values, height=0.4, label=name)
        ax.axvline(1.0, color="grey", linewidth=0.8)
        ax.set_yticks(range(len(labels)), labels)
        ax.invert_yaxis()
        ax.set_xlim(0, 1.05)
        ax.set_title(f"{DATABASES[db]}: requests/s vs no auth")
        ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=72)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dbs", default="sqlite,postgres")
    parser.add_argument("--inproc-requests", type=int, default=3000)
    parser.add_argument("--inproc-seconds", type=float, default=2.0)
    parser.add_argument("--load-seconds", type=int, default=4)
    parser.add_argument("--load-requests", type=int, default=200_000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--no-scale", action="store_true", help="Skip the 1 million token run.")
    parser.add_argument("--scale-tokens", type=int, default=1_000_000)
    parser.add_argument("--scale-users", type=int, default=100_000)
    parser.add_argument("--scale-expired", type=int, default=500_000)
    args = parser.parse_args()
    args.dbs = [db for db in args.dbs.split(",") if db]
    TMP.mkdir(exist_ok=True)
    RESULTS.mkdir(exist_ok=True)
    started = time.monotonic()
    data = measure(args)
    summary = summarise(data)
    header, rows = table_rows(summary)
    notes = footnote(summary, args, time.monotonic() - started)
    (TMP / "raw.json").write_text(json.dumps({"data": data, "summary": summary}, indent=1))
    (RESULTS / "results.md").write_text("# Benchmark results\n\n" + markdown(header, rows, notes))
    (RESULTS / "results.rst").write_text(rst(header, rows, notes))
    chart(summary, RESULTS / "ratios.png")
    print("\n" + markdown(header, rows, notes), flush=True)
    if not args.no_scale:
        import scale

        print(scale.run(args, child, pg_admin, log), flush=True)
    log(f"done in {(time.monotonic() - started) / 60:.1f} min; results in {RESULTS}")


if __name__ == "__main__":
    main()
