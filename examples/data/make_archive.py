#!/usr/bin/env python3
"""Write the small event archive `make demo` hunts and reports on (standard library only):
two months of made-up ECS events (DNS, connections, proxy, process), a few of them touching the
demo indicators on some days, as archive/2025-05.ndjson and archive/2025-06.ndjson.gz.

Deterministic: run it from anywhere to rewrite the same files.
"""

from __future__ import annotations

import gzip
import json
import os
import random
from datetime import datetime, timedelta, timezone

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "archive")
BENIGN_DOMAINS = ["www.example-corp.example", "intranet.example-corp.example", "cdn.example-cdn.example",
                  "updates.example-os.example", "mail.example-corp.example"]
HITS = [
    # (event maker, relative weight): the demo indicators, seen on some days
    ("dns", "evil-updates.example"),
    ("dns", "login.secure-bank-verify.example"),
    ("conn", "198.51.100.23"),
    ("conn", "203.0.113.5"),  # a C2 server: only destination.ip counts
    ("proc", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ("conn", "94.24.86.201"),
]


def event(kind: str, t: datetime, host: int, value: str | None, rng: random.Random) -> dict:
    ts = t.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    src = f"10.0.{host // 256}.{host % 256}"
    if kind == "dns":
        name = value or rng.choice(BENIGN_DOMAINS)
        return {"@timestamp": ts, "event": {"dataset": "zeek.dns"}, "source": {"ip": src},
                "dns": {"question": {"name": name}}, "related": {"hosts": [name]}}
    if kind == "conn":
        dst = value or f"192.0.2.{rng.randrange(1, 255)}"
        return {"@timestamp": ts, "event": {"dataset": "zeek.connection"}, "source": {"ip": src, "port": 49152 + host},
                "destination": {"ip": dst, "port": rng.choice([80, 443, 8080])}, "related": {"ip": [src, dst]}}
    digest = value or "%064x" % rng.getrandbits(256)
    return {"@timestamp": ts, "event": {"dataset": "endpoint.process"}, "host": {"ip": [src]},
            "process": {"name": "setup.exe", "hash": {"sha256": digest}}}


def month(first: datetime, days: int, rng: random.Random) -> list[str]:
    lines = []
    for d in range(days):
        day = first + timedelta(days=d)
        for i in range(6):
            t = day + timedelta(hours=i * 4, minutes=rng.randrange(60))
            kind = rng.choice(["dns", "conn", "proc"])
            lines.append(json.dumps(event(kind, t, rng.randrange(1, 600), None, rng), separators=(",", ":")))
        for kind, value in HITS:
            if rng.random() < 0.25:
                t = day + timedelta(hours=rng.randrange(24), minutes=rng.randrange(60))
                lines.append(json.dumps(event(kind, t, rng.randrange(1, 600), value, rng), separators=(",", ":")))
    return lines


def main() -> None:
    rng = random.Random(20250501)
    os.makedirs(HERE, exist_ok=True)
    may = month(datetime(2025, 5, 1, tzinfo=timezone.utc), 31, rng)
    june = month(datetime(2025, 6, 1, tzinfo=timezone.utc), 30, rng)
    with open(os.path.join(HERE, "2025-05.ndjson"), "w") as f:
        f.write("\n".join(may) + "\n")
    with open(os.path.join(HERE, "2025-06.ndjson.gz"), "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as f:
            f.write(("\n".join(june) + "\n").encode())


if __name__ == "__main__":
    main()
