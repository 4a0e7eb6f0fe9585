"""How the devtools servers (provider, API) run as processes: until SIGINT or SIGTERM."""

from __future__ import annotations

import signal
import threading
from http.server import HTTPServer


def serve_until_signalled(server: HTTPServer, ready_line: str) -> int:
    """Serve on a thread, print the ready line the launcher waits for, stop cleanly."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True)
    thread.start()
    print(ready_line, flush=True)
    while not stop.wait(0.5):  # a timed wait keeps the main thread responsive to signals
        pass
    server.shutdown()
    server.server_close()
    return 0
