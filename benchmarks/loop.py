"""Requests/s of some systems in a tight test-client loop: ``.venv/bin/python loop.py none ours_local``.

The median of 30 batches of 200 requests each, on a fresh SQLite benchmark database. Steadier
than the interleaved benchmark, so it is what before/after comparisons of the hot path use.
"""

import json
import sys

import run


def main() -> None:
    systems = sys.argv[1:] or ["none", "ours", "ours_local"]
    credentials = run.reset_database("sqlite")
    for system in systems:
        run.flush_redis()
        result = json.loads(
            run.child(["-m", "bench.worker", "loop", json.dumps(credentials[system])], "sqlite", system)
        )
        print(f"{system:12} {result['rps']:7.0f} requests/s  {1e6 / result['rps']:5.0f} µs per request")


if __name__ == "__main__":
    main()
