"""The benchmark's WSGI application for counting instructions under valgrind (``instructions.py``).

Valgrind runs every thread about 50 times slower, but the local layer's heartbeat and the
journal's trust are measured in wall-clock seconds: at that pace the layer would stand down and
the count would include Redis round trips that never happen at full speed. So the clocks are
stretched here, for this measurement only.
"""

from bench.wsgi import application  # noqa: I001 (first: it sets Django up)
from auth_token import journal, local_cache

local_cache.PING_SECONDS = 100.0
local_cache.HEARTBEAT_SECONDS = local_cache.DROP_SECONDS = 1e9
journal.CHECK_SECONDS = 1000.0
journal.TRUST_SECONDS = 1e9

__all__ = ["application"]
