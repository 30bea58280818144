#!/usr/bin/env python3
"""Checks that several engines' CSV results hold the same rows.

usage: check.py [--order-desc COLUMN] NAME=FILE.csv NAME=FILE.csv ...

Rows are compared as a multiset over the columns all files share (by header
name); a column only some files have must be empty in every row of those
files (kqlite writes its built-in schema's columns that the data lacks as
empty columns; the SQL engines write only the columns the data has). Each
cell is normalised first, so that the engines' spellings of one value agree:

- datetimes (`2024-05-08T04:41:01.9170320Z`, `2024-05-08 04:41:01.917032`,
  `...+00:00`) become `YYYY-MM-DDTHH:MM:SS.ffffff` (DuckDB keeps microseconds,
  so the seventh digit is dropped everywhere);
- JSON objects and arrays (dynamic values) are re-serialised with sorted keys;
- anything else is compared as written (an empty field and `""` are both the
  empty string, which is what KQL's never-null strings print as).

Each normalised row is hashed (SHA-256 of its cells in column-name order); the
sorted row hashes are hashed again into one checksum per file. Files agree
when their row counts and checksums are equal. With `--order-desc COL`, each
file's rows must also be in non-increasing order of COL (the queries' `order
by Timestamp desc`; rows tied on COL may come in any order).

Exit code 0 when all files agree, 1 otherwise.
"""

import csv
import functools
import hashlib
import json
import re
import sys

csv.field_size_limit(1 << 30)

DATETIME = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(?:Z|[+-]00(?::?00)?)?$"
)


@functools.lru_cache(maxsize=1 << 20)
def normalise(cell: str) -> str:
    m = DATETIME.match(cell)
    if m:
        frac = (m.group(3) or "").ljust(6, "0")[:6]
        return f"{m.group(1)}T{m.group(2)}.{frac}"
    if cell[:1] in ("{", "["):
        try:
            return json.dumps(json.loads(cell), sort_keys=True, separators=(",", ":"))
        except ValueError:
            return cell
    return cell


def read_header(path):
    with open(path, newline="", encoding="utf-8") as f:
        return next(csv.reader(f), [])


def digest(path, columns, order_desc=None):
    """(rows, checksum, problems) of one file over the given columns."""
    problems = []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader, [])
        index = {name: i for i, name in enumerate(header)}
        keep = [index[c] for c in columns]
        extra = [i for i, name in enumerate(header) if name not in columns]
        nonempty_extra = set()
        order_i = index.get(order_desc) if order_desc else None
        last = None
        hashes = []
        for row in reader:
            cells = [normalise(row[i]) for i in keep]
            hashes.append(hashlib.sha256("\x1f".join(cells).encode()).digest())
            for i in extra:
                if row[i] != "":
                    nonempty_extra.add(header[i])
            if order_i is not None:
                v = normalise(row[order_i])
                if last is not None and v > last:
                    problems.append(f"not in descending {order_desc} order at row {len(hashes)}")
                    order_i = None
                last = v
    for name in sorted(nonempty_extra):
        problems.append(f"column {name} (not in every file) has values")
    hashes.sort()
    total = hashlib.sha256()
    for h in hashes:
        total.update(h)
    return len(hashes), total.hexdigest()[:16], problems


def check(files, order_desc=None):
    """files: list of (name, path). Returns (ok, report lines, per-file results)."""
    headers = {name: read_header(path) for name, path in files}
    common = None
    for h in headers.values():
        common = set(h) if common is None else common & set(h)
    columns = sorted(common or [])
    lines = [f"compared columns ({len(columns)}): {', '.join(columns)}"]
    results = {}
    for name, path in files:
        rows, checksum, problems = digest(path, columns, order_desc)
        results[name] = (rows, checksum, problems)
        extra = len(headers[name]) - len(columns)
        lines.append(
            f"{name}: {rows} rows, checksum {checksum}"
            + (f", {extra} more columns (all empty)" if extra and not problems else "")
            + "".join(f"; {p}" for p in problems)
        )
    distinct = {(r, c) for r, c, _ in results.values()}
    ok = bool(columns) and len(distinct) == 1 and not any(p for _, _, p in results.values())
    lines.append("same rows" if ok else "DIFFERENT")
    return ok, lines, results


def main(argv):
    order = None
    files = []
    it = iter(argv)
    for a in it:
        if a == "--order-desc":
            order = next(it, None)
        elif "=" in a:
            name, path = a.split("=", 1)
            files.append((name, path))
        else:
            print(__doc__, file=sys.stderr)
            return 2
    if len(files) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    ok, lines, _ = check(files, order)
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
