#!/usr/bin/env python3
"""Admin writes at scale against two running instances A and B on one database.

For each of N writes: a merge PATCH of one asset's description through A (with If-Match);
the time until A answers (the write is then visible on A: checked), the time until B's
public API shows it (polled every 2 ms), and the time of A's first admin list after it.
Prints p50/p99 of each, and A's resident memory before and after when its pid is given.

Usage: write_latency.py A_URL B_URL USER PASSWORD N [A_PID]
"""
import json, statistics, sys, time, urllib.request

a, b, user, pw, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
pid = sys.argv[6] if len(sys.argv) > 6 else None


def call(url, method="GET", body=None, headers=None):
    req = urllib.request.Request(url, method=method, data=body, headers=headers or {})
    with urllib.request.urlopen(req) as r:
        return r.status, dict(r.headers), r.read()


def token(base):
    body = json.dumps({"username": user, "password": pw}).encode()
    _, _, out = call(base + "/v1/auth/token", "POST", body, {"Content-Type": "application/json"})
    return json.loads(out)["access_token"]


def rss_mib():
    if not pid:
        return None
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024


auth = {"Authorization": "Bearer " + token(a)}
_, _, out = call(a + "/v1/assets?near=51.5074,-0.1278&radius_m=2000&limit=50")
ids = [i["id"] for i in json.loads(out)["items"]]
rss0 = rss_mib()
patch_ms, other_ms, list_ms = [], [], []
for i in range(n):
    aid = ids[i % len(ids)]
    _, h, _ = call(f"{a}/v1/admin/assets/{aid}", headers=auth)
    text = f"bench write {i} {time.time()}"
    t0 = time.perf_counter()
    call(f"{a}/v1/admin/assets/{aid}", "PATCH", json.dumps({"description": text}).encode(),
         {**auth, "If-Match": h["ETag"] if "ETag" in h else h["etag"],
          "Content-Type": "application/merge-patch+json"})
    t1 = time.perf_counter()
    patch_ms.append((t1 - t0) * 1000)
    _, _, got = call(f"{a}/v1/assets/{aid}")
    assert json.loads(got)["description"] == text, "A does not show its own write"
    while json.loads(call(f"{b}/v1/assets/{aid}")[2]).get("description") != text:
        if time.perf_counter() - t1 > 10:
            raise SystemExit("B did not show the write within 10 s")
        time.sleep(0.002)
    other_ms.append((time.perf_counter() - t1) * 1000)
    t2 = time.perf_counter()
    call(f"{a}/v1/admin/assets?limit=20&status=draft,archived,published", headers=auth)
    list_ms.append((time.perf_counter() - t2) * 1000)


def q(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


for name, v in [("PATCH answered (visible on A)", patch_ms), ("visible on B after A answered", other_ms),
                ("first admin list after the write", list_ms)]:
    print(f"{name}: p50 {statistics.median(v):.1f} ms, p99 {q(v, 99):.1f} ms, max {max(v):.1f} ms ({len(v)} writes)")
if pid:
    print(f"A resident memory: {rss0:.0f} MiB before, {rss_mib():.0f} MiB after {n} writes")
