"""Several daphne processes behind one address: ``python -m portal.serve --processes 2``.

The port is opened once here and handed to each daphne (``--fd``): the kernel spreads new
connections over the processes, no proxy needed. Each process loads its own models; set
``REDIS_URL`` so that events (training progress) reach the sockets of every process. SIGTERM
or Ctrl-C stops them all.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

WS_MAX_MESSAGE = 32 * 1024 * 1024  # above the portal's own limit: see the Makefile


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    listener = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((args.host, args.port))
    listener.listen(1024)
    daphne = str(Path(sys.executable).parent / "daphne")
    command = [daphne, "--fd", str(listener.fileno()), "--websocket-max-message-size", str(WS_MAX_MESSAGE),
               "portal.asgi:application"]
    env = {"MALLOC_ARENA_MAX": "2", **os.environ}
    servers = [subprocess.Popen(command, pass_fds=(listener.fileno(),), env=env) for _ in range(args.processes)]
    print(f"{args.processes} daphne processes serving http://{args.host}:{args.port}/", flush=True)

    def stop(*_):
        for server in servers:
            server.terminate()

    signal.signal(signal.SIGTERM, stop)
    try:
        return max(server.wait() for server in servers)
    except KeyboardInterrupt:
        stop()
        return max(server.wait() for server in servers)


if __name__ == "__main__":
    raise SystemExit(main())
