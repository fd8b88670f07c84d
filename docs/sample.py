#!/usr/bin/env python3
"""Recompute an Evident sample from a population file and a seed, without Evident.

    python3 sample.py POPULATION.csv SEED SIZE [MORE ...]

Prints the drawn item ids, one per line, in the order Evident lists them (round by round).
The rule is in docs/sampling.md. Only the standard library is used.
"""
import csv
import hashlib
import sys


def members(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.reader(line for line in f if not line.startswith("#"))]
    header, data = rows[0], rows[1:]
    if header[:2] != ["id", "date"]:
        sys.exit(f"{path}: not a population file (its column row must start with id,date)")
    return [(r[1], r[0]) for r in data]  # (date, id)


def key(seed, item):
    return hashlib.sha256(f"{seed}:{item}".encode("utf-8")).hexdigest()


def draw(seed, population, rounds):
    ordered = sorted(population)  # by date, then id
    n = len(ordered)
    keys = [key(seed, item) for _, item in ordered]
    taken, out = set(), []
    for asked in rounds:
        m = min(asked, n - len(taken))
        picks = []
        for g in range(m):
            lo, hi = -(-g * n // m), -(-(g + 1) * n // m)  # ceil(g*n/m), ceil((g+1)*n/m)
            left = [i for i in range(lo, hi) if i not in taken] or [i for i in range(n) if i not in taken]
            i = min(left, key=lambda i: keys[i])
            taken.add(i)
            picks.append(i)
        out.extend(ordered[i][1] for i in picks)
    return out


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    path, seed, sizes = sys.argv[1], sys.argv[2], [int(s) for s in sys.argv[3:]]
    for item in draw(seed, members(path), sizes):
        print(item)
