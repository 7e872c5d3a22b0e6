"""
A moto server on 127.0.0.1 for one test file (test/support/moto.ts). Binds a free port, prints it as one line
("PORT 12345"), and serves until stdin closes (the test process ended, however it ended) or SIGTERM.

  python serve.py
"""
from __future__ import annotations

import logging
import signal
import sys
import threading
import warnings


def main() -> int:
    warnings.filterwarnings("ignore")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    print(f"PORT {port}", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    done.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
