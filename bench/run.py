#!/usr/bin/env python3
"""The benchmark: kqlite against hand-written SQL on DataFusion and DuckDB.

Run it through bench/run.sh (see docs/benchmarks.md). Steps:

1. build the release binaries (kqlite, kqlite-gen, and bench/datafusion's
   kqlite-bench, the DataFusion-SQL runner);
2. generate the seed tables with kqlite-gen at each row count (JSON lines) and
   convert them to Parquet with `kqlite convert` (both kept in --work and
   reused by later runs; the conversion's time and peak memory are reported);
3. for each row count, format, query and engine: read the query's input
   files once (`cat > /dev/null`, this machine drops its file cache), then
   run the query --runs times, the engines taking turns run by run, the
   result written as CSV to /dev/null;
   wall time (median) and peak resident memory (the largest of the runs,
   from /usr/bin/time's %M);
4. check that the engines return the same rows (bench/check.py): every query
   at row counts up to --check-max-rows, and at larger counts Q1, Q2 and the
   count of Q3's rows;
5. kqlite's start-up (`kqlite query 'print 1'`, median of 10) and planning
   time of the seed queries (parse + plan from `--stats`, median of 5);
6. a profile of each query at the largest row count (`--stats`, and `explain
   --analyze` of Q3);
7. write the results as Markdown (and JSON) into --work and print them.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
import check  # noqa: E402

NOW = "2024-06-01T00:00:00Z"  # kqlite-gen's default --end; ago(30d) = 2024-05-02
KQL = {
    "q1": "examples/queries/purview-policy-violations.kql",
    "q2": "examples/queries/purview-sensitive-data-access.kql",
    "q3": "examples/queries/seed-rule-purview-cloudappevents.kql",
}
QUERY_NAMES = {
    "q1": "Q1 Purview policy violations",
    "q2": "Q2 Purview sensitive data access",
    "q3": "Q3 seed rule, result to CSV",
    "q3count": "Q3 seed rule, `| count`",
}
TABLES = {
    "q1": ["PurviewAuditLogs"],
    "q2": ["PurviewAuditLogs"],
    "q3": ["SecurityAlert", "CloudAppEvents"],
    "q3count": ["SecurityAlert", "CloudAppEvents"],
}
ENGINE_NAMES = {"kqlite": "kqlite", "datafusion": "DataFusion SQL", "duckdb": "DuckDB"}


def log(msg):
    print(f"[{datetime.datetime.now():%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def sh(cmd, **kw):
    log("$ " + " ".join(cmd))
    return subprocess.run(cmd, check=True, **kw)


def timed(cmd, stdout_path="/dev/null", env=None):
    """Runs cmd under /usr/bin/time: (wall seconds, peak RSS MiB, stdout text
    if stdout_path is None, stderr text)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        full = ["/usr/bin/time", "-f", "%e %M", "-o", tf.name] + cmd
        out = subprocess.PIPE if stdout_path is None else open(stdout_path, "wb")
        start = time.perf_counter()
        p = subprocess.run(full, stdout=out, stderr=subprocess.PIPE, env=env)
        wall = time.perf_counter() - start
        if stdout_path is not None:
            out.close()
        if p.returncode != 0:
            raise RuntimeError(
                f"failed ({p.returncode}): {' '.join(cmd)[:300]}\n{p.stderr.decode(errors='replace')[-2000:]}"
            )
        fields = tf.read().split()
        rss_mib = int(fields[-1]) / 1024.0 if fields else float("nan")
    stdout = p.stdout.decode(errors="replace") if stdout_path is None else ""
    return wall, rss_mib, stdout, p.stderr.decode(errors="replace")


def warm(paths):
    """Reads the files once so that the runs find them in the page cache."""
    for p in paths:
        with open(p, "rb") as f:
            while f.read(1 << 24):
                pass


class Engines:
    def __init__(self, args, work):
        self.args = args
        self.work = work
        self.kqlite = os.path.join(ROOT, "target/release/kqlite")
        self.gen = os.path.join(ROOT, "target/release/kqlite-gen")
        self.dfbench = os.path.join(ROOT, "target/bench/release/kqlite-bench")
        self.duckdb = None
        self.duckdb_version = None
        self.qdir = os.path.join(work, "queries")
        os.makedirs(self.qdir, exist_ok=True)

    def find_duckdb(self):
        """DuckDB's CLI from the duckdb-cli package on PyPI (installed when
        missing); None when it cannot be had."""
        probe = "import duckdb_cli, os; print(os.path.join(os.path.dirname(duckdb_cli.__file__), 'duckdb'))"
        for attempt in range(2):
            p = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
            path = p.stdout.strip()
            if p.returncode == 0 and os.access(path, os.X_OK):
                self.duckdb = path
                v = subprocess.run([path, "--version"], capture_output=True, text=True)
                self.duckdb_version = v.stdout.strip()
                return path
            if attempt == 0:
                log("DuckDB CLI not found: pip install duckdb-cli")
                subprocess.run([sys.executable, "-m", "pip", "install", "-q", "duckdb-cli"])
        log("DuckDB is not available: its columns stay empty")
        return None

    # The command of one engine for one query; `out` is where the CSV goes.
    def command(self, engine, q, fmt, data, out):
        base = "q3" if q == "q3count" else q
        if engine == "kqlite":
            text = open(os.path.join(ROOT, KQL[base]), encoding="utf-8").read()
            if q == "q3count":
                text = text.rstrip() + "\n| count\n"
            qfile = os.path.join(self.qdir, f"{q}.kql")
            with open(qfile, "w", encoding="utf-8") as f:
                f.write(text)
            cmd = [self.kqlite, "query", "-f", qfile, "--now", NOW, "-o", "csv"]
            for t in TABLES[q]:
                cmd += ["-d", os.path.join(data, f"{t}.{fmt}")]
            return cmd, out
        if engine == "datafusion":
            sql = open(os.path.join(BENCH, "sql/datafusion", f"{base}-{fmt}.sql"), encoding="utf-8").read()
            if q == "q3count":
                sql = f'SELECT count(*) AS "Count" FROM (\n{strip_sql(sql)}\n)'
            qfile = os.path.join(self.qdir, f"datafusion-{q}-{fmt}.sql")
            with open(qfile, "w", encoding="utf-8") as f:
                f.write(sql)
            return [self.dfbench, "--format", fmt, "--data", data, "-f", qfile, "-o", out], "/dev/null"
        if engine == "duckdb":
            sql = open(os.path.join(BENCH, "sql/duckdb", f"{base}-{fmt}.sql"), encoding="utf-8").read()
            sql = strip_sql(sql.replace("@DATA@", data))
            if q == "q3count":
                sql = f'SELECT count(*) AS "Count" FROM (\n{sql}\n)'
            target = out.replace("'", "''")
            copy = f"COPY (\n{sql}\n) TO '{target}' (FORMAT csv, HEADER)"
            with open(os.path.join(self.qdir, f"duckdb-{q}-{fmt}.sql"), "w", encoding="utf-8") as f:
                f.write(copy + ";\n")
            return [self.duckdb, ":memory:", "-c", ".timer on", "-c", copy], None
        raise ValueError(engine)


def strip_sql(sql):
    """The SQL without its comment lines and trailing semicolon."""
    lines = [l for l in sql.splitlines() if not l.lstrip().startswith("--")]
    return "\n".join(lines).strip().rstrip(";")


def build(args):
    if args.no_build:
        return
    sh(["cargo", "build", "--release", "-p", "kqlite-cli", "-p", "kqlite-gen"], cwd=ROOT)
    if "datafusion" in args.engines:
        sh(
            [
                "cargo", "build", "--release",
                "--manifest-path", os.path.join(BENCH, "datafusion/Cargo.toml"),
                "--target-dir", os.path.join(ROOT, "target/bench"),
            ],
            cwd=ROOT,
        )


def prepare(eng, rows, work, facts):
    """Generates DIR/gen-N (JSON lines) and DIR/gen-N-parquet once."""
    nd = os.path.join(work, f"gen-{rows}")
    pq = os.path.join(work, f"gen-{rows}-parquet")
    tables = ["SecurityAlert", "CloudAppEvents", "PurviewAuditLogs"]
    if not os.path.exists(os.path.join(nd, ".complete")):
        shutil.rmtree(nd, ignore_errors=True)
        wall, rss, _, _ = timed([eng.gen, "--rows", str(rows), "--out", nd])
        open(os.path.join(nd, ".complete"), "w").write(f"kqlite-gen --rows {rows}\n")
        facts.setdefault("generate", {})[rows] = (wall, rss)
        log(f"generated {rows} rows per table in {wall:.1f} s")
    if not os.path.exists(os.path.join(pq, ".complete")):
        shutil.rmtree(pq, ignore_errors=True)
        srcs = [os.path.join(nd, f"{t}.ndjson") for t in tables]
        warm(srcs)
        wall, rss, _, err = timed([eng.kqlite, "convert", *srcs, "--to", pq])
        open(os.path.join(pq, ".complete"), "w").write(err)
        facts.setdefault("convert", {})[rows] = (wall, rss)
        log(f"converted {rows} rows per table to Parquet in {wall:.1f} s, peak {rss:.0f} MiB")
    sizes = {}
    for t in tables:
        sizes[(t, "ndjson")] = os.path.getsize(os.path.join(nd, f"{t}.ndjson"))
        sizes[(t, "parquet")] = os.path.getsize(os.path.join(pq, f"{t}.parquet"))
    facts.setdefault("sizes", {})[rows] = sizes
    return {"ndjson": nd, "parquet": pq}


DUCK_TIMER = re.compile(r"Run Time \(s\): real ([0-9.]+)")


def measure(eng, args, q, fmt, data):
    """Times every engine on one query and format. The engines take turns
    run by run (kqlite, DataFusion, DuckDB, kqlite, ...), so a slow spell of
    this shared machine falls on all of them rather than on one."""
    inputs = [os.path.join(data, f"{t}.{fmt}") for t in TABLES[q]]
    cmds = {e: eng.command(e, q, fmt, data, "/dev/null") for e in args.engines}
    walls = {e: [] for e in args.engines}
    rsss = {e: [] for e in args.engines}
    inner = {e: [] for e in args.engines}
    warm(inputs)
    for _ in range(args.runs):
        for engine in args.engines:
            cmd, stdout_path = cmds[engine]
            wall, rss, stdout, stderr = timed(cmd, stdout_path)
            walls[engine].append(wall)
            rsss[engine].append(rss)
            if engine == "duckdb":
                m = DUCK_TIMER.search(stdout)
                if m:
                    inner[engine].append(float(m.group(1)))
    out = {}
    for engine in args.engines:
        res = {
            "median_s": statistics.median(walls[engine]),
            "runs_s": walls[engine],
            "peak_mib": max(rsss[engine]),
        }
        if inner[engine]:
            res["in_process_s"] = statistics.median(inner[engine])
        log(f"{engine:10} {q:8} {fmt:7} median {res['median_s']:.3f} s, peak {res['peak_mib']:.0f} MiB  runs {[round(w, 3) for w in walls[engine]]}")
        out[engine] = res
    return out


def same_rows(eng, args, rows, q, fmt, data, engines, outdir):
    """Runs each engine once with its result in a file and compares them."""
    files = []
    for engine in engines:
        out = os.path.join(outdir, f"{engine}-{q}-{fmt}.csv")
        cmd, stdout_path = eng.command(engine, q, fmt, data, out)
        timed(cmd, out if stdout_path == "/dev/null" else stdout_path)
        files.append((ENGINE_NAMES[engine], out))
    order = "Timestamp" if q in ("q1", "q2") else None
    ok, lines, results = check.check(files, order)
    count = None
    if q == "q3count":
        # The result is one row, the count: show it as the rows of Q3.
        with open(files[0][1], encoding="utf-8") as f:
            body = f.read().split()
        count = body[1] if len(body) > 1 else None
    for _, path in files:
        os.remove(path)
    first = next(iter(results.values()))
    log(f"check {rows} {q} {fmt}: " + " | ".join(lines[1:]))
    return {"ok": ok, "lines": lines, "result_rows": first[0], "count": count}


def kqlite_fixed_costs(eng, data_nd, data_pq):
    """`print 1` start-up, and parse + plan of each seed query."""
    walls = []
    for _ in range(10):
        w, _, _, _ = timed([eng.kqlite, "query", "print 1", "-o", "csv"])
        walls.append(w)
    plan = {}
    for q in ("q1", "q2", "q3"):
        for fmt, data in (("ndjson", data_nd), ("parquet", data_pq)):
            cmd, _ = eng.command("kqlite", q, fmt, data, "/dev/null")
            parses, plans = [], []
            for _ in range(5):
                _, _, _, err = timed(cmd + ["--stats"])
                m = re.search(r"parse ([0-9.]+) ms, plan ([0-9.]+) ms", err)
                if m:
                    parses.append(float(m.group(1)))
                    plans.append(float(m.group(2)))
            if parses:
                plan[(q, fmt)] = (statistics.median(parses), statistics.median(plans))
    return {"print1_s": statistics.median(walls), "print1_runs": walls, "plan_ms": plan}


def profile(eng, rows, dirs, work):
    """--stats of every query, explain --analyze of Q3 and Q1, at one size."""
    text = []
    for fmt, data in dirs.items():
        for q in ("q1", "q2", "q3", "q3count"):
            cmd, _ = eng.command("kqlite", q, fmt, data, "/dev/null")
            warm([os.path.join(data, f"{t}.{fmt}") for t in TABLES[q]])
            _, _, _, err = timed(cmd + ["--stats"])
            text.append(f"### {QUERY_NAMES[q]}, {fmt}, {rows} rows: `--stats`\n\n```\n{err.strip()}\n```\n")
        for q in ("q1", "q3"):
            cmd, _ = eng.command("kqlite", q, fmt, data, "/dev/null")
            qfile = cmd[cmd.index("-f") + 1]
            ex = [eng.kqlite, "explain", "--analyze", "-f", qfile, "--now", NOW]
            for t in TABLES[q]:
                ex += ["-d", os.path.join(data, f"{t}.{fmt}")]
            warm([os.path.join(data, f"{t}.{fmt}") for t in TABLES[q]])
            _, _, out, _ = timed(ex, None)
            text.append(f"### {QUERY_NAMES[q]}, {fmt}, {rows} rows: `explain --analyze`\n\n```\n{out.strip()}\n```\n")
    path = os.path.join(work, f"profile-{rows}.md")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(text))
    return path


def fmt_s(v):
    if v is None:
        return "–"
    return f"{v:.3f}" if v < 10 else f"{v:.2f}"


def fmt_mib(v):
    return "–" if v is None else f"{v:,.0f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "–"
    return f"{a / b:.2f}"


def machine():
    cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = re.search(r"Model name:\s*(.*)", cpu)
    mem = subprocess.run(["free", "-g"], capture_output=True, text=True).stdout.splitlines()
    total = mem[1].split()[1] if len(mem) > 1 else "?"
    return f"{os.cpu_count()} cores ({model.group(1).strip() if model else platform.processor()}), {total} GiB memory, {platform.system()} {platform.release()}"


def report(args, eng, facts, results, checks, fixed, profiles):
    L = []
    L.append(f"# Benchmark results ({datetime.datetime.now():%Y-%m-%d %H:%M})\n")
    L.append(f"- command: `bench/run.sh {' '.join(args.argv)}`")
    L.append(f"- machine: {machine()}; load average at the end: {os.getloadavg()[0]:.2f}")
    commit = subprocess.run(["git", "-C", ROOT, "log", "-1", "--format=%h %s"], capture_output=True, text=True).stdout.strip()
    L.append(f"- kqlite: {commit}")
    if eng.duckdb_version:
        L.append(f"- DuckDB: CLI {eng.duckdb_version}")
    L.append(f"- runs per cell: {args.runs}; time = median wall-clock seconds of the process; memory = peak resident set (MiB), largest of the runs")
    L.append("")
    for rows in args.rows:
        L.append(f"## {rows:,} rows per table\n")
        sizes = facts.get("sizes", {}).get(rows, {})
        if sizes:
            L.append("Input: " + ", ".join(
                f"{t} {sizes[(t, 'ndjson')] / 1e6:.0f} MB JSON lines / {sizes[(t, 'parquet')] / 1e6:.0f} MB Parquet"
                for t in ("SecurityAlert", "CloudAppEvents", "PurviewAuditLogs")) + ".")
        conv = facts.get("convert", {}).get(rows)
        if conv:
            L.append(f"`kqlite convert` of the three tables: {conv[0]:.1f} s, peak {conv[1]:,.0f} MiB.")
        L.append("")
        L.append("| query | format | kqlite s | kqlite MiB | DataFusion SQL s | DataFusion SQL MiB | DuckDB s | DuckDB MiB | kqlite / DataFusion SQL | kqlite / DuckDB | rows out | same rows |")
        L.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for q in args.queries:
            for fmt in args.formats:
                r = {e: results.get((rows, q, fmt, e)) for e in ENGINE_NAMES}
                k = r["kqlite"]["median_s"] if r["kqlite"] else None
                d = r["datafusion"]["median_s"] if r["datafusion"] else None
                u = r["duckdb"]["median_s"] if r["duckdb"] else None
                c = checks.get((rows, q, fmt))
                same = "–" if c is None else ("yes" if c["ok"] else "**no**")
                nrows = "–" if c is None else f"{c['result_rows']:,}"
                if q == "q3count" and c is not None and c.get("count"):
                    nrows = f"({int(c['count']):,})"
                L.append(
                    f"| {QUERY_NAMES[q]} | {fmt} | {fmt_s(k)} | {fmt_mib(r['kqlite'] and r['kqlite']['peak_mib'])} "
                    f"| {fmt_s(d)} | {fmt_mib(r['datafusion'] and r['datafusion']['peak_mib'])} "
                    f"| {fmt_s(u)} | {fmt_mib(r['duckdb'] and r['duckdb']['peak_mib'])} "
                    f"| {ratio(k, d)} | {ratio(k, u)} | {nrows} | {same} |"
                )
        L.append("")
    if fixed:
        L.append("## kqlite's fixed costs\n")
        L.append(f"- `kqlite query 'print 1' -o csv`: median {fixed['print1_s'] * 1000:.1f} ms of 10 runs")
        for (q, fmt), (p, pl) in sorted(fixed["plan_ms"].items()):
            L.append(f"- {QUERY_NAMES[q]} ({fmt}): parse {p:.2f} ms + plan {pl:.2f} ms = {p + pl:.2f} ms (median of 5, `--stats`)")
        L.append("")
    L.append("## Targets (issue 7, item 4)\n")
    L.extend(targets(args, results, fixed))
    L.append("")
    if checks:
        L.append("## Row checks (bench/check.py)\n")
        for (rows, q, fmt), c in sorted(checks.items()):
            L.append(f"- {rows:,} rows, {QUERY_NAMES[q]}, {fmt}: " + "; ".join(c["lines"][1:]))
        L.append("")
    if profiles:
        L.append("## Profiles\n")
        for p in profiles:
            L.append(f"- {p}")
        L.append("")
    return "\n".join(L)


def targets(args, results, fixed):
    out = []
    big = max(args.rows)

    def get(q, fmt, e):
        r = results.get((big, q, fmt, e))
        return r["median_s"] if r else None

    def peak(q, fmt, e):
        r = results.get((big, q, fmt, e))
        return r["peak_mib"] if r else None

    def line(text, value, goal, extra=""):
        if value is None:
            out.append(f"- {text}: not measured")
            return
        met = "met" if value <= goal else "**not met**"
        out.append(f"- {text}: {value:.3f} (target <= {goal:.3f}) {met}{extra}")

    for q in ("q3", "q3count"):
        for fmt, abs_goal in (("ndjson", 2.2), ("parquet", 1.5)):
            k, u = get(q, fmt, "kqlite"), get(q, fmt, "duckdb")
            goal = abs_goal if u is None else min(abs_goal, u / 2)
            line(f"{QUERY_NAMES[q]}, {fmt}, {big:,} rows, s (<= {abs_goal} s and <= half DuckDB's {fmt_s(u)} s)", k, goal)
            p = peak(q, fmt, "kqlite")
            line(f"{QUERY_NAMES[q]}, {fmt}, peak MiB", p, 1024.0)
    for fmt, goal in (("ndjson", 0.2), ("parquet", 0.1)):
        line(f"{QUERY_NAMES['q1']}, {fmt}, {big:,} rows, s", get("q1", fmt, "kqlite"), goal)
    if fixed:
        line("`print 1`, ms", fixed["print1_s"] * 1000, 20.0)
        worst = max((p + pl for p, pl in fixed["plan_ms"].values()), default=None)
        line("planning a seed query (parse + plan, worst), ms", worst, 5.0)
    for q in args.queries:
        for fmt in args.formats:
            k, d = get(q, fmt, "kqlite"), get(q, fmt, "datafusion")
            if k is not None and d is not None:
                line(f"kqlite / DataFusion SQL, {QUERY_NAMES[q]}, {fmt}, {big:,} rows", k / d, 1.2)
    return out


def main():
    p = argparse.ArgumentParser(description="kqlite vs DataFusion SQL vs DuckDB on the seed queries")
    p.add_argument("--rows", default="100000,1000000", help="row counts per table, comma-separated")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--formats", default="ndjson,parquet")
    p.add_argument("--queries", default="q1,q2,q3,q3count")
    p.add_argument("--engines", default="kqlite,datafusion,duckdb")
    p.add_argument("--work", default=os.environ.get("KQLITE_BENCH_WORK", "/tmp/kqlite-bench"),
                   help="where data, results and profiles go (data is reused between runs)")
    p.add_argument("--check-max-rows", type=int, default=100000,
                   help="compare every query's full result up to this row count; above it Q1, Q2 and Q3's count")
    p.add_argument("--no-build", action="store_true", help="use the release binaries as they are")
    p.add_argument("--no-check", action="store_true")
    p.add_argument("--no-profile", action="store_true")
    args = p.parse_args()
    args.argv = sys.argv[1:]
    args.rows = [int(r) for r in args.rows.split(",") if r]
    args.formats = [f for f in args.formats.split(",") if f]
    args.queries = [q for q in args.queries.split(",") if q]
    args.engines = [e for e in args.engines.split(",") if e]
    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)

    build(args)
    eng = Engines(args, work)
    if "duckdb" in args.engines and not eng.find_duckdb():
        args.engines.remove("duckdb")
    facts, results, checks = {}, {}, {}
    dirs_by_rows = {}
    for rows in args.rows:
        dirs = prepare(eng, rows, work, facts)
        dirs_by_rows[rows] = dirs
        for q in args.queries:
            for fmt in args.formats:
                for engine, res in measure(eng, args, q, fmt, dirs[fmt]).items():
                    results[(rows, q, fmt, engine)] = res
        if not args.no_check and len(args.engines) > 1:
            outdir = os.path.join(work, "out")
            os.makedirs(outdir, exist_ok=True)
            for q in args.queries:
                if q == "q3" and rows > args.check_max_rows:
                    continue
                for fmt in args.formats:
                    c = same_rows(eng, args, rows, q, fmt, dirs[fmt], args.engines, outdir)
                    checks[(rows, q, fmt)] = c
    fixed = None
    profiles = []
    if "kqlite" in args.engines:
        small = dirs_by_rows[min(args.rows)]
        fixed = kqlite_fixed_costs(eng, small["ndjson"], small["parquet"])
        if not args.no_profile:
            big = max(args.rows)
            profiles.append(profile(eng, big, dirs_by_rows[big], work))
    text = report(args, eng, facts, results, checks, fixed, profiles)
    stamp = f"{datetime.datetime.now():%Y%m%d-%H%M%S}"
    md = os.path.join(work, f"results-{stamp}.md")
    with open(md, "w", encoding="utf-8") as f:
        f.write(text + "\n")
    raw = {
        "results": [dict(rows=k[0], query=k[1], format=k[2], engine=k[3], **v) for k, v in results.items()],
        "checks": [dict(rows=k[0], query=k[1], format=k[2], **v) for k, v in checks.items()],
        "fixed": None if not fixed else {
            "print1_s": fixed["print1_s"], "print1_runs": fixed["print1_runs"],
            "plan_ms": {f"{q}-{f}": v for (q, f), v in fixed["plan_ms"].items()},
        },
        "facts": {k: {str(r): (v if not isinstance(v, dict) else {f"{a}-{b}": s for (a, b), s in v.items()})
                      for r, v in d.items()} for k, d in facts.items()},
    }
    with open(os.path.join(work, f"results-{stamp}.json"), "w", encoding="utf-8") as f:
        json.dump(raw, f, indent=1)
    print(text)
    log(f"results: {md}")


if __name__ == "__main__":
    main()
