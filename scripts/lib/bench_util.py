#!/usr/bin/env python3
"""bench_util.py: helpers for scripts/bench and tests/integration/t_bench_smoke.sh.

  bench_util.py png PATH W H [rgba]     a valid PNG of pseudo-random pixels
  bench_util.py bulk DIR N              DIR/img/pNNNNN.png (N distinct 64x64
                                        RGBA) and DIR/mask.png (64x64 RGBA)
  bench_util.py sent FAKELOG PREFIX     sha256 of every image the fake upstream
                                        sent for requests whose prompt starts
                                        with PREFIX, sorted, one a line
  bench_util.py stats                   numbers on stdin -> JSON median/p99/...
  bench_util.py report RAW OUT.json     RAW: key=value lines written by
                                        scripts/bench; prints the table and
                                        the targets, writes OUT.json
"""
import hashlib
import json
import statistics
import random
import sqlite3
import struct
import sys
import zlib


def _chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data +
            struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))


def png_bytes(w, h, alpha, seed, noise=True):
    bpp = 4 if alpha else 3
    if noise:
        rnd = random.Random(seed)
        rows = b"".join(b"\0" + rnd.randbytes(w * bpp) for _ in range(h))
    else:
        rows = b"".join(b"\0" + bytes(((x * 7 + y * 13 + seed) & 255)
                                      for x in range(w * bpp)) for y in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 6 if alpha else 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) +
            _chunk(b"IDAT", zlib.compress(rows, 6)) + _chunk(b"IEND", b""))


def cmd_png(args):
    path, w, h = args[0], int(args[1]), int(args[2])
    alpha = len(args) > 3 and args[3] == "rgba"
    with open(path, "wb") as f:
        f.write(png_bytes(w, h, alpha, path))


def cmd_bulk(args):
    import os
    d, n = args[0], int(args[1])
    os.makedirs(os.path.join(d, "img"), exist_ok=True)
    # One base image; each copy differs in two bytes of the first row, so all
    # N inputs are distinct blobs (the mask is the one shared input).
    w = h = 64
    base = bytearray(b"".join(b"\0" + bytes((x * 7 + y * 13) & 255
                                            for x in range(w * 4)) for y in range(h)))
    ihdr = _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
    sig, iend = b"\x89PNG\r\n\x1a\n", _chunk(b"IEND", b"")
    for i in range(n):
        rows = bytearray(base)
        rows[1], rows[2], rows[3] = i & 255, (i >> 8) & 255, (i >> 16) & 255
        with open(os.path.join(d, "img", "p%05d.png" % i), "wb") as f:
            f.write(sig + ihdr + _chunk(b"IDAT", zlib.compress(bytes(rows), 1)) + iend)
    mask = bytearray(base)
    for y in range(h):  # transparent left half = the area to edit
        for x in range(w // 2):
            mask[y * (w * 4 + 1) + 1 + x * 4 + 3] = 0
    with open(os.path.join(d, "mask.png"), "wb") as f:
        f.write(sig + ihdr + _chunk(b"IDAT", zlib.compress(bytes(mask), 6)) + iend)


def cmd_sent(args):
    log, prefix = args[0], args[1]
    out = []
    with open(log) as f:
        for line in f:
            rec = json.loads(line)
            prompt = (rec.get("fields") or {}).get("prompt", "")
            if prompt.startswith(prefix):
                out += [s["sha256"] for s in rec.get("sent") or []]
    for s in sorted(out):
        print(s)


def cmd_stored(args):
    """The sha256 of every image's stored bytes (hashed here: the sha256
    column is the daemon's own word), sorted."""
    db = sqlite3.connect("file:%s?mode=ro" % args[0], uri=True)
    out = sorted(hashlib.sha256(d).hexdigest() for (d,) in db.execute("SELECT data FROM images"))
    for s in out:
        print(s)


def stats_of(values):
    v = sorted(values)
    n = len(v)
    if n == 0:
        return {"n": 0}

    def pct(p):  # nearest rank
        k = max(1, min(n, int(-(-p * n // 100))))
        return v[k - 1]
    med = v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2
    return {"n": n, "median": med, "p99": pct(99), "min": v[0], "max": v[-1],
            "mean": sum(v) / n}


def cmd_stats(_args):
    print(json.dumps(stats_of([float(x) for x in sys.stdin.read().split()])))


def _num(s):
    try:
        return int(s)
    except ValueError:
        pass
    try:
        return float(s)
    except ValueError:
        pass
    try:
        return json.loads(s)
    except ValueError:
        return s


def _ratio(a, b):
    return a / b if a is not None and b else None


def _median(values):
    v = [x for x in values if x is not None]
    return stats_of(v)["median"] if v else None


def _spread(values):
    """(max - min) / median of the known values; 0 with fewer than two."""
    xs = [v for v in values if v is not None]
    return (max(xs) - min(xs)) / _median(xs) if len(xs) > 1 and _median(xs) else 0.0


def _per_image(cpu_s, images):
    return 1000 * cpu_s / images if images and cpu_s is not None else None


def _imgeditd_round(at, i, k="imgeditd"):
    """Round i of imgeditd's run recorded under key prefix k (imgeditd for
    whole events, imgeditd@FRAMING for the others)."""
    images = at(k + ".images", i) or 0
    cpu = at(k + ".cpu_s", i)
    return {
        "wall_s": at(k + ".wall_s", i),
        "cpu_s": cpu,
        "cpu_ms_per_image": _per_image(cpu, images),
        "peak_rss_mb": at(k + ".peak_rss_mb", i),
        "images": images,
        "jobs_succeeded": at(k + ".succeeded", i),
        "jobs_failed": at(k + ".failed", i),
        "submit_s": at(k + ".submit_s", i),
        "submit_cpu_s": at(k + ".submit_cpu_s", i),
        "stored_sha256_match_upstream": at(k + ".sha_match", i),
        "stored_not_sent": at(k + ".sha_differ", i),
        "db_bytes": at(k + ".db_bytes", i),
    }


def _pg_round(at, i, sqlite_round):
    """Round i of imgeditd on PostgreSQL (keys imgeditd@pg.*): the daemon's
    figures as on SQLite, PostgreSQL's own CPU over the run, and the
    daemon's CPU per image over the SQLite run's of the same round."""
    d = _imgeditd_round(at, i, "imgeditd@pg")
    for k in ("submit_s", "submit_cpu_s"):
        del d[k]
    d["enqueue_s"] = at("imgeditd@pg.enqueue_s", i)
    d["pg_cpu_s"] = at("imgeditd@pg.pg_cpu_s", i)
    d["pg_cpu_ms_per_image"] = _per_image(d["pg_cpu_s"], d["images"])
    d["poll_session_cpu_s"] = at("imgeditd@pg.poll_cpu_s", i)
    d["ratio_to_sqlite"] = _ratio(d["cpu_ms_per_image"],
                                  sqlite_round and sqlite_round["cpu_ms_per_image"])
    return d


def _pg_summary(g, at, n, d_rounds):
    """imgeditd on PostgreSQL over its n rounds, and its claim latency;
    None when the bench left PostgreSQL out."""
    if not g("pg"):
        return None
    rounds = [_pg_round(at, i, d_rounds[i] if i < len(d_rounds) else None)
              for i in range(n)]
    out = {k: _median([r[k] for r in rounds])
           for k in ("wall_s", "cpu_s", "cpu_ms_per_image", "pg_cpu_s",
                     "pg_cpu_ms_per_image", "peak_rss_mb")}
    each = [r["ratio_to_sqlite"] for r in rounds]
    out.update({
        "images": min((r["images"] for r in rounds), default=0),
        "jobs_failed": max(((r["jobs_failed"] or 0) for r in rounds), default=0),
        "stored_sha256_match_upstream": all(
            r["stored_sha256_match_upstream"] is True for r in rounds),
        "ratio_to_sqlite": _median(each), "ratio_each_round": each,
        "durability": {k: g("pg." + k) for k in (
            "fsync", "synchronous_commit", "full_page_writes", "shared_buffers",
            "filesystem")},
        "sqlite_filesystem": g("sqlite.filesystem"),
        "claim": dict(g("claim_pg.json") or {}, queued=g("claim_pg.queued"))
        if g("claim_pg.json") else None,
        "claim_synchronous_commit_off": g("claim_pg_async.json"),
        "version": g("version.postgresql"),
        "rounds": rounds,
        "note": "each round after the SQLite run: the same jobs enqueued by SQL, "
                "imgeditd at the same concurrency against the same whole-event fake "
                "upstream; cpu = the imgeditd process; pg_cpu = user + system CPU "
                "of every process of the cluster (the postmaster's tree, exited "
                "backends included), from the daemon's start to after its backend "
                "exited, less the bench's own polling session; wall = enqueue start "
                "to the last job's finished_at; ratio_to_sqlite = the daemon's CPU "
                "per image over the SQLite run's of the same round, median of the "
                "rounds; claim = claim_bench_pg (pgstore_claim of one job, timed "
                "to its callback), then as many more with the session's "
                "synchronous_commit off, for comparison (not a target)"})
    return out


def print_pg(pg, fmt):
    """The PostgreSQL rows: each round and the median."""
    if pg is None:
        return
    du = pg["durability"]
    print()
    print("imgeditd on PostgreSQL %s (fsync %s, synchronous_commit %s, full_page_writes %s:"
          % (pg["version"], du["fsync"], du["synchronous_commit"], du["full_page_writes"]))
    print("durable, each commit flushed before its answer; the SQLite runs are durable too,")
    print("WAL + synchronous=NORMAL: consistent after any crash, flushed at checkpoints)")
    print("the same jobs enqueued by SQL, whole events; PostgreSQL's = every process of "
          "its cluster:")
    rows = [("round %d" % (i + 1), r) for i, r in enumerate(pg["rounds"])]
    if len(rows) != 1:
        rows.append(("median", pg))
    for name, r in rows:
        print("  %-8s %s ms CPU/image (daemon), %s ms CPU/image (PostgreSQL's processes), "
              "peak RSS %s MB, wall %s s; daemon on PG / on SQLite %s"
              % (name, fmt(r["cpu_ms_per_image"], ".2f"), fmt(r["pg_cpu_ms_per_image"], ".2f"),
                 fmt(r["peak_rss_mb"], ".1f"), fmt(r["wall_s"], ".2f"),
                 fmt(r["ratio_to_sqlite"], ".3f")))
    c, a = pg["claim"], pg["claim_synchronous_commit_off"]
    if c:
        print("  claim (pgstore_claim, one job) with %s queued, %s claims: median %s ms, "
              "p99 %s ms, max %s ms" % (c.get("queued"), c.get("claims"),
                                        fmt(c.get("median_ms"), ".3f"),
                                        fmt(c.get("p99_ms"), ".3f"), fmt(c.get("max_ms"), ".3f")))
    if a:
        print("    for comparison, synchronous_commit off (commits not flushed one by one, "
              "as SQLite's synchronous=NORMAL),")
        print("    %s queued, %s claims: median %s ms, p99 %s ms, max %s ms (not a target)"
              % (a.get("queued_before"), a.get("claims"), fmt(a.get("median_ms"), ".3f"),
                 fmt(a.get("p99_ms"), ".3f"), fmt(a.get("max_ms"), ".3f")))


def _disk_round(d, at, i):
    """The path to files on disk in round i: submit + imgeditd + export
    --partials, each process's user + system CPU, per image stored."""
    parts = (d["submit_cpu_s"], d["cpu_s"], at("export.cpu_s", i))
    total = sum(parts) if all(x is not None for x in parts) else None
    return {
        "submit_cpu_s": parts[0], "imgeditd_cpu_s": parts[1],
        "export_cpu_s": parts[2], "cpu_s": total,
        "cpu_ms_per_image": _per_image(total, d["images"]),
        "submit_ms_per_image": _per_image(parts[0], d["images"]),
        "export_ms_per_image": _per_image(parts[2], d["images"]),
        "export_files": at("export.files", i),
        "export_bytes": at("export.bytes", i),
        "export_s": at("export.s", i),
    }


def _peer_round(at, i):
    p_json = at("peer.json", i)
    if not isinstance(p_json, dict):
        return None
    p_images = p_json.get("images") or 0
    return {
        "wall_s": p_json.get("wall_s"),
        "cpu_s": p_json.get("cpu_s"),
        "cpu_ms_per_image": 1000 * p_json["cpu_s"] / p_images if p_images else None,
        "peak_rss_mb": at("peer.ext_rss_mb", i),
        "images": p_images,
        "jobs_ok": p_json.get("ok"),
        "jobs_failed": p_json.get("failed"),
        "self_reported": p_json,
        "process_cpu_s": at("peer.ext_cpu_s", i),
        "process_cpu_ms_per_image": _per_image(at("peer.ext_cpu_s", i), p_images),
        "process_wall_s": at("peer.ext_wall_s", i),
        "files": at("peer.files", i),
    }


def _summary(rounds, note):
    """One tool over its rounds: the median of each timing, the fewest
    images stored, and every round as it was."""
    out = {k: _median([r[k] for r in rounds])
           for k in ("wall_s", "cpu_s", "cpu_ms_per_image", "peak_rss_mb")}
    out["images"] = min(r["images"] for r in rounds)
    out["note"] = note
    out["rounds"] = rounds
    return out


def cmd_report(args):
    raw = {}  # key -> every value recorded for it, in order (one per round)
    with open(args[0]) as f:
        for line in f:
            line = line.rstrip("\n")
            if "=" in line:
                k, v = line.split("=", 1)
                raw.setdefault(k, []).append(_num(v))

    def g(k):  # the last value recorded for k
        v = raw.get(k)
        return v[-1] if v else None

    def at(k, i):  # the value of k in round i
        v = raw.get(k) or []
        return v[i] if i < len(v) else None
    nrounds = len(raw.get("imgeditd.cpu_s") or [])

    d_rounds = [_imgeditd_round(at, i) for i in range(nrounds)]
    # a peer's round that did not parse fails the bench: dropping it would
    # pair the later rounds with the wrong ones of imgeditd
    p_all = [_peer_round(at, i) for i in range(nrounds)]
    p_ran = len(raw.get("peer.json") or [])
    if p_ran and (p_ran != nrounds or not all(p_all)):
        sys.exit("bench: the peer's result of round(s) %s did not parse (%d of %d "
                 "rounds recorded): the rounds cannot be paired" % (
                     ", ".join(str(i + 1) for i, r in enumerate(p_all) if not r) or "?",
                     p_ran, nrounds))
    p_rounds = [r for r in p_all if r]
    tools = {}
    tools["imgeditd"] = _summary(d_rounds,
        "median over the rounds; wall = submit start to the last job's "
        "finished_at; CPU and RSS of the imgeditd process (/proc, read "
        "after all jobs finished, before SIGTERM)")
    tools["imgeditd"]["stored_sha256_match_upstream"] = all(
        r["stored_sha256_match_upstream"] is True for r in d_rounds)
    tools["imgeditd"]["jobs_failed"] = max(r["jobs_failed"] or 0 for r in d_rounds)
    if p_rounds:
        tools["sdk-peer"] = _summary(p_rounds,
            "median over the rounds; wall and CPU as the script reports "
            "them (after node started and loaded the SDK); peak RSS = "
            "ru_maxrss of the node process (/usr/bin/time)")
    d, p = tools["imgeditd"], tools.get("sdk-peer")
    ratios = {}
    if p:
        # each round's ratio from both tools' figures of that round; the
        # table and the targets take the median of those
        def per_round(key):
            return [_ratio(a[key], b[key]) for a, b in zip(d_rounds, p_rounds)]

        def med(xs):
            xs = [x for x in xs if x is not None]
            return statistics.median(xs) if xs else None
        each = {k: per_round(f) for k, f in (("cpu_per_image", "cpu_ms_per_image"),
                                             ("peak_rss", "peak_rss_mb"),
                                             ("wall", "wall_s"))}
        ratios = {k: med(v) for k, v in each.items()}
        ratios.update({k + "_each_round": v for k, v in each.items()})
        ratios["note"] = "median of the per-round ratios (each round: both tools' figures of that round)"

    def med_ratio(each):
        xs = [x for x in each if x is not None]
        return statistics.median(xs) if xs else None

    pg = _pg_summary(g, at, len(raw.get("imgeditd@pg.cpu_s") or []), d_rounds)

    # imgeditd against fake upstreams that cut their streams otherwise; the
    # peer ran once per round, against whole events: each round's ratio is
    # over the peer's figure of that round
    framings = [f for f in str(g("framings") or "").split(",") if f]
    framing_rows = {}
    for f in ["whole"] + framings:
        rounds = d_rounds if f == "whole" else [
            _imgeditd_round(at, i, "imgeditd@" + f) for i in range(nrounds)]
        each = [_ratio(a["cpu_ms_per_image"], b["cpu_ms_per_image"])
                for a, b in zip(rounds, p_rounds)]
        framing_rows[f] = {
            "cpu_ms_per_image": _median([r["cpu_ms_per_image"] for r in rounds]),
            "cpu_ms_per_image_each_round": [r["cpu_ms_per_image"] for r in rounds],
            "ratio_to_peer": med_ratio(each), "ratio_each_round": each,
            "rounds": rounds}

    # whole events with /metrics on and scraped every second, against the
    # run without of the same round: (with - without) / without
    metrics_row = None
    if g("metrics_run"):
        m_rounds = [_imgeditd_round(at, i, "imgeditd@metrics") for i in range(nrounds)]
        diff = [None if a["cpu_ms_per_image"] is None or not b["cpu_ms_per_image"]
                else a["cpu_ms_per_image"] / b["cpu_ms_per_image"] - 1
                for a, b in zip(m_rounds, d_rounds)]
        metrics_row = {
            "cpu_ms_per_image": _median([r["cpu_ms_per_image"] for r in m_rounds]),
            "cpu_ms_per_image_each_round": [r["cpu_ms_per_image"] for r in m_rounds],
            "difference": _median([x for x in diff if x is not None]),
            "difference_each_round": diff,
            "scrapes_each_round": [at("imgeditd@metrics.scrapes", i) for i in range(nrounds)],
            # "no measurable difference": within the spread of the runs
            # without (max - min over their median), 5% at least
            "noise": round(max(0.05, _spread([r["cpu_ms_per_image"] for r in d_rounds])), 3),
            "rounds": m_rounds,
            "note": "imgeditd --metrics-listen, /metrics fetched every second, "
                    "whole events; difference = its CPU per image over the "
                    "run without of the same round, minus 1; median of the rounds; "
                    "noise = the spread of the runs without over the rounds"}

    # files on disk: submit + imgeditd + export --partials against the
    # peer's whole node process (it writes the files itself)
    disk_rounds = [_disk_round(r, at, i) for i, r in enumerate(d_rounds)]
    disk_each = [_ratio(a["cpu_ms_per_image"], b["process_cpu_ms_per_image"])
                 for a, b in zip(disk_rounds, p_rounds)]
    disk = {
        "cpu_ms_per_image": _median([r["cpu_ms_per_image"] for r in disk_rounds]),
        "submit_ms_per_image": _median([r["submit_ms_per_image"] for r in disk_rounds]),
        "imgeditd_ms_per_image": _median([r["cpu_ms_per_image"] for r in d_rounds]),
        "export_ms_per_image": _median([r["export_ms_per_image"] for r in disk_rounds]),
        "peer_cpu_ms_per_image": _median([r["process_cpu_ms_per_image"] for r in p_rounds]),
        "ratio_to_peer": med_ratio(disk_each), "ratio_each_round": disk_each,
        "rounds": disk_rounds,
        "note": "CPU (user + system) of imgeditctl submit, imgeditd and imgeditctl "
                "export --partials of the same round, per image stored, against "
                "the peer's node process (/usr/bin/time, start-up included), per "
                "image written; median of the per-round ratios"}
    # export: the round with the median CPU per image
    exp = sorted((r for r in disk_rounds if r["export_ms_per_image"] is not None),
                 key=lambda r: r["export_ms_per_image"])
    exp = exp[(len(exp) - 1) // 2] if exp else {}

    submit_n = g("submit.jobs")
    submit_s = g("submit.s")
    queue = {
        "submit_each": {
            "jobs": submit_n, "seconds": submit_s,
            "jobs_per_s": submit_n / submit_s if submit_s else None,
            "inputs_bytes": g("submit.inputs_bytes"),
            "mask_bytes": g("submit.mask_bytes"),
            "db_growth_bytes": g("submit.db_growth"),
            "db_growth_per_unique_input_byte": _ratio(
                g("submit.db_growth"),
                (g("submit.inputs_bytes") or 0) + (g("submit.mask_bytes") or 0)),
            "db_growth_if_mask_per_job_bytes_would_exceed": (
                (g("submit.inputs_bytes") or 0) + (submit_n or 0) * (g("submit.mask_bytes") or 0)),
            "blobs_rows": g("submit.blobs"),
            "distinct_mask_blobs": g("submit.mask_blobs"),
            "mask_stored_once": g("submit.mask_blobs") == 1,
        },
        "claim": dict(g("claim.json") or {}, queued=g("claim.queued")),
        "list_limit_50": {"jobs": g("list.jobs"), **(g("list.stats") or {})},
        "export": {
            "files": exp.get("export_files"), "bytes": exp.get("export_bytes"),
            "seconds": exp.get("export_s"),
            "mb_per_s": (exp["export_bytes"] / 1e6 / exp["export_s"])
            if exp.get("export_s") and exp.get("export_bytes") else None,
            "cpu_s": exp.get("export_cpu_s"),
            "cpu_ms_per_image": _per_image(exp.get("export_cpu_s"), exp.get("export_files")),
            "note": "the round with the median export CPU per image",
        },
        "serve": {k[len("serve."):]: v[-1] for k, v in raw.items()
                  if k.startswith("serve.")} or None,
        "concurrency_256": {
            "jobs": g("c256.jobs"), "concurrency": g("c256.concurrency"),
            "images": g("c256.images"), "wall_s": g("c256.wall_s"),
            "cpu_s": g("c256.cpu_s"), "peak_rss_mb": g("c256.peak_rss_mb"),
            "max_in_flight_seen": g("c256.max_running"),
        },
    }

    floors = [f for f in raw.get("floor.json") or [] if isinstance(f, dict)]
    floor = None
    if floors:  # the median round, so that its parts add up to its sum
        floor = dict(sorted(floors, key=lambda f: f.get("sum_ms") or 0)[(len(floors) - 1) // 2])
        floor["rounds"] = floors
    if floor is not None and p:
        floor["sum_over_peer_cpu_per_image"] = _ratio(floor.get("sum_ms"),
                                                      p["cpu_ms_per_image"])
        floor["imgeditd_over_floor"] = _ratio(d["cpu_ms_per_image"], floor.get("sum_ms"))
    if floor is not None:
        floor["note"] = ("CPU ms per image of scripts/lib/floor_bench.c: the daemon's "
                         "base64 decoder and sha256, and one INSERT per transaction "
                         "into a bare table with the daemon's pragmas (WAL, 64 KiB "
                         "pages, synchronous=NORMAL, automatic checkpoints); no "
                         "network, parsing or job bookkeeping; the round with the median sum")

    def tgt(name, value, limit, unit, met):
        return {"target": name, "value": value, "limit": limit, "unit": unit,
                "met": None if value is None else bool(met)}
    claim_p99 = queue["claim"].get("p99_ms")
    list_med = queue["list_limit_50"].get("median")
    targets = [
        tgt("CPU per image, whole events, <= 1/10", ratios.get("cpu_per_image"),
            0.1, "ratio", ratios.get("cpu_per_image") is not None and ratios["cpu_per_image"] <= 0.1),
    ] + [
        tgt("CPU per image, %s framing, <= 1/10" % f, framing_rows[f]["ratio_to_peer"],
            0.1, "ratio", framing_rows[f]["ratio_to_peer"] is not None and
            framing_rows[f]["ratio_to_peer"] <= 0.1) for f in framings
    ] + [
        tgt("images on disk: CPU per image <= 1/5", disk["ratio_to_peer"], 0.2, "ratio",
            disk["ratio_to_peer"] is not None and disk["ratio_to_peer"] <= 0.2),
        tgt("peak RSS <= 1/8 of the peer's", ratios.get("peak_rss"), 0.125, "ratio",
            ratios.get("peak_rss") is not None and ratios["peak_rss"] <= 0.125),
        tgt("wall <= the peer's", ratios.get("wall"), 1.0, "ratio",
            ratios.get("wall") is not None and ratios["wall"] <= 1.0),
    ] + ([] if metrics_row is None else [
        tgt("CPU per image, /metrics scraped: within noise", metrics_row["difference"],
            metrics_row["noise"], "of without", metrics_row["difference"] is not None and
            abs(metrics_row["difference"]) <= metrics_row["noise"]),
    ]) + ([] if queue["export"].get("cpu_ms_per_image") is None else [
        tgt("export CPU per image <= 1.5 ms", queue["export"]["cpu_ms_per_image"], 1.5,
            "ms", queue["export"]["cpu_ms_per_image"] <= 1.5),
    ]) + ([] if not queue["serve"] else [
        tgt("serve %s < 100 ms at %s jobs" % (page, queue["serve"].get("jobs")),
            queue["serve"].get(key), 100, "ms",
            queue["serve"].get(key) is not None and queue["serve"][key] < 100)
        for page, key in (("/", "serve_index_ms"), ("/?q=WORD", "serve_index_word_ms"),
                          ("/jobs/ID", "serve_job_ms"),
                          ("thumbnail (first)", "serve_thumb_first_ms"))
    ]) + ([] if pg is None else [
        tgt("CPU/image on PostgreSQL <= 1.5x SQLite's", pg["ratio_to_sqlite"],
            1.5, "ratio", pg["ratio_to_sqlite"] is not None and pg["ratio_to_sqlite"] <= 1.5),
    ]) + ([] if pg is None or pg["claim"] is None else [
        tgt("claim p99 on PostgreSQL < 5 ms at %s queued" % pg["claim"].get("queued"),
            pg["claim"].get("p99_ms"), 5, "ms",
            pg["claim"].get("p99_ms") is not None and pg["claim"]["p99_ms"] < 5),
    ]) + ([] if submit_n is None else [  # the queue figures (not with --stream-only)
        tgt("submit --each of %s jobs < 10 s" % submit_n, submit_s, 10, "s",
            submit_s is not None and submit_s < 10),
        tgt("claim p99 < 5 ms at %s queued" % g("claim.queued"), claim_p99, 5, "ms",
            claim_p99 is not None and claim_p99 < 5),
        tgt("list --limit 50 < 100 ms at %s jobs" % g("list.jobs"), list_med, 100, "ms",
            list_med is not None and list_med < 100),
        tgt("peak RSS at --concurrency %s < 512 MB" % g("c256.concurrency"),
            g("c256.peak_rss_mb"), 512, "MB",
            g("c256.peak_rss_mb") is not None and g("c256.peak_rss_mb") < 512),
    ])

    doc = {
        "when": g("when"), "host": g("host"), "cores": g("cores"),
        "command": g("command"), "quick": bool(g("quick")),
        "workload": {"jobs": g("jobs"), "concurrency": g("concurrency"),
                     "rounds": nrounds,
                     "image_bytes": g("image_bytes"), "partial_images": 3,
                     "model": "gpt-image-2.6-flare", "input_png_bytes": g("input_bytes"),
                     "warmed_free_memory_mb": g("warm_mb"),
                     "fake_upstream_cpu_s": {"imgeditd_runs": raw.get("fake.cpu_imgeditd"),
                                             "peer_runs": raw.get("fake.cpu_peer")}},
        "tools": tools, "ratios_imgeditd_over_peer": ratios,
        "framings": framing_rows, "images_on_disk": disk, "metrics_scraped": metrics_row,
        "queue": queue, "floor": floor, "postgresql": pg, "targets": targets,
        "versions": {"imgedit": g("version.imgedit"), "node": g("version.node"),
                     "openai_sdk": g("version.sdk"), "sqlite": g("version.sqlite"),
                     "postgresql": g("version.postgresql")},
    }
    with open(args[1], "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")

    def fmt(v, spec):
        return "-" if v is None else format(v, spec)
    print("Bulk streaming edits: %s jobs, concurrency %s, %s-byte PNGs, "
          "3 partials + final (gpt-image-2.6-flare), same fake upstream writing whole SSE events; "
          "median of %s round(s)"
          % (g("jobs"), g("concurrency"), g("image_bytes"), nrounds))
    print()
    hdr = "%-10s %9s %9s %14s %13s %8s" % ("tool", "wall s", "CPU s",
                                          "CPU ms/image", "peak RSS MB", "images")
    print(hdr)
    print("-" * len(hdr))
    for name, t in tools.items():
        print("%-10s %9s %9s %14s %13s %8s" % (
            name, fmt(t["wall_s"], ".2f"), fmt(t["cpu_s"], ".2f"),
            fmt(t["cpu_ms_per_image"], ".2f"), fmt(t["peak_rss_mb"], ".1f"),
            t["images"]))
    if ratios:
        print("%-10s %9s %9s %14s %13s" % (
            "ratio", fmt(ratios["wall"], ".3f"), "", fmt(ratios["cpu_per_image"], ".3f"),
            fmt(ratios["peak_rss"], ".3f")))
        print("(ratio = imgeditd / peer: the median of the per-round ratios)")
        if nrounds > 1:
            print("CPU ms/image by round: imgeditd %s; peer %s; ratio %s" % (
                " ".join(fmt(r["cpu_ms_per_image"], ".2f") for r in d_rounds),
                " ".join(fmt(r["cpu_ms_per_image"], ".2f") for r in p_rounds),
                " ".join(fmt(x, ".3f") for x in ratios["cpu_per_image_each_round"])))
            print("peak RSS ratio by round: %s; wall ratio by round: %s" % (
                " ".join(fmt(x, ".3f") for x in ratios["peak_rss_each_round"]),
                " ".join(fmt(x, ".3f") for x in ratios["wall_each_round"])))
    print_framings(framing_rows, fmt)
    print_metrics(metrics_row, fmt)
    print_pg(pg, fmt)
    print_disk(disk, disk_rounds, p_rounds, nrounds, fmt)
    if floor is not None:
        print()
        print("Floor of the design on this machine (scripts/lib/floor_bench.c, %s images,"
              " median of %s round(s);" % (floor.get("images"), len(floors)))
        print("no network, parsing or job bookkeeping), CPU ms per image:")
        print("  base64 decode %s + sha256 %s + SQLite insert (WAL, checkpoints) %s = %s"
              % (fmt(floor.get("decode_ms"), ".2f"), fmt(floor.get("sha256_ms"), ".2f"),
                 fmt(floor.get("store_ms"), ".2f"), fmt(floor.get("sum_ms"), ".2f")))
        if floor.get("sum_over_peer_cpu_per_image") is not None:
            print("  = %s of the peer's CPU per image; imgeditd spends %s x the floor"
                  % (fmt(floor["sum_over_peer_cpu_per_image"], ".3f"),
                     fmt(floor.get("imgeditd_over_floor"), ".2f")))
    if submit_n is not None:
        print_queue(queue, g, fmt)
    print()
    print("Targets:")
    for t in targets:
        mark = {True: "met", False: "NOT MET", None: "n/a"}[t["met"]]
        print("  %-8s %-42s %s (limit %s %s)" % (
            mark, t["target"], fmt(t["value"], ".3f"), t["limit"], t["unit"]))
    if g("quick"):
        print("  (--quick: smaller sizes than the targets are stated for)")
    checks = bench_checks(d_rounds, p_rounds, framing_rows, disk_rounds, metrics_row,
                          pg and pg["rounds"])
    print()
    print("Checks:")
    for what, ok in checks:
        print("  %-4s %s" % ("ok" if ok else "FAIL", what))
    if not all(ok for _, ok in checks):
        sys.exit("bench: a check failed: the figures above do not count")


def print_metrics(row, fmt):
    """imgeditd with /metrics scraped every second against without."""
    if row is None:
        return
    print()
    print("imgeditd with --metrics-listen, /metrics scraped every second (whole events):")
    print("  CPU ms/image %s (by round %s; scrapes %s); against without, same round: %s"
          % (fmt(row["cpu_ms_per_image"], ".2f"),
             " ".join(fmt(x, ".2f") for x in row["cpu_ms_per_image_each_round"]),
             " ".join(fmt(x, ".0f") for x in row["scrapes_each_round"]),
             " ".join(fmt(x * 100 if x is not None else None, "+.1f") + "%"
                      for x in row["difference_each_round"])))


def print_framings(rows, fmt):
    """One row per framing: imgeditd's CPU per image, its ratio to the
    peer's of the same round (the peer always reads whole events)."""
    if len(rows) < 2:
        return
    print()
    print("imgeditd by framing of the fake upstream's SSE stream (the peer runs once")
    print("per round, against whole events; ratio = imgeditd's CPU ms/image over the")
    print("peer's of the same round, median of the rounds):")
    hdr = "  %-10s %14s %8s   %s" % ("framing", "CPU ms/image", "ratio", "ratio by round")
    print(hdr)
    for f, r in rows.items():
        print("  %-10s %14s %8s   %s" % (
            f, fmt(r["cpu_ms_per_image"], ".2f"), fmt(r["ratio_to_peer"], ".3f"),
            " ".join(fmt(x, ".3f") for x in r["ratio_each_round"]) or "-"))


def print_disk(disk, disk_rounds, p_rounds, nrounds, fmt):
    """Images on disk: submit + imgeditd + export --partials, against the
    peer's node process, which writes its files itself."""
    print()
    print("Images on disk, CPU ms per image (user + system of whole processes):")
    # each figure is its own median over the rounds: the parts' medians
    # need not add up to the total's
    print("  imgedit %s (medians, each over the rounds: submit %s, imgeditd %s, export --partials %s); sdk-peer %s (node, start-up included)"
          % (fmt(disk["cpu_ms_per_image"], ".2f"), fmt(disk["submit_ms_per_image"], ".2f"),
             fmt(disk["imgeditd_ms_per_image"], ".2f"), fmt(disk["export_ms_per_image"], ".2f"),
             fmt(disk["peer_cpu_ms_per_image"], ".2f")))
    print("  ratio %s (median of the per-round ratios)%s" % (
        fmt(disk["ratio_to_peer"], ".3f"),
        "; by round: imgedit %s; peer %s; ratio %s" % (
            " ".join(fmt(r["cpu_ms_per_image"], ".2f") for r in disk_rounds),
            " ".join(fmt(r["process_cpu_ms_per_image"], ".2f") for r in p_rounds),
            " ".join(fmt(x, ".3f") for x in disk["ratio_each_round"]))
        if nrounds > 1 else ""))


def print_queue(queue, g, fmt):
    submit_n = g("submit.jobs")
    submit_s = g("submit.s")
    claim_p99 = queue["claim"].get("p99_ms")
    list_med = queue["list_limit_50"].get("median")
    print()
    s = queue["submit_each"]
    print("Queue figures (separate fresh databases):")
    print("  submit --each, %s jobs, one mask: %s s = %s jobs/s; db grew %s bytes for "
          "%s bytes of distinct inputs + %s-byte mask; blobs rows %s, distinct mask blobs %s"
          % (submit_n, fmt(submit_s, ".2f"), fmt(s["jobs_per_s"], ".0f"),
             s["db_growth_bytes"], s["inputs_bytes"], s["mask_bytes"],
             s["blobs_rows"], s["distinct_mask_blobs"]))
    c = queue["claim"]
    print("  claim (store_claim) with %s queued, %s claims: median %s ms, p99 %s ms, max %s ms"
          % (g("claim.queued"), c.get("claims"), fmt(c.get("median_ms"), ".3f"),
             fmt(claim_p99, ".3f"), fmt(c.get("max_ms"), ".3f")))
    if c.get("checkpoints") is not None:
        print("    WAL checkpoints run between claims (not timed above): %s, longest %s ms"
              % (c.get("checkpoints"), fmt(c.get("checkpoint_max_ms"), ".1f")))
    print("  list --limit 50 at %s jobs: median %s ms of %s runs"
          % (g("list.jobs"), fmt(list_med, ".1f"), queue["list_limit_50"].get("n")))
    e = queue["export"]
    print("  export --state succeeded --partials: %s files, %s MB in %s s = %s MB/s;"
          " CPU %s ms per image (user + system)"
          % (e["files"], fmt((e["bytes"] or 0) / 1e6, ".1f"), fmt(e["seconds"], ".2f"),
             fmt(e["mb_per_s"], ".0f"), fmt(e.get("cpu_ms_per_image"), ".2f")))
    sv = queue.get("serve")
    if sv:
        print("  imgeditctl serve at %s jobs (%s image rows), server time, median of 7: "
              "/ %s ms, / by state %s, / by a word %s, / by a word in no prompt %s,"
              % (sv.get("jobs"), sv.get("images"), fmt(sv.get("serve_index_ms"), ".1f"),
                 fmt(sv.get("serve_index_state_ms"), ".1f"),
                 fmt(sv.get("serve_index_word_ms"), ".1f"),
                 fmt(sv.get("serve_index_rare_word_ms"), ".1f")))
        print("    an older page %s, /jobs/ID %s, a row %s, an image %s ms; thumbnail of a "
              "%s-byte PNG: first %s ms, cached %s ms"
              % (fmt(sv.get("serve_index_older_ms"), ".1f"), fmt(sv.get("serve_job_ms"), ".1f"),
                 fmt(sv.get("serve_row_ms"), ".1f"), fmt(sv.get("serve_image_ms"), ".1f"),
                 sv.get("big_png_bytes"), fmt(sv.get("serve_thumb_first_ms"), ".1f"),
                 fmt(sv.get("serve_thumb_cached_ms"), ".2f")))
    k = queue["concurrency_256"]
    print("  imgeditd --concurrency %s, %s jobs: peak RSS %s MB, %s images, wall %s s, CPU %s s"
          % (k["concurrency"], k["jobs"], fmt(k["peak_rss_mb"], ".1f"), k["images"],
             fmt(k["wall_s"], ".2f"), fmt(k["cpu_s"], ".2f")))


def _sha_check(name, rounds):
    """Every stored image is one upstream sent: the check, naming each
    round where some were not."""
    bad = ["round %d: %s stored image(s) not among those upstream sent" % (
        i + 1, "some" if r["stored_not_sent"] is None else r["stored_not_sent"])
        for i, r in enumerate(rounds) if r["stored_sha256_match_upstream"] is not True]
    what = "%s: stored images byte-identical to what upstream sent" % name
    return (what + (" (%s)" % "; ".join(bad) if bad else ""), not bad)


def bench_checks(d_rounds, p_rounds, framing_rows, disk_rounds, metrics_row=None,
                 pg_rounds=None):
    """What must hold for the figures to mean anything: every job of both
    tools succeeded, every image stored as upstream sent it, export wrote
    every image, and every run handled the same number of images in each
    round (pg_rounds: imgeditd on PostgreSQL, None when left out)."""
    checks = []
    for f, row in framing_rows.items():
        name = "imgeditd" if f == "whole" else "imgeditd (%s framing)" % f
        checks.append(("%s: no job failed, every round" % name,
                       all((r["jobs_failed"] or 0) == 0 for r in row["rounds"])))
        checks.append(_sha_check(name, row["rounds"]))
        if f != "whole":
            checks.append(("%s: as many images as with whole events, every round" % name,
                           all(a["images"] == b["images"]
                               for a, b in zip(row["rounds"], d_rounds))))
    if metrics_row is not None:
        name = "imgeditd (/metrics scraped)"
        checks.append(("%s: no job failed, every round" % name,
                       all((r["jobs_failed"] or 0) == 0 for r in metrics_row["rounds"])))
        checks.append(_sha_check(name, metrics_row["rounds"]))
        checks.append(("%s: scraped at least once, every round" % name,
                       all((n or 0) > 0 for n in metrics_row["scrapes_each_round"])))
    if pg_rounds is not None:
        name = "imgeditd on PostgreSQL"
        checks.append(("%s: no job failed, every round" % name,
                       bool(pg_rounds) and all((r["jobs_failed"] or 0) == 0 for r in pg_rounds)))
        checks.append(_sha_check(name, pg_rounds))
        checks.append(("%s: as many images as on SQLite, every round" % name,
                       len(pg_rounds) == len(d_rounds) and
                       all(a["images"] == b["images"] for a, b in zip(pg_rounds, d_rounds))))
    checks.append(("export --partials: one file per stored image, every round",
                   all(r["export_files"] == d["images"]
                       for r, d in zip(disk_rounds, d_rounds))))
    if p_rounds:
        checks.append(("sdk-peer: no job failed, every round",
                       all((r["jobs_failed"] or 0) == 0 for r in p_rounds)))
        checks.append(("both tools: the same number of images, every round",
                       all(a["images"] == b["images"] for a, b in zip(d_rounds, p_rounds))))
    return checks


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmds = {"png": cmd_png, "bulk": cmd_bulk, "sent": cmd_sent, "stored": cmd_stored,
            "stats": cmd_stats, "report": cmd_report}
    if sys.argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
