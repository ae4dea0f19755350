#!/usr/bin/env python3
"""Figure o: N idle keep-alive connections held by a running server, its RSS, and how fast a
normal client is answered meanwhile. Loopback only; bounded in count and time.

    bench/idle_conns.py PORT PID [N]

Each connection comes from one of N/200 addresses 127.0.1.x (the per-address limit is 256),
sends one GET /healthz, reads the answer and stays open, idle. Then a fresh client from
127.0.0.1 sends 200 requests on one keep-alive connection, timed one by one."""
import resource
import selectors
import socket
import statistics
import sys
import time

REQ = b"GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n"


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main():
    port, pid = int(sys.argv[1]), int(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 1000), hard))
    before = rss_mb(pid)
    sel = selectors.DefaultSelector()
    socks, answered = [], 0
    deadline = time.monotonic() + 120
    for i in range(n):
        s = socket.socket()
        s.bind((f"127.0.1.{1 + i // 200}", 0))
        s.connect(("127.0.0.1", port))
        s.sendall(REQ)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        socks.append(s)
        if i % 500 == 499:  # read what came back so far
            for key, _ in sel.select(timeout=0):
                if key.fileobj.recv(65536):
                    answered += 1
                sel.unregister(key.fileobj)
    while answered < n and time.monotonic() < deadline:
        events = sel.select(timeout=1)
        if not events:
            break
        for key, _ in events:
            if key.fileobj.recv(65536):
                answered += 1
            sel.unregister(key.fileobj)
    time.sleep(2)  # idle connections give their buffers back after a second
    held = rss_mb(pid)
    c = socket.create_connection(("127.0.0.1", port), timeout=5)
    lat = []
    for _ in range(200):
        t0 = time.perf_counter()
        c.sendall(REQ)
        data = b""
        while b"\r\n\r\n" not in data or not data.endswith(b"}"):
            data += c.recv(65536)
        lat.append((time.perf_counter() - t0) * 1000)
    c.close()
    lat.sort()
    print(f"idle connections {n} (answered {answered}); server RSS {before:.1f} MB before, "
          f"{held:.1f} MB holding them ({(held - before) * 1024 / max(n, 1):.2f} KiB each); "
          f"a normal client: median {statistics.median(lat):.2f} ms, "
          f"p99 {lat[int(len(lat) * 0.99) - 1]:.2f} ms, max {lat[-1]:.2f} ms")
    for s in socks:
        s.close()


if __name__ == "__main__":
    main()
