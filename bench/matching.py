"""What the blacklist check costs the nightly run per order: its keys, then the lookup.

    .venv/bin/python bench/matching.py [--orders 100000] [--blacklist 1000]

Pure Python (customers.matching), no database: the run reads the keys' inputs with the due rows.
Prints microseconds per order; never fails on time.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from customers.matching import KeyIndex, PersonKeys  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--blacklist", type=int, default=1_000)
    args = parser.parse_args()
    rng = random.Random(1)
    index = KeyIndex()
    for i in range(args.blacklist):
        index.add(i, PersonKeys.of(name=f"山田 太郎{i}", phone=f"090-{i:04d}-{rng.randrange(10000):04d}",
                                   email=f"b{i}@example.com", postal_code="100-0001", address_line=f"千代田{i}-1"))  # fmt: skip
    started = time.perf_counter()
    rows = [
        [
            PersonKeys.of(name=f"佐藤 花子{n}", phone=f"080-{n % 10000:04d}-0000", email=f"c{n}@example.com"),
            PersonKeys.of(name="サトウ ハナコ"),
            PersonKeys.of(name=f"佐藤 花子{n}", postal_code="100-0001", address_line=f"千代田{n}-2"),
        ]
        for n in range(args.orders)
    ]
    keys = time.perf_counter() - started
    started = time.perf_counter()
    held = sum(1 for records in rows if index.matches(records))
    match = time.perf_counter() - started
    per = 1e6 / args.orders
    print(f"{args.orders:,} orders against {args.blacklist:,} blacklisted customers: "
          f"keys {keys:.1f} s ({keys * per:.0f} us/order), lookup {match:.1f} s ({match * per:.0f} us/order), "
          f"held {held}")  # fmt: skip


if __name__ == "__main__":
    main()
