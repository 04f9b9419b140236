"""The scale run on PostgreSQL: lookup cost at 10,000 and 1,000,000 tokens, then cleartokens.

Users and tokens are bulk-created in SQL (``generate_series``; digests computed by ``sha256``);
the measured token is a real one made by ``services.login``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

USERS_SQL = """
INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff,
                       is_active, date_joined)
SELECT '!', false, 'scale' || g, '', '', '', false, true, now() FROM generate_series(1, %(n)s::int) g
"""
TOKENS_SQL = """
INSERT INTO auth_token_token (public_id, key, name, created_at, last_access, expires_at, is_active,
    expiration, user_agent, auth_slug, backend, allowed_cookie, allowed_header, session_auth_hash,
    kind, scopes, user_id)
SELECT gen_random_uuid(), '1$' || encode(sha256(('scale-' || g)::bytea), 'hex'), '', now(), now(),
       now() + interval '1 hour', true, true, '', 'scale', 'django.contrib.auth.backends.ModelBackend',
       false, true, '', 'session', '["*"]'::jsonb, %(first_user)s::int + g %% %(users)s::int
FROM generate_series(%(start)s::int, %(stop)s::int) g
"""
EXPIRE_SQL = """
UPDATE auth_token_token SET expires_at = now() - interval '1 day'
WHERE id IN (SELECT id FROM auth_token_token WHERE auth_slug = 'scale' ORDER BY id LIMIT %(n)s::int)
"""


def sql(statement: str, **params) -> list:
    import psycopg

    with psycopg.connect(dbname="bench", host="127.0.0.1", user="postgres", autocommit=True) as conn:
        cursor = conn.execute(statement, params or None)
        return cursor.fetchall() if cursor.description else []


def measure(child, credential: dict, rounds: int = 3) -> dict:
    lookups, rps, plan, queries = [], [], "", None
    for _ in range(rounds):
        result = json.loads(
            child(["-m", "bench.worker", "lookup", json.dumps(credential), "2000"], "postgres", "ours")
        )
        lookups.append(result["lookup_ms"])
        plan = result["plan"]
        inproc = json.loads(
            child(["-m", "bench.worker", "inproc", json.dumps(credential), "3000", "2"], "postgres", "ours")
        )
        rps.append(inproc["rps"])
        queries = inproc["steady"]
    return {
        "lookup_ms": statistics.median(lookups),
        "rps": statistics.median(rps),
        "plan": plan,
        "queries": queries,
    }


def run(args, child, pg_admin, log) -> str:
    started = time.monotonic()
    log("scale run: fresh PostgreSQL database")
    pg_admin("DROP DATABASE IF EXISTS bench WITH (FORCE)", "CREATE DATABASE bench")
    child(["manage.py", "migrate", "--verbosity", "0"], "postgres")
    credential = json.loads(child(["-m", "bench.worker", "setup"], "postgres"))["ours"]
    users, tokens, expired = args.scale_users, args.scale_tokens, args.scale_expired
    timings = {}
    t = time.monotonic()
    sql(USERS_SQL, n=users - 1)
    first_user = sql("SELECT min(id) FROM auth_user")[0][0]
    timings["users"] = time.monotonic() - t
    small = 10_000
    existing = sql("SELECT count(*) FROM auth_token_token")[0][0]
    sql(TOKENS_SQL, first_user=first_user, users=users, start=1, stop=small - existing)
    sql("ANALYZE")
    log(f"scale run: {small:,} tokens, measuring")
    at_small = measure(child, credential)
    t = time.monotonic()
    step = 250_000
    for start in range(small - existing + 1, tokens - existing + 1, step):
        sql(
            TOKENS_SQL,
            first_user=first_user,
            users=users,
            start=start,
            stop=min(start + step - 1, tokens - existing),
        )
    sql("ANALYZE")
    timings["tokens"] = time.monotonic() - t
    count = sql("SELECT count(*) FROM auth_token_token")[0][0]
    log(
        f"scale run: {count:,} tokens over {users:,} users (bulk insert {timings['tokens']:.0f} s), measuring"
    )
    at_large = measure(child, credential)
    sql(EXPIRE_SQL, n=expired)
    sql("ANALYZE auth_token_token")
    log(f"scale run: cleartokens on {expired:,} expired rows")
    env = {**os.environ, "BENCH_DB": "postgres", "BENCH_AUTH": "ours", "PYTHONPATH": str(HERE)}
    t = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "cleartokens", "--verbosity", "1"],
        cwd=HERE,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output = process.stdout.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    clear_seconds = time.monotonic() - t
    if status:
        raise RuntimeError(f"cleartokens failed: {output}")
    left = sql("SELECT count(*) FROM auth_token_token")[0][0]
    peak_mb = usage.ru_maxrss / 1024
    plan_line = next(
        (line for line in at_large["plan"].splitlines() if "Scan" in line and " auth_token_token " in line),
        "",
    )
    rows = [
        ["Tokens in the table", f"{small:,}", f"{count:,}"],
        [
            "SQL reads / writes per request",
            *(f"{m['queries']['reads']} / {m['queries']['writes']}" for m in (at_small, at_large)),
        ],
        [
            "Resolver lookup (ms, median of 3 x 2,000)",
            f"{at_small['lookup_ms']:.3f}",
            f"{at_large['lookup_ms']:.3f}",
        ],
        ["In-process requests/s (test client)", f"{at_small['rps']:.0f}", f"{at_large['rps']:.0f}"],
    ]
    notes = [
        f"Users: {users:,}; {count - small:,} tokens bulk-inserted in {timings['tokens']:.0f} s "
        f"(INSERT ... SELECT generate_series, digests by sha256 in SQL), then ANALYZE.",
        f"Plan at {count:,} rows (EXPLAIN ANALYZE): ``{plan_line.strip()}``",
        f"cleartokens: {expired:,} expired rows deleted in {clear_seconds:.1f} s "
        f"(batches of 1,000), peak RSS of the process {peak_mb:.0f} MB; {left:,} tokens left. "
        f"Output: ``{output.strip().splitlines()[-1] if output.strip() else ''}``",
        f"Scale run total: {(time.monotonic() - started) / 60:.1f} min.",
    ]
    md = ["# Scale run (PostgreSQL)", "", "| | small table | large table |", "|---|---|---|"]
    md += ["| " + " | ".join(row) + " |" for row in rows]
    md += [
        "",
        *(f"- {note.replace('``', '`')}" for note in notes),
        "",
        "Full plan at the large size:",
        "",
        "```",
    ]
    md += [at_large["plan"], "```", ""]
    rst = [".. list-table::", "   :header-rows: 1", "", "   * -", "     - small table", "     - large table"]
    for row in rows:
        rst += [f"   * - {row[0]}", *(f"     - {cell}" for cell in row[1:])]
    rst += ["", *(f"- {note}" for note in notes), "", "Full plan at the large size::", ""]
    rst += ["    " + line for line in at_large["plan"].splitlines()] + [""]
    (RESULTS / "scale.md").write_text("\n".join(md))
    (RESULTS / "scale.rst").write_text("\n".join(rst))
    return "\n".join(md)
