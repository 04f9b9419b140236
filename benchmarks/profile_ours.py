"""Profile the hot path of ours (no cache) with pyinstrument: ``python profile_ours.py [N]``."""

import json
import os
import sys
import time

os.environ.setdefault("BENCH_AUTH", "ours")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

from bench import worker
from pyinstrument import Profiler

credential = json.loads(sys.argv[2]) if len(sys.argv) > 2 else None
requests = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
client = worker.make_client(credential)
for _ in range(100):
    worker.get(client)
start = time.perf_counter()
for _ in range(requests):
    worker.get(client)
print(f"{requests / (time.perf_counter() - start):.0f} requests/s unprofiled")
profiler = Profiler(interval=0.0002)
profiler.start()
for _ in range(requests):
    worker.get(client)
profiler.stop()
print(profiler.output_text(unicode=False, color=False, show_all=os.environ.get("SHOW_ALL") == "1"))
