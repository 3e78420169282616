"""bench_lib.py: what the Python benchmarks share (a free loopback port, a
redis-cli call); imported by bench_idle.py and bench_restart.py, which run
from this directory."""
import random
import socket
import subprocess
import sys


def free_port():
    """A port on 127.0.0.1 in 20000-32000 that nothing listens on now."""
    for _ in range(100):
        port = random.randint(20000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    sys.exit("no free port")


def redis_cli(port, *args):
    """redis-cli's answer to args from the server on port, stripped."""
    return subprocess.run(["redis-cli", "-p", str(port), *args],
                          capture_output=True, text=True,
                          check=True).stdout.strip()
