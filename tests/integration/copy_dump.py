# tests/integration/copy_dump.py: a normalized dump of an imgedit queue, the
# same text from SQLite and PostgreSQL, for t_pg_copy.sh to diff: every row
# of the copied tables in key order, JSON columns parsed, byte columns as
# "sha256:length" computed from the bytes. Usage: copy_dump.py sqlite PATH |
# copy_dump.py pg URI
import hashlib, json, sqlite3, subprocess, sys

TABLES = [  # name, key columns, JSON columns, byte columns
    ("blobs", "id", (), ("data",)),
    ("jobs", "id", ("params",), ()),
    ("inputs", "job_id, role, ordinal", (), ("data",)),
    ("attempts", "id", ("usage",), ()),
    ("images", "id", (), ("data",)),
    ("events", "id", (), ()),
    ("control", "key", (), ()),
]


def norm(row, js, bs):
    out = {}
    for k, v in row.items():
        if k in js and v is not None:
            v = json.loads(v) if isinstance(v, str) else v
        if k in bs and v is not None:
            v = "%s:%d" % (hashlib.sha256(v).hexdigest(), len(v))
        out[k] = v
    return json.dumps(out, sort_keys=True)


def sqlite_rows(path, table, key):
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    for r in db.execute("SELECT * FROM %s ORDER BY %s" % (table, key)):
        yield dict(r)


def pg_rows(uri, table, key, bs):
    # bytes as hex inside JSON: only this test's reader decodes them
    cols = subprocess.run(["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", uri, "-c",
                           "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) "
                           "FROM information_schema.columns WHERE table_name = '%s'" % table],
                          check=True, capture_output=True, text=True).stdout.strip().split(",")
    sel = ", ".join("encode(%s, 'hex') AS %s" % (c, c) if c in bs else c for c in cols)
    q = "SELECT row_to_json(t) FROM (SELECT %s FROM %s ORDER BY %s) t" % (sel, table, key)
    out = subprocess.run(["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", uri, "-c", q],
                         check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        r = json.loads(line)
        for c in bs:
            if r.get(c) is not None:
                r[c] = bytes.fromhex(r[c])
        yield r


kind, where = sys.argv[1], sys.argv[2]
for table, key, js, bs in TABLES:
    rows = sqlite_rows(where, table, key) if kind == "sqlite" else pg_rows(where, table, key, bs)
    for r in rows:
        print(table, norm(r, js, bs))
