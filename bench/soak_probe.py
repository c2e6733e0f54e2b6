#!/usr/bin/env python3
"""Write-to-visible probe of bench/soak.sh.

Every INTERVAL seconds: PATCH one asset through instance A (If-Match with its version),
check that A's public API already shows the new version when the PATCH returns (the
documented guarantee), then poll instance B's public GET /v1/assets/{id} every POLL
seconds until it shows that version. Writes one CSV row per probe.

usage: soak_probe.py URL_A URL_B TOKEN ASSET_ID VERSION DURATION_S OUT_CSV [INTERVAL] [POLL]
"""

import csv
import http.client
import json
import sys
import time
import urllib.parse

TIMEOUT_S = 30.0


class Client:
    """One keep-alive connection, reopened after any failure."""

    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.conn = None

    def request(self, method, path, headers=None, body=None):
        for attempt in (1, 2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
                self.conn.request(method, path, body=body, headers=headers or {})
                res = self.conn.getresponse()
                data = res.read()
                return res.status, res.headers, data
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def main():
    url_a, url_b, token, asset, version, duration, out = sys.argv[1:8]
    interval = float(sys.argv[8]) if len(sys.argv) > 8 else 2.0
    poll = float(sys.argv[9]) if len(sys.argv) > 9 else 0.01
    version, duration = int(version), float(duration)
    a, b = Client(url_a), Client(url_b)
    end = time.monotonic() + duration
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["seq", "wall_time", "version", "patch_status", "patch_ms",
                    "a_visible_on_return", "visible_on_b_after_ack_ms",
                    "visible_on_b_after_send_ms", "b_polls", "error"])
        seq = 0
        while time.monotonic() + interval < end:
            started = time.monotonic()
            seq += 1
            row = [seq, time.strftime("%H:%M:%S"), "", "", "", "", "", "", 0, ""]
            try:
                body = json.dumps({"description": f"Probe {seq}: checked."}).encode()
                t0 = time.monotonic()
                status, headers, data = a.request(
                    "PATCH", f"/v1/admin/assets/{asset}",
                    {"Authorization": f"Bearer {token}", "If-Match": f'"{version}"',
                     "Content-Type": "application/merge-patch+json",
                     "X-Request-Id": f"soak-probe-{seq}"}, body)
                t1 = time.monotonic()
                row[3], row[4] = status, round((t1 - t0) * 1000, 1)
                if status != 200:
                    row[9] = f"PATCH {status}: {data[:200]!r}"
                    # Resynchronise the version so the next probe can go on.
                    st, _, d = a.request("GET", f"/v1/assets/{asset}")
                    if st == 200:
                        version = json.loads(d)["version"]
                else:
                    version = json.loads(data)["version"]
                    row[2] = version
                    st, _, d = a.request("GET", f"/v1/assets/{asset}")
                    row[5] = int(st == 200 and json.loads(d)["version"] >= version)
                    polls = 0
                    while True:
                        polls += 1
                        st, _, d = b.request("GET", f"/v1/assets/{asset}")
                        t2 = time.monotonic()
                        if st == 200 and json.loads(d)["version"] >= version:
                            row[6] = round((t2 - t1) * 1000, 1)
                            row[7] = round((t2 - t0) * 1000, 1)
                            break
                        if st != 200:
                            row[9] = f"GET on B {st}"
                            break
                        if t2 - t1 > TIMEOUT_S:
                            row[9] = f"not visible on B after {TIMEOUT_S} s"
                            break
                        time.sleep(poll)
                    row[8] = polls
            except Exception as e:  # noqa: BLE001 - a probe failure is a result, not a crash
                row[9] = f"{type(e).__name__}: {e}"
            w.writerow(row)
            f.flush()
            time.sleep(max(0.0, interval - (time.monotonic() - started)))


if __name__ == "__main__":
    main()
