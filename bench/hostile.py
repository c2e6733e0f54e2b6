#!/usr/bin/env python3
"""Hostile load for bench/hostile.sh: anonymous attackers against a server on 127.0.0.1.

For DURATION seconds, at once:
  - 8 threads ask 512 distinct access-gap reports (every category, all deciles, GeoJSON,
    threshold_m 1.0001 .. 1.0512 km: each a new ~30 MiB body);
  - 250 threads log in with made-up usernames;
  - 4 threads send what-if requests of 1,000 random candidates at 100 km;
  - 6 threads upload 60 MiB to /v1/admin/imports without a token.
Each thread sends from its own forwarded address (as a botnet would), so that per-client
limits alone cannot refuse the attack. Counts every answer by kind and status and prints them as JSON. Standard library only.
"""
import http.client
import json
import os
import random
import sys
import threading
import time
from collections import Counter

HOST, PORT = "127.0.0.1", int(sys.argv[1])
DURATION = float(sys.argv[2])
CATEGORIES = "museum,library,gallery,theatre,cafe,arts_centre,heritage,cinema,community_centre"
END = time.monotonic() + DURATION
counts = Counter()
lock = threading.Lock()


def count(kind, status):
    with lock:
        counts[f"{kind} {status}"] += 1


def request(kind, method, path, body=None, headers=None, timeout=120):
    conn = http.client.HTTPConnection(HOST, PORT, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        r.read()
        count(kind, r.status)
    except Exception as e:  # a reset or a timeout is an outcome too
        count(kind, type(e).__name__)
    finally:
        conn.close()


def address(n):
    """A forwarded client address of its own for each attacker thread (a botnet)."""
    return {"X-Forwarded-For": f"10.{n // 256}.{n % 256}.{random.randrange(1, 255)}"}


def reports(offset):
    i = offset
    while time.monotonic() < END:
        threshold = 1000 + (i % 512) / 10
        request("report", "GET", f"/v1/reports/access-gaps?category={CATEGORIES}"
                f"&threshold_m={threshold}&max_decile=10&format=geojson",
                headers=address(1000 + offset))
        i += 8


def logins(n):
    while time.monotonic() < END:
        body = json.dumps({"username": f"nobody{random.randrange(10**9)}",
                           "password": "not the password at all"})
        request("login", "POST", "/v1/auth/token", body,
                {"Content-Type": "application/json", **address(n)})


def what_ifs(n):
    while time.monotonic() < END:
        candidates = [{"lat": random.uniform(50.5, 55.5), "lon": random.uniform(-3.5, 0.5)}
                      for _ in range(1000)]
        body = json.dumps({"category": "library", "threshold_m": 100000, "max_decile": 10,
                           "candidates": candidates, "pick": 5})
        request("what-if", "POST", "/v1/reports/what-if", body,
                {"Content-Type": "application/json", **address(2000 + n)})


def uploads(_):
    chunk = b"name,category,lat,lon\n" + b"x" * (1 << 20)
    while time.monotonic() < END:
        conn = http.client.HTTPConnection(HOST, PORT, timeout=120)
        try:
            conn.putrequest("POST", "/v1/admin/imports?format=csv")
            conn.putheader("Content-Type", "text/csv")
            conn.putheader("Content-Length", str(60 * len(chunk)))
            conn.endheaders()
            for _ in range(60):
                conn.send(chunk)
            r = conn.getresponse()
            r.read()
            count("upload", r.status)
        except Exception as e:
            count("upload", type(e).__name__)
        finally:
            conn.close()


# KINDS=report,what-if (say) runs only those attackers, to see what each costs.
KINDS = os.environ.get("KINDS", "report,login,what-if,upload").split(",")
ATTACKERS = {"report": (reports, 8), "login": (logins, 250), "what-if": (what_ifs, 4),
             "upload": (uploads, 6)}
threads = [threading.Thread(target=ATTACKERS[k][0], args=(i,))
           for k in KINDS for i in range(ATTACKERS[k][1])]
for t in threads:
    t.daemon = True
    t.start()
for t in threads:
    t.join(timeout=max(0, END - time.monotonic()) + 130)
print(json.dumps(dict(sorted(counts.items())), indent=1))
