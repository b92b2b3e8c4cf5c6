#!/usr/bin/env python3
"""Independent reference implementation of the veil object container.

Written from docs/formats/object.md alone, with nothing but the Python
`cryptography` package, to cross-check veil's C implementation
(src/crypto/container.c): both must produce the same bytes for the test
vectors in this folder.

    object_ref.py generate DIR   write vector-N.json files into DIR
    object_ref.py check DIR      re-seal every vector in DIR from its inputs,
                                 compare byte for byte, open it with the
                                 reference reader and run tamper cases

The C unit test (tests/crypto/test_container.c) reads the committed JSON and
never runs this script.
"""
import hashlib
import os
import re
import struct
import sys

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"VEILOBJ\x00"
VERSION = 1
SUITE = 1
FIXED = 76
KEY_ID_MAX = 64
CHUNK_MIN = 1024
CHUNK_MAX = 16 << 20
TAG = 16
INFO = b"veil object v1"


class Corrupt(Exception):
    """The object failed an integrity check."""


class Invalid(Exception):
    """The header is malformed or unsupported."""


def object_key(dek, salt, object_id):
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=INFO + object_id).derive(dek)


def nonce(prefix, index, last):
    return prefix + struct.pack(">I", index) + (b"\x01" if last else b"\x00")


def header(key_id, chunk_size, object_id, salt, nonce_prefix):
    kid = key_id.encode("ascii")
    assert 1 <= len(kid) <= KEY_ID_MAX and all(0x21 <= c <= 0x7E for c in kid)
    assert CHUNK_MIN <= chunk_size <= CHUNK_MAX
    assert len(object_id) == 16 and len(salt) == 32 and len(nonce_prefix) == 7
    return (MAGIC + bytes([VERSION, SUITE]) + struct.pack(">HII", FIXED + len(kid), chunk_size, 0)
            + object_id + salt + nonce_prefix + bytes([len(kid)]) + kid)


def seal(dek, key_id, chunk_size, object_id, salt, nonce_prefix, plaintext):
    hdr = header(key_id, chunk_size, object_id, salt, nonce_prefix)
    aead = AESGCM(object_key(dek, salt, object_id))
    # Full chunks, then a final chunk of 1..chunk_size bytes (0 only when empty).
    chunks = [plaintext[i:i + chunk_size] for i in range(0, len(plaintext), chunk_size)] or [b""]
    assert len(chunks) <= 1 << 32
    out = [hdr]
    for i, chunk in enumerate(chunks):
        out.append(aead.encrypt(nonce(nonce_prefix, i, i == len(chunks) - 1), chunk, hdr))
    return b"".join(out)


def parse_header(data):
    """Reader checks 1-9 of object.md, in that order."""
    if data[:8] != MAGIC[:len(data[:8])] or not data:
        raise Invalid("bad magic")
    if len(data) < 12:
        raise Corrupt("truncated header")
    if data[8] != VERSION:
        raise Invalid("unsupported version")
    if data[9] != SUITE:
        raise Invalid("unsupported suite")
    if len(data) < FIXED:
        raise Corrupt("truncated header")
    kid_len = data[75]
    if not 1 <= kid_len <= KEY_ID_MAX:
        raise Invalid("key id length")
    hlen, chunk_size, reserved = struct.unpack(">HII", data[10:20])
    if hlen != FIXED + kid_len:
        raise Invalid("header length mismatch")
    if not CHUNK_MIN <= chunk_size <= CHUNK_MAX:
        raise Invalid("chunk size")
    if reserved != 0:
        raise Invalid("reserved")
    if len(data) < hlen:
        raise Corrupt("truncated header")
    kid = data[FIXED:hlen]
    if not all(0x21 <= c <= 0x7E for c in kid):
        raise Invalid("key id not printable")
    return {"raw": data[:hlen], "chunk_size": chunk_size, "object_id": data[20:36], "salt": data[36:68],
            "nonce_prefix": data[68:75], "key_id": kid.decode("ascii")}


def open_object(dek, data):
    """Reader checks 10-13: chunks with one chunk of look-ahead."""
    h = parse_header(data)
    aead = AESGCM(object_key(dek, h["salt"], h["object_id"]))
    step = h["chunk_size"] + TAG
    body = data[len(h["raw"]):]
    if not body:
        raise Corrupt("chunk 0 missing")
    out, i, pos = [], 0, 0
    while True:
        chunk = body[pos:pos + step]
        pos += len(chunk)
        last = pos == len(body)  # a short chunk always ends the body
        if len(chunk) < TAG:
            raise Corrupt("chunk %d shorter than a tag" % i)
        if len(chunk) == TAG and i > 0:
            raise Corrupt("empty final chunk %d" % i)
        if not last and i == (1 << 32) - 1:
            raise Corrupt("too many chunks")
        try:
            out.append(aead.decrypt(nonce(h["nonce_prefix"], i, last), chunk, h["raw"]))
        except InvalidTag:
            raise Corrupt("chunk %d failed authentication" % i) from None
        if last:
            return b"".join(out)
        i += 1


# ---- the vectors: inputs are derived from labels so anyone can regenerate them ----

def label(n, what, size):
    return hashlib.sha256(b"veil object vector %d %s" % (n, what.encode())).digest()[:size]


VECTORS = [
    # (number, plaintext length, key id, description)
    (1, 0, "test-dek-01", "empty plaintext: one chunk of 0 bytes, flagged final"),
    (2, 1, "test-dek-01", "one byte"),
    (3, 1024, "test-dek-01", "exactly one full chunk, which is final"),
    (4, 1025, "test-dek-01", "one full chunk and a final chunk of 1 byte"),
    (5, 3072, "test-dek-01", "three full chunks, the third final"),
    (6, 2560, "test-dek-01", "two full chunks and a final half chunk"),
    (7, 100, "k" * 56 + "-max-len", "a key id of the maximum 64 characters"),
]
CHUNK = 1024
DEK = bytes(range(32))


def plaintext(length):
    return bytes(j % 251 for j in range(length))


def inputs(n, length, key_id):
    return {"dek": DEK, "key_id": key_id, "object_id": label(n, "object id", 16), "salt": label(n, "salt", 32),
            "nonce_prefix": label(n, "nonce prefix", 7), "chunk_size": CHUNK, "plaintext": plaintext(length)}


FIELDS = ["dek", "key_id", "object_id", "salt", "nonce_prefix", "chunk_size", "plaintext", "object_key",
          "ciphertext"]


def render(n, desc, v):
    """The file format the C test parses: one "name": value pair per line."""
    lines = ['  "name": "vector-%d"' % n, '  "description": "%s"' % desc]
    for f in FIELDS:
        val = v[f]
        if isinstance(val, int):
            lines.append('  "%s": %d' % (f, val))
        elif isinstance(val, str):
            lines.append('  "%s": "%s"' % (f, val))
        else:
            lines.append('  "%s": "%s"' % (f, val.hex()))
    return "{\n" + ",\n".join(lines) + "\n}\n"


def generate(folder):
    for n, length, key_id, desc in VECTORS:
        v = inputs(n, length, key_id)
        v["object_key"] = object_key(v["dek"], v["salt"], v["object_id"])
        v["ciphertext"] = seal(v["dek"], v["key_id"], v["chunk_size"], v["object_id"], v["salt"],
                               v["nonce_prefix"], v["plaintext"])
        with open(os.path.join(folder, "vector-%d.json" % n), "w") as f:
            f.write(render(n, desc, v))


def load(path):
    text = open(path).read()
    v = {}
    for key, s, num in re.findall(r'"(\w+)": (?:"([^"]*)"|(\d+))', text):
        v[key] = int(num) if num else s
    for f in ("dek", "object_id", "salt", "nonce_prefix", "plaintext", "object_key", "ciphertext"):
        v[f] = bytes.fromhex(v[f])
    return v


def expect_fail(dek, data, what):
    try:
        open_object(dek, data)
    except (Corrupt, Invalid):
        return
    raise SystemExit("reference reader accepted a %s object" % what)


def check(folder):
    names = sorted(f for f in os.listdir(folder) if re.fullmatch(r"vector-\d+\.json", f))
    if not names:
        raise SystemExit("no vector-N.json files in " + folder)
    for name in names:
        v = load(os.path.join(folder, name))
        k = object_key(v["dek"], v["salt"], v["object_id"])
        ct = seal(v["dek"], v["key_id"], v["chunk_size"], v["object_id"], v["salt"], v["nonce_prefix"],
                  v["plaintext"])
        if k != v["object_key"]:
            raise SystemExit("%s: object key differs" % name)
        if ct != v["ciphertext"]:
            raise SystemExit("%s: ciphertext differs from the reference" % name)
        if open_object(v["dek"], ct) != v["plaintext"]:
            raise SystemExit("%s: reference reader did not round-trip" % name)
        hlen = FIXED + len(v["key_id"])
        expect_fail(v["dek"], ct[:-1], "truncated")
        expect_fail(v["dek"], ct + b"\x00", "extended")
        expect_fail(bytes(32), ct, "wrong-key")
        for pos in range(0, len(ct), 7):
            bad = bytearray(ct)
            bad[pos] ^= 0x01
            expect_fail(v["dek"], bytes(bad), "modified")
        for cut in range(hlen, len(ct), v["chunk_size"] + TAG):
            expect_fail(v["dek"], ct[:cut], "cut")
        print("%s: ok (%d plaintext bytes, %d object bytes)" % (name, len(v["plaintext"]), len(ct)))


def main(argv):
    if len(argv) != 3 or argv[1] not in ("generate", "check"):
        raise SystemExit(__doc__)
    if argv[1] == "generate":
        generate(argv[2])
    else:
        check(argv[2])


if __name__ == "__main__":
    main(sys.argv)
