"""A bounded HTTP/1.1 keep-alive load generator (used when ``wrk`` is not installed).

Threads with ``http.client``; stops after ``requests`` responses or ``seconds``, whichever first.
Only ever targets 127.0.0.1.
"""

import http.client
import threading
import time


def run(port: int, path: str, headers: dict, connections: int, seconds: float, requests: int) -> dict:
    lock = threading.Lock()
    counts = {"ok": 0, "errors": 0}
    deadline = time.perf_counter() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            while time.perf_counter() < deadline:
                with lock:
                    if counts["ok"] + counts["errors"] >= requests:
                        return
                try:
                    conn.request("GET", path, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    ok = response.status == 200
                except (OSError, http.client.HTTPException):
                    ok = False
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                with lock:
                    counts["ok" if ok else "errors"] += 1
        finally:
            conn.close()

    start = time.perf_counter()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 10)
    elapsed = time.perf_counter() - start
    return {"rps": counts["ok"] / elapsed, "errors": counts["errors"], "requests": counts["ok"]}
