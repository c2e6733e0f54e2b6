#!/usr/bin/env python3
"""Write measurements of bench/scale.sh, against a running server (and optionally a second
instance on the same database).

  scale_writes.py URL_A TOKEN IDS_FILE WRITES OUT_DIR [URL_B] [PID_A]

1. Admin PATCHes (If-Match with the version just read, untimed), one at a time over a
   keep-alive connection, each to a random published asset: the time until the answer, then a public GET on the same instance that must show
   the new version (the documented guarantee: a write is public before it is answered).
2. Every 50th write is followed by the first admin list after it
   (GET /v1/admin/assets?limit=50), timed.
3. With URL_B: every 50th write, instance B's public GET is polled every 5 ms until it shows
   the new version: the write-to-visible delay on a second instance.
4. With PID_A: instance A's resident memory every 1,000 writes.
Prints a summary (p50/p99) and writes the raw samples as CSV files in OUT_DIR. Exits 1 on any
error response or a write not visible on return.
"""

import csv
import json
import random
import statistics
import sys
import time

from soak_probe import Client  # one keep-alive connection, reopened after a failure


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main():
    url_a, token, ids_file, writes, out = sys.argv[1:6]
    url_b = sys.argv[6] if len(sys.argv) > 6 and sys.argv[6] else None
    pid_a = int(sys.argv[7]) if len(sys.argv) > 7 and sys.argv[7] else None
    writes = int(writes)
    ids = [line.strip() for line in open(ids_file) if line.strip()]
    random.seed(14)
    a = Client(url_a)
    b = Client(url_b) if url_b else None
    auth = {"Authorization": f"Bearer {token}"}
    patch_ms, list_ms, visible_b_ms, rss = [], [], [], []
    if pid_a:
        rss.append((0, rss_mib(pid_a)))
    for i in range(1, writes + 1):
        asset = random.choice(ids)
        body = json.dumps({"description": f"scale write {i} at {time.time():.6f}"})
        status, _, data = a.request("GET", f"/v1/admin/assets/{asset}", auth)
        if status != 200:
            sys.exit(f"FATAL: GET {asset} answered {status}")
        etag = f'"{json.loads(data)["version"]}"'
        t0 = time.perf_counter()
        status, _, data = a.request("PATCH", f"/v1/admin/assets/{asset}",
                                 {**auth, "Content-Type": "application/merge-patch+json",
                                  "If-Match": etag}, body)
        t1 = time.perf_counter()
        if status != 200:
            sys.exit(f"FATAL: PATCH {asset} answered {status}: {data[:300]!r}")
        version = json.loads(data)["version"]
        patch_ms.append((t1 - t0) * 1000)
        status, _, data = a.request("GET", f"/v1/assets/{asset}")
        if status != 200 or json.loads(data)["version"] != version:
            sys.exit(f"FATAL: write {i} to {asset} not visible on A when answered ({status})")
        if i % 50 == 0:
            t0 = time.perf_counter()
            status, _, data = a.request("GET", "/v1/admin/assets?limit=50", auth)
            if status != 200:
                sys.exit(f"FATAL: admin list answered {status}")
            list_ms.append((time.perf_counter() - t0) * 1000)
            if b:
                deadline = t1 + 30
                while True:
                    status, _, data = b.request("GET", f"/v1/assets/{asset}")
                    if status == 200 and json.loads(data)["version"] >= version:
                        visible_b_ms.append((time.perf_counter() - t1) * 1000)
                        break
                    if time.perf_counter() > deadline:
                        sys.exit(f"FATAL: write {i} not visible on B after 30 s")
                    time.sleep(0.005)
        if pid_a and i % 1000 == 0:
            rss.append((i, rss_mib(pid_a)))

    with open(f"{out}/patch_ms.csv", "w") as f:
        f.writelines(f"{v:.3f}\n" for v in patch_ms)
    with open(f"{out}/rss_by_writes.csv", "w", newline="") as f:
        csv.writer(f).writerows([("writes", "rss_mib"), *rss])
    print(f"PATCH answered and visible ({len(patch_ms)} writes): p50 {statistics.median(patch_ms):.1f} ms, "
          f"p99 {pct(patch_ms, 99):.1f} ms, max {max(patch_ms):.1f} ms")
    if list_ms:
        print(f"first admin list after a write ({len(list_ms)} samples): p50 {statistics.median(list_ms):.1f} ms, "
              f"p99 {pct(list_ms, 99):.1f} ms")
    if visible_b_ms:
        print(f"visible on instance B after A's answer ({len(visible_b_ms)} samples): "
              f"p50 {statistics.median(visible_b_ms):.0f} ms, p99 {pct(visible_b_ms, 99):.0f} ms, "
              f"max {max(visible_b_ms):.0f} ms")
    if len(rss) > 1:
        first = rss[1][1] if len(rss) > 2 else rss[0][1]
        last = rss[-1][1]
        print("resident memory of A by writes: " + ", ".join(f"{w}: {m:.0f} MiB" for w, m in rss)
              + f"; change after the first 1,000 writes: {100 * (last - first) / first:+.1f} %")


if __name__ == "__main__":
    main()
