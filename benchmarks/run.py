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

import django
import instructions
import loadgen

HERE = Path(__file__).resolve().parent
TMP = HERE / ".tmp"
RESULTS = HERE / "results"
STACK = "django{}{}".format(*django.VERSION[:2])  # results/<STACK>/: one directory per stack
STACK_NAME = f"Python {sys.version.split()[0]}, Django {django.get_version()}"
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
    TMP.mkdir(exist_ok=True)  # also for loop.py and instructions.py run alone
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


class Server:
    """One gunicorn serving one system, on a port of its own, until stopped."""

    def __init__(self, db: str, auth: str, credential: dict, args: argparse.Namespace) -> None:
        self.port = free_port()
        self.headers = request_headers(credential)
        command = [
            *(str(BIN / "gunicorn"), "bench.wsgi:application", "--bind", f"127.0.0.1:{self.port}"),
            *(
                "--workers",
                str(args.workers),
                "--worker-class",
                "gthread",
                "--threads",
                str(args.connections),
            ),
            *("--keep-alive", "30", "--log-level", "warning"),
        ]
        with open(TMP / "gunicorn.log", "a") as output:
            self.process = subprocess.Popen(  # noqa: S603
                command, cwd=HERE, env=env_for(db, auth), stdout=output, stderr=output, start_new_session=True
            )
        try:
            wait_ready(self.port, self.headers, self.process)
            loadgen.run(self.port, "/ping/", self.headers, args.connections, 1.0, 400)  # warm every thread
        except Exception:
            self.stop()
            raise

    def load(self, args: argparse.Namespace) -> float:
        result = load(self.port, self.headers, args)
        if result["errors"]:
            raise RuntimeError(f"{result['errors']} failed requests")
        return result["rps"]

    def stop(self) -> None:
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.process.pid, sig)
                self.process.wait(wait)
                break
            except ProcessLookupError:
                break
            except subprocess.TimeoutExpired:
                continue


def paired(baseline: Server, server: Server, args: argparse.Namespace) -> tuple[list[float], list[float]]:
    """Requests/s of the baseline and of ``server`` in alternating slices: a slow moment of this
    shared machine then slows both sides of a ratio, not one."""
    base, mine = [], []
    for _ in range(args.pairs):
        base.append(baseline.load(args))
        mine.append(server.load(args))
    return base, mine


def measure(args: argparse.Namespace) -> dict:
    data: dict = {
        db: {s: {"inproc": [], "server": [], "server_base": [], "queries": None} for s in SYSTEMS}
        for db in args.dbs
    }
    credentials = {}
    for db in args.dbs:
        log(f"{DATABASES[db]}: fresh database, migrate, credentials")
        credentials[db] = reset_database(db)
    order = list(SYSTEMS)
    for round_ in range(args.rounds):
        for db in args.dbs:
            log(f"round {round_ + 1}/{args.rounds} on {DATABASES[db]}")
            baseline = Server(db, "none", credentials[db]["none"], args)
            try:
                for auth in order:
                    measure_system(db, auth, credentials[db][auth], baseline, data[db][auth], args)
            finally:
                baseline.stop()
        order = order[1:] + order[:1]  # interleave: a different system goes first each round
    return data


def measure_system(
    db: str, auth: str, credential: dict, baseline: Server, entry: dict, args: argparse.Namespace
) -> None:
    if auth in CACHED:
        flush_redis()
    inproc = [*("-m", "bench.worker", "inproc", json.dumps(credential))]
    inproc += [str(args.inproc_requests), str(args.inproc_seconds)]
    result = json.loads(child(inproc, db, auth))
    if auth in CACHED:
        flush_redis()
    if auth == "none":
        base = mine = [baseline.load(args) for _ in range(args.pairs)]
    else:
        server = Server(db, auth, credential, args)
        try:
            base, mine = paired(baseline, server, args)
        finally:
            server.stop()
    entry["inproc"].append(result["rps"])
    entry["server"] += mine
    entry["server_base"] += base
    entry["queries"] = {"steady": result["steady"], "renewal": result["renewal"]}
    log(
        f"  {auth:13} in-process {result['rps']:7.0f}/s  server {statistics.mean(mine):7.0f}/s "
        f"(baseline beside it {statistics.mean(base):7.0f}/s)  SQL "
        f"{result['steady']['reads']}r/{result['steady']['writes']}w "
        f"(renewal {result['renewal']['reads']}r/{result['renewal']['writes']}w)"
    )


# What the parts measured alone leave out (see the instruction counts for a steadier split).
REST_OF_REQUEST = (
    "- the rest: DRF's authenticated path, closing the token cache alias after the request, "
    "collecting garbage, timing noise"
)


def measure_breakdown() -> dict:
    """Microseconds per request through the test client on SQLite, and the parts of ours."""
    credentials = reset_database("sqlite")
    timings = {}
    for system in ("none", "ours", "ours_local"):
        flush_redis()
        loop = json.loads(
            child(["-m", "bench.worker", "loop", json.dumps(credentials[system])], "sqlite", system)
        )
        timings[system] = 1e6 / loop["rps"]
    flush_redis()
    local = json.loads(
        child(
            ["-m", "bench.worker", "breakdown", json.dumps(credentials["ours_local"])], "sqlite", "ours_local"
        )
    )
    uncached = json.loads(
        child(["-m", "bench.worker", "breakdown", json.dumps(credentials["ours"])], "sqlite", "ours")
    )
    extra = timings["ours_local"] - timings["none"]
    log(f"breakdown: {timings}, local {local}, uncached lookup {uncached['lookup']:.1f} µs")
    return {
        "No authentication: a whole request": timings["none"],
        "Ours, local layer warm: a whole request": timings["ours_local"],
        "Ours, no cache: a whole request": timings["ours"],
        "Ours, no cache: the lookup alone (one SELECT)": uncached["lookup"],
        "Local layer's extra over no authentication": extra,
        "- reading the credential (format, checksum, SHA-256)": local["credential"],
        "- the lookup in the local layer (entry, copies, validity)": local["lookup"],
        "- the rest of the middleware (lazy objects, response phase)": (
            local["middleware"] - local["credential"] - local["lookup"]
        ),
        REST_OF_REQUEST: (extra - local["middleware"]),
    }


def measure_instructions(args: argparse.Namespace) -> dict:
    """Instructions per request in the gunicorn worker (``instructions.py``), when valgrind is here."""
    if args.no_instructions or "sqlite" not in args.dbs:
        return {}
    if not (shutil.which("valgrind") and shutil.which("callgrind_control")):
        log("valgrind is not installed: no instruction counts (apt-get install valgrind)")
        return {}
    log("instructions per request under callgrind, SQLite")
    return instructions.measure(reset_database("sqlite"), env_for("sqlite"), free_port, log)


def summarise(data: dict) -> dict:
    """Medians of ratios: in-process, of each round's run to that round's run without
    authentication; through the server, of each slice to the baseline slice just before it."""
    summary = {}
    for db, systems in data.items():
        base = systems["none"]
        summary[db] = {"baseline": {k: statistics.median(base[k]) for k in ("inproc", "server")}}
        for auth, entry in systems.items():
            bases = {"inproc": base["inproc"], "server": entry["server_base"]}
            summary[db][auth] = {
                "queries": {k: [v["reads"], v["writes"]] for k, v in entry["queries"].items()},
                **{
                    kind: {
                        "ratio": statistics.median(
                            r / b for r, b in zip(entry[kind], bases[kind], strict=True)
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
        f"Ratios are requests/s relative to no authentication ({args.rounds} interleaved rounds); "
        f"baseline: {base}.",
        f"Server: gunicorn gthread, {args.workers} worker(s) x {args.connections} threads on 127.0.0.1, "
        f"{tool}, {args.connections} keep-alive connections; in each round each system's server alternates "
        f"with a server without authentication, {args.pairs} slices of {args.load_seconds} s each, and the "
        f"ratio is the median over every round's slices of each slice to the baseline slice before it. "
        f"In-process: Django's WSGI handler called directly, up to {args.inproc_requests} requests or "
        f"{args.inproc_seconds} s per run.",
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


def write_stacks() -> None:
    """Compare every stack measured so far (``results/*/summary.json``), as ratios to each run's baseline."""
    stacks = [json.loads(path.read_text()) for path in sorted(RESULTS.glob("*/summary.json"))]
    dbs = [db for db in DATABASES if all(db in stack["summary"] for stack in stacks)]
    header = ["System", "Stack"] + [
        f"{DATABASES[db]} {kind}" for db in dbs for kind in ("in-process", "server")
    ]
    rows = [
        [label, stack["stack"]]
        + [f"{stack['summary'][db][auth][kind]['ratio']:.2f}" for db in dbs for kind in ("inproc", "server")]
        for auth, label in SYSTEMS.items()
        if auth != "none"
        for stack in stacks
    ]
    for stack in stacks:
        rows.append(
            ["No authentication (requests/s)", stack["stack"]]
            + [f"{stack['summary'][db]['baseline'][kind]:.0f}" for db in dbs for kind in ("inproc", "server")]
        )
    notes = [
        "Each stack's ratios are relative to no authentication measured in the same run on that stack "
        "(the last rows), so stacks compare by ratio, not by absolute requests/s.",
        "Made by `make bench` on each stack (benchmarks/README.md); each run rewrites this table from "
        "every `results/*/summary.json`.",
    ]
    (RESULTS / "stacks.md").write_text("# Benchmark results by stack\n\n" + markdown(header, rows, notes))
    (RESULTS / "stacks.rst").write_text(rst(header, rows, notes))
    timed = [stack for stack in stacks if stack.get("microseconds")]
    parts = list(timed[0]["microseconds"]) if timed else []
    header = ["µs per request (SQLite, in-process)"] + [stack["stack"] for stack in timed]
    rows = [[part] + [f"{stack['microseconds'][part]:.1f}" for stack in timed] for part in parts]
    notes = [
        "Whole requests: the median of 30 batches of 200 through Django's WSGI handler (`loop.py`). "
        "Parts: best of 3 x 5,000 calls of the resolver and the middleware alone, less the view's own "
        "cost (`bench/worker.py breakdown`); the rest is what remains of the difference, timing noise "
        "included (whole requests vary by about 20 % between runs on this machine).",
    ]
    (RESULTS / "microseconds.md").write_text(
        "# Where the microseconds go\n\n" + markdown(header, rows, notes)
    )
    (RESULTS / "microseconds.rst").write_text(rst(header, rows, notes))
    write_instruction_stacks(stacks)


def write_instruction_stacks(stacks: list[dict]) -> None:
    """``results/instructions.md|rst``: the callgrind counts of every stack, side by side."""
    counted = [stack for stack in stacks if stack.get("instructions")]
    systems = list(counted[0]["instructions"]) if counted else []
    header = ["System"] + [
        f"{stack['stack']}: {unit}" for stack in counted for unit in ("k instructions", "ratio")
    ]
    rows = [
        [instructions.SYSTEMS[system][0]]
        + [
            cell
            for stack in counted
            for cell in (
                f"{stack['instructions'][system]['instructions'] / 1000:,.0f}",
                f"{stack['instructions'][system]['ratio']:.3f}",
            )
        ]
        for system in systems
    ]
    notes = [
        "CPU instructions per request in the gunicorn worker, counted by callgrind (`instructions.py`); "
        "the ratio is to no authentication on the same stack. Repeats to within 1 % between runs.",
    ]
    (RESULTS / "instructions.md").write_text(
        "# Instructions per request by stack\n\n" + markdown(header, rows, notes)
    )
    (RESULTS / "instructions.rst").write_text(rst(header, rows, notes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--dbs", default="sqlite,postgres")
    parser.add_argument("--inproc-requests", type=int, default=3000)
    parser.add_argument("--inproc-seconds", type=float, default=2.0)
    parser.add_argument("--load-seconds", type=int, default=1, help="Seconds of each load slice.")
    parser.add_argument("--pairs", type=int, default=5, help="Slices of each system and of the baseline.")
    parser.add_argument("--load-requests", type=int, default=200_000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--no-scale", action="store_true", help="Skip the 1 million token run.")
    parser.add_argument("--no-instructions", action="store_true", help="Skip the callgrind counts.")
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
    microseconds = measure_breakdown() if "sqlite" in args.dbs else {}
    counts = measure_instructions(args)
    header, rows = table_rows(summary)
    notes = footnote(summary, args, time.monotonic() - started)
    (TMP / "raw.json").write_text(json.dumps({"data": data, "summary": summary}, indent=1))
    results = RESULTS / STACK
    results.mkdir(exist_ok=True)
    (results / "summary.json").write_text(
        json.dumps(
            {"stack": STACK_NAME, "summary": summary, "microseconds": microseconds, "instructions": counts},
            indent=1,
        )
        + "\n"
    )
    if counts:
        header_i, rows_i, notes_i = instructions.table(counts)
        title = f"# Instructions per request: {STACK_NAME}\n\n"
        (results / "instructions.md").write_text(title + markdown(header_i, rows_i, notes_i))
        (results / "instructions.rst").write_text(rst(header_i, rows_i, notes_i))
        print("\n" + markdown(header_i, rows_i, notes_i), flush=True)
    (results / "results.md").write_text(
        f"# Benchmark results: {STACK_NAME}\n\n" + markdown(header, rows, notes)
    )
    (results / "results.rst").write_text(rst(header, rows, notes))
    chart(summary, results / "ratios.png")
    print("\n" + markdown(header, rows, notes), flush=True)
    write_stacks()
    if not args.no_scale:
        import scale

        print(scale.run(args, child, pg_admin, log), flush=True)
    log(f"done in {(time.monotonic() - started) / 60:.1f} min; results in {RESULTS}")


if __name__ == "__main__":
    main()
