#!/usr/bin/python3
"""Looks for personal data of a run in clear in its database files and logs.

  pii_scan.py --csv FILE:COLUMN=KIND[,COLUMN=KIND...] [--csv ...]
              [--needle KIND=TEXT ...] [--min-chars KIND=N ...] PATH...
  pii_scan.py --self-test

Needles come from the CSV files the run loaded (e.g. households.csv:
id_number=id,name=name) and from --needle (e.g. carer names the run set).
Each needle must occur in the CSV it was read from, and every KIND asked
for must have at least one needle: the scan cannot pass vacuously because a
column was empty or misnamed.

PATH is a file or a directory (searched recursively). Every file is read as
bytes: the raw bytes, and every base64 or hex run in them decoded (at each
alignment), are searched. A file that is an SQLite database (with its -wal
and -shm, copied first so that the WAL is applied without touching the live
files) is also opened with sqlite3 and every TEXT and BLOB cell of every
table is searched: raw, base64- and hex-decoded, and, for protobuf-looking
bytes, every length-delimited field recursively (strings nested in
messages, base64 inside string fields, ...). Needles are searched as UTF-8.

Exit 0 when nothing is found, 1 when something is (one line per place:
file, table.column or byte region, kind, how it was encoded, count; the
needle itself is shown masked), 2 on a usage or vacuity error.
--self-test builds a throwaway SQLite file with a base64 protobuf holding a
name (and other encodings) and checks that each is found, and that a clean
file and a vacuous needle list are told apart.
"""
import argparse
import base64
import binascii
import collections
import csv
import os
import re
import shutil
import sqlite3
import sys
import tempfile

B64_RUN = re.compile(rb"[A-Za-z0-9+/_-]{12,}={0,2}")
HEX_RUN = re.compile(rb"(?:[0-9a-fA-F]{2}){8,}")
MAX_DEPTH = 4


def mask(text):
    return text[:1] + "*" * (len(text) - 1)


# ---- decoding ---------------------------------------------------------------
def b64_variants(run):
    """Decodings of a base64-looking run, at each of the 4 alignments."""
    out = []
    for start in range(4):
        chunk = run[start:].rstrip(b"=")
        chunk = chunk[: len(chunk) - len(chunk) % 4] if len(chunk) % 4 == 1 else chunk
        if len(chunk) < 8:
            continue
        padded = chunk + b"=" * (-len(chunk) % 4)
        for alt in (None, b"-_"):
            try:
                out.append(base64.b64decode(padded, altchars=alt, validate=False))
            except (binascii.Error, ValueError):
                pass
    return out


def varint(buf, i):
    shift = value = 0
    while i < len(buf) and shift < 64:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, i
        shift += 7
    raise ValueError("bad varint")


def proto_fields(buf):
    """Payloads of the length-delimited fields of buf read as a protobuf
    message; [] when buf is not one (any wire-format error)."""
    out, i = [], 0
    try:
        while i < len(buf):
            key, i = varint(buf, i)
            field, wire = key >> 3, key & 7
            if field == 0:
                return []
            if wire == 0:
                _, i = varint(buf, i)
            elif wire == 1:
                i += 8
            elif wire == 5:
                i += 4
            elif wire == 2:
                n, i = varint(buf, i)
                if i + n > len(buf):
                    return []
                out.append(buf[i:i + n])
                i += n
            else:
                return []
        return out if i == len(buf) else []
    except ValueError:
        return []


def layers(data, depth=0, path="raw"):
    """(bytes, how) for data and everything decoded from it."""
    yield data, path
    if depth >= MAX_DEPTH or len(data) < 4:
        return
    for m in B64_RUN.finditer(data):
        for dec in b64_variants(m.group(0)):
            yield from layers(dec, depth + 1, f"{path}>base64")
    for m in HEX_RUN.finditer(data):
        yield from layers(bytes.fromhex(m.group(0).decode()), depth + 1, f"{path}>hex")
    for sub in proto_fields(data):
        if len(sub) >= 4:
            yield from layers(sub, depth + 1, f"{path}>protobuf")


# ---- needles ----------------------------------------------------------------
def load_needles(csv_specs, extra, min_chars):
    """{kind: {needle}}; exits 2 on a vacuous or inconsistent list."""
    needles = collections.defaultdict(set)
    for spec in csv_specs:
        path, _, cols = spec.partition(":")
        raw = open(path, "rb").read()
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        for col_kind in cols.split(","):
            col, _, kind = col_kind.partition("=")
            kind = kind or col
            found = set()
            for r in rows:
                v = (r.get(col) or "").strip()
                if len(v) >= min_chars.get(kind, 2):
                    found.add(v)
            if not found:
                sys.exit(f"pii_scan: no {kind} needle in column {col!r} of {path}: the scan would be vacuous")
            missing = [v for v in found if v.encode() not in raw]
            if missing:
                sys.exit(f"pii_scan: {len(missing)} {kind} needles are not in {path} as UTF-8")
            needles[kind] |= found
    for e in extra:
        kind, _, text = e.partition("=")
        if len(text) < 2:
            sys.exit(f"pii_scan: --needle {e!r}: too short to look for")
        needles[kind].add(text)
    if not needles:
        sys.exit("pii_scan: no needles")
    return needles


class Matcher:
    def __init__(self, needles):
        self.by_bytes = {}
        for kind, texts in needles.items():
            for t in texts:
                self.by_bytes[t.encode()] = (kind, t)
        pattern = b"|".join(re.escape(b) for b in sorted(self.by_bytes, key=len, reverse=True))
        self.rx = re.compile(pattern)

    def find(self, data):
        return {self.by_bytes[m.group(0)] for m in self.rx.finditer(data)}


# ---- scanning ---------------------------------------------------------------
def scan_bytes(matcher, data, where, findings):
    seen = set()
    for layer, how in layers(data):
        for kind, text in matcher.find(layer):
            if (kind, text, how) not in seen:
                seen.add((kind, text, how))
                findings[(where, kind, how)].add(text)


def is_sqlite(path):
    with open(path, "rb") as f:
        return f.read(16) == b"SQLite format 3\x00"


def scan_sqlite(matcher, path, findings, tmp):
    copy = os.path.join(tmp, os.path.basename(path))
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            shutil.copyfile(path + suffix, copy + suffix)
    db = sqlite3.connect(copy)
    db.text_factory = bytes
    cells = 0
    try:
        tables = [r[0].decode() for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for t in tables:
            cur = db.execute(f'SELECT * FROM "{t}"')
            cols = [d[0] for d in cur.description]
            for row in cur:
                for col, v in zip(cols, row):
                    if isinstance(v, (bytes, str)) and v:
                        cells += 1
                        data = v if isinstance(v, bytes) else v.encode()
                        scan_bytes(matcher, data, f"{path} {t}.{col}", findings)
    finally:
        db.close()
    return cells


def files_under(paths):
    for p in paths:
        if os.path.isdir(p):
            for d, _, names in os.walk(p):
                for n in sorted(names):
                    yield os.path.join(d, n)
        elif os.path.exists(p):
            yield p


def scan(paths, matcher):
    findings = collections.defaultdict(set)
    stats = collections.Counter()
    with tempfile.TemporaryDirectory() as tmp:
        for f in files_under(paths):
            data = open(f, "rb").read()
            stats["files"] += 1
            stats["bytes"] += len(data)
            scan_bytes(matcher, data, f"{f} (file bytes)", findings)
            if is_sqlite(f):
                stats["databases"] += 1
                stats["cells"] += scan_sqlite(matcher, f, findings, tmp)
    return findings, stats


def report(findings, stats, needles):
    counts = ", ".join(f"{len(v)} {k}" for k, v in sorted(needles.items()))
    print(f"pii_scan: looked for {counts} in {stats['files']} files ({stats['bytes']} bytes), "
          f"{stats['databases']} SQLite databases ({stats['cells']} text/blob cells)")
    for (where, kind, how), texts in sorted(findings.items()):
        sample = ", ".join(mask(t) for t in sorted(texts)[:3])
        print(f"FOUND {kind} x{len(texts)} in {where} [{how}] e.g. {sample}")
    by_kind = collections.defaultdict(set)
    for (_, kind, _), texts in findings.items():
        by_kind[kind] |= texts
    if findings:
        print("pii_scan: in clear: " + ", ".join(f"{len(v)} of {len(needles[k])} {k}" for k, v in sorted(by_kind.items())))
    else:
        print("pii_scan: nothing found")
    return 1 if findings else 0


# ---- self-test --------------------------------------------------------------
def pb_field(num, payload):
    def enc(n):
        out = bytearray()
        while True:
            b = n & 0x7F
            n >>= 7
            out.append(b | (0x80 if n else 0))
            if not n:
                return bytes(out)
    return enc(num << 3 | 2) + enc(len(payload)) + payload


def self_test():
    ok = True

    def expect(cond, what):
        nonlocal ok
        print(("ok   " if cond else "FAIL ") + what)
        ok = ok and cond

    child, carer, idn = "欧阳明轩", "欧阳秀英", "41132520100301001X"
    with tempfile.TemporaryDirectory() as d:
        csv_path = os.path.join(d, "households.csv")
        with open(csv_path, "w", encoding="utf-8", newline="") as f:
            f.write("household_id,id_number,name\nH1,%s,%s\nH2,411325198001010017,王建国\n" % (idn, child))
        needles = load_needles([f"{csv_path}:id_number=id,name=name"], [f"carer={carer}"], {"id": 18})
        m = Matcher(needles)
        # A response as an idempotency record might hold it: a message with
        # the child's ID number and name and a nested left-behind record
        # with the carer's name; stored base64 in a TEXT column, and raw in
        # a BLOB column of another row.
        inner = pb_field(1, carer.encode()) + pb_field(2, "祖母".encode())
        msg = pb_field(1, b"m-17") + pb_field(4, idn.encode()) + pb_field(5, child.encode()) + pb_field(9, inner)
        b64_only = pb_field(1, b"m-18") + pb_field(7, pb_field(3, child.encode()))
        db_path = os.path.join(d, "probe.db")
        db = sqlite3.connect(db_path)
        db.execute("CREATE TABLE request_log (request_id TEXT, method TEXT, response BLOB, note TEXT)")
        db.execute("INSERT INTO request_log VALUES ('r1', 'SetLeftBehind', NULL, ?)",
                   ("v1:" + base64.b64encode(msg).decode(),))
        db.execute("INSERT INTO request_log VALUES ('r2', 'OpenDropoutCase', ?, NULL)",
                   (base64.urlsafe_b64encode(b"\x00\x01" + b64_only).decode().rstrip("="),))
        db.execute("INSERT INTO request_log VALUES ('r3', 'X', ?, ?)", (msg.hex(), None))
        db.commit()
        db.close()
        findings, _ = scan([db_path], m)
        hows = {(k, how) for (where, k, how) in findings if "request_log" in where}
        at = lambda col: {(k, how) for (where, k, how) in findings if where.endswith(f"request_log.{col}")}
        expect(("name", "raw>base64") in at("note"), "a name in a base64 protobuf in a TEXT cell is found")
        expect(("carer", "raw>base64") in at("note"), "a carer name nested in a base64 protobuf is found")
        expect(("id", "raw>base64") in at("note"), "an ID number in a base64 protobuf is found")
        expect(("name", "raw>base64") in at("response"),
               "a name in url-safe, unpadded, misaligned base64 is found")
        expect(("name", "raw>hex") in at("response"), "a name in a hex-encoded protobuf is found")
        expect(("name", "raw") not in hows, "nothing is in clear in the cells themselves (the decoding found them)")
        expect(not any("王建国" in t for v in findings.values() for t in v), "a name not stored is not reported")
        clean = os.path.join(d, "clean.db")
        db = sqlite3.connect(clean)
        db.execute("CREATE TABLE members (id TEXT, name_enc BLOB)")
        db.execute("INSERT INTO members VALUES ('m-1', ?)", (os.urandom(48),))
        db.execute("INSERT INTO members VALUES ('m-2', ?)", (base64.b64encode(os.urandom(48)).decode(),))
        db.commit()
        db.close()
        expect(not scan([clean], m)[0], "a database with only ciphertext gives no finding")
        log = os.path.join(d, "svc.log")
        with open(log, "w", encoding="utf-8") as f:
            f.write(f"E0101 call failed for {child}\n")
        expect(any(k == "name" for (_, k, _) in scan([log], m)[0]), "a name in a log line is found")
        empty = os.path.join(d, "empty.csv")
        with open(empty, "w") as f:
            f.write("household_id,id_number,nom\nH1,%s,x\n" % idn)
        try:
            load_needles([f"{empty}:id_number=id,name=name"], [], {})
            expect(False, "a CSV without names is refused (vacuous scan)")
        except SystemExit as e:
            expect("vacuous" in str(e), "a CSV without names is refused (vacuous scan)")
    print("pii_scan self-test: " + ("passed" if ok else "FAILED"))
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--csv", action="append", default=[], help="FILE:COLUMN=KIND[,COLUMN=KIND]")
    ap.add_argument("--needle", action="append", default=[], help="KIND=TEXT")
    ap.add_argument("--min-chars", action="append", default=[], help="KIND=N (default 2)")
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("paths", nargs="*")
    a = ap.parse_args()
    if a.self_test:
        return self_test()
    if not a.paths or not (a.csv or a.needle):
        ap.error("needles (--csv/--needle) and PATHs are required")
    min_chars = {k: int(v) for k, v in (x.split("=", 1) for x in a.min_chars)}
    needles = load_needles(a.csv, a.needle, min_chars)
    findings, stats = scan(a.paths, Matcher(needles))
    if stats["files"] == 0:
        print("pii_scan: no file to scan", file=sys.stderr)
        return 2
    return report(findings, stats, needles)


if __name__ == "__main__":
    sys.exit(main())
