#!/usr/bin/env python3
"""Full pages of the register's search by two characters, for scripts/bench and
scripts/bench-growth (issue 14). Not a test.

    scripts/bench-pairs.py HOLDERS [HOLDERS…] > paths.txt

Each HOLDERS is the certificates' holders of one register: a zizhi SQLite database (a path
ending in ".db"), or a file of them one a line ("-" reads standard input). The pairs of consecutive characters of 2 000 names drawn from the first, and pages 1–5
of the search for each: only the pages full (50 certificates) in every register given. At
100 000 certificates nearly half the pages of such a draw were not full (34 rows a page on
average) and at 1 000 000 all held 50 — a larger register looked slower for reading more rows
a page, not for a row costing more; one list for two registers asks both for the same pages.
"""
import collections
import random
import sqlite3
import sys
import urllib.parse

PAGE = 50


def pairs_of(holder):
    cs = [c.lower() for c in holder if c.isalnum()]
    return {cs[i] + cs[i + 1] for i in range(len(cs) - 1)}


def holders(path):
    if path.endswith(".db"):
        db = sqlite3.connect(path)
        return [h for (h,) in db.execute("SELECT holder FROM certificate")]
    f = sys.stdin if path == "-" else open(path, encoding="utf-8")
    return [line.rstrip("\n") for line in f if line.strip()]


def main(paths):
    registers = [holders(p) for p in paths]
    pairs = set()
    for h in random.sample(registers[0], min(2000, len(registers[0]))):
        pairs |= pairs_of(h)
    counts = []
    for names in registers:
        count = collections.Counter()
        for h in names:
            count.update(pairs_of(h) & pairs)
        counts.append(count)
    for p in sorted(pairs):
        for page in range(1, 6):
            if all(c[p] >= PAGE * page for c in counts):
                print("/api/v1/registry?q=%s&page=%d" % (urllib.parse.quote(p), page))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: scripts/bench-pairs.py HOLDERS [HOLDERS…]")
    main(sys.argv[1:])
