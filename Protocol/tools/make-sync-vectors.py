#!/usr/bin/env python3
"""Generates Protocol/vectors/sync.json: test vectors for the node-hub sync protocol of
Protocol/sync.md -- Ed25519 test keys and key ids, the DSSE pre-authentication encoding,
encoded changes with their leaf hashes, the RFC 9162 Merkle log (reference roots, every
inclusion and consistency proof of an 8-leaf tree, invalid proofs, compact frontiers), signed
change sets, a receipt, fan-out batches, tree heads, and invalid envelopes with the error code a
verifier must report.

Written from the specification alone (Python standard library plus the `cryptography` package
for Ed25519), independently of the Swift code. Ed25519 signatures are deterministic, so the
output is reproducible. The script checks itself: every valid proof verifies and every invalid
one fails under the RFC 9162 verification algorithms, the RFC 6962 reference roots are
reproduced, every valid envelope decodes and verifies, and every invalid envelope fails with its
expected code both when signatures are checked before the body is decoded and after.

Run from the repository root:

    python3 Protocol/tools/make-sync-vectors.py > Protocol/vectors/sync.json
"""
import datetime, hashlib, json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def sha256(b):
    return hashlib.sha256(b).digest()


def hx(b):
    return b.hex()


def ms(rfc3339):
    return int(datetime.datetime.fromisoformat(rfc3339).timestamp() * 1000)


# ---------------------------------------------------------------- keys (§9)

class Key:
    def __init__(self, name):
        self.name = name
        self.seed = sha256(b"creditsync test key " + name.encode())
        self.private = Ed25519PrivateKey.from_private_bytes(self.seed)
        self.public = self.private.public_key()
        self.public_raw = self.public.public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.key_id = sha256(self.public_raw)[:16].hex()

    def json(self):
        return {"name": self.name, "seed": hx(self.seed), "publicKey": hx(self.public_raw), "keyId": self.key_id}


KEYS = {k.name: k for k in map(Key, ["node-360100", "node-360100-next", "node-360200", "hub"])}
KEY_BY_ID = {k.key_id: k for k in KEYS.values()}
assert len(KEY_BY_ID) == len(KEYS)
for k in KEYS.values():
    assert len(k.key_id) == 32 and k.key_id == k.key_id.lower()


# ---------------------------------------------------------------- primitive encodings (§1)

def uvarint(n):
    assert 0 <= n < 1 << 64
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


class Over(bytes):
    """Bytes allowed over their length bound, to build `oversized` vectors."""


def lbytes(b, bound):
    assert len(b) <= bound or isinstance(b, Over)
    return uvarint(len(b)) + b


def lstring(s, bound):
    # A str is UTF-8 encoded; raw bytes are taken as they are (used to build invalid UTF-8).
    return lbytes(s.encode() if isinstance(s, str) else s, bound)


assert uvarint(0) == b"\x00" and uvarint(127) == b"\x7f" and uvarint(128) == b"\x80\x01"
assert uvarint(300) == b"\xac\x02" and uvarint((1 << 64) - 1) == b"\xff" * 9 + b"\x01"


# ---------------------------------------------------------------- message layouts (§2, §4-§7)
# Each layout is a list of (field, kind, bound). Kinds: u8, uvarint, time, string, bytes, hash, list.
# A list is preceded by a uvarint count; its bound is (max count, element layout or "bytes<N>").

CHANGE = [("version", "u8", None), ("node", "string", 16), ("sequence", "uvarint", None),
          ("provider", "string", 32), ("item", "string", 64), ("recordId", "string", 512),
          ("operation", "u8", None), ("credential", "string", 128), ("reason", "string", 4096),
          ("decisionDocument", "string", 1024), ("effectiveAt", "time", None), ("acceptedAt", "time", None),
          ("catalogVersion", "string", 256), ("payload", "bytes", 262144)]
CHANGESET = [("version", "u8", None), ("node", "string", 16), ("keyId", "string", 32),
             ("first", "uvarint", None), ("last", "uvarint", None), ("beforeSize", "uvarint", None),
             ("beforeRoot", "hash", None), ("afterSize", "uvarint", None), ("afterRoot", "hash", None),
             ("createdAt", "time", None), ("changes", "list", (10000, 1048576))]
RECEIPT = [("version", "u8", None), ("hub", "string", 16), ("keyId", "string", 32), ("node", "string", 16),
           ("first", "uvarint", None), ("last", "uvarint", None), ("treeSize", "uvarint", None),
           ("treeRoot", "hash", None), ("envelopeDigest", "hash", None), ("receivedAt", "time", None)]
FANOUT_ENTRY = [("position", "uvarint", None), ("change", "bytes", 1048576)]
FANOUT = [("version", "u8", None), ("hub", "string", 16), ("keyId", "string", 32), ("node", "string", 16),
          ("from", "uvarint", None), ("to", "uvarint", None), ("hubLogSize", "uvarint", None),
          ("hubLogRoot", "hash", None), ("createdAt", "time", None), ("entries", "list", (10000, FANOUT_ENTRY))]
TREEHEAD = [("version", "u8", None), ("log", "string", 16), ("keyId", "string", 32), ("size", "uvarint", None),
            ("root", "hash", None), ("timestamp", "time", None)]

OPERATIONS = {1: "create", 2: "correct", 3: "revoke", 4: "objection-label", 5: "objection-outcome",
              6: "restoration", 7: "list-removal"}


def encode(layout, v):
    """Encodes v (a dict) with layout. v may carry "version" and, for lists, "<field>Count" overrides
    so that invalid messages can be built; defaults are version 1 and the list's length."""
    out = bytearray()
    for name, kind, bound in layout:
        if kind == "u8":
            out.append(v.get(name, 1) if name == "version" else v[name])
        elif kind in ("uvarint", "time"):
            out += uvarint(v[name])
        elif kind == "string":
            out += lstring(v[name], bound)
        elif kind == "bytes":
            out += lbytes(v[name], bound)
        elif kind == "hash":
            assert len(v[name]) == 32
            out += v[name]
        elif kind == "list":
            items = v[name]
            out += uvarint(v.get(name + "Count", len(items)))
            for it in items:
                out += lbytes(it, bound[1]) if isinstance(bound[1], int) else encode(bound[1], it)
    return bytes(out)


def encode_change(f, version=1):
    f = dict(f, version=version, payload=f["payload"].encode() if isinstance(f["payload"], str) else f["payload"])
    return encode(CHANGE, f)


# ---------------------------------------------------------------- reference decoder

class Failure(Exception):
    def __init__(self, code, detail=""):
        super().__init__(f"{code}: {detail}")
        self.code = code


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, n):
        if n > len(self.data) - self.pos:
            raise Failure("truncated", f"need {n} bytes at {self.pos}")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def u8(self):
        return self.take(1)[0]

    def uvarint(self):
        value = 0
        for i in range(10):
            b = self.u8()
            value |= (b & 0x7F) << (7 * i)
            if not b & 0x80:
                if i > 0 and b == 0:
                    raise Failure("varint", "non-minimal")
                if i == 9 and b > 1:
                    raise Failure("varint", "overflow")
                return value
        raise Failure("varint", "more than 10 bytes")

    def lbytes(self, bound):
        n = self.uvarint()
        if n > bound:  # checked before the length against the input: nothing is allocated
            raise Failure("oversized", f"{n} > {bound}")
        return self.take(n)

    def string(self, bound):
        b = self.lbytes(bound)
        try:
            return b.decode("utf-8", errors="strict")
        except UnicodeDecodeError:
            raise Failure("utf8")

    def end(self):
        if self.pos != len(self.data):
            raise Failure("trailing-bytes", f"{len(self.data) - self.pos} bytes left")


def decode(layout, data):
    r = Reader(data)
    v = read_layout(r, layout)
    r.end()
    return v


def read_layout(r, layout):
    v = {}
    for name, kind, bound in layout:
        if kind == "u8":
            v[name] = r.u8()
            if name == "version" and v[name] != 1:
                raise Failure("version", str(v[name]))
            if name == "operation" and v[name] not in OPERATIONS:
                raise Failure("operation", str(v[name]))
        elif kind in ("uvarint", "time"):
            v[name] = r.uvarint()
            if v[name] > (1 << 63) - 1:  # every such field is an int: stored in a signed 64-bit column
                raise Failure("oversized", f"{name} {v[name]} > 2^63 - 1")
        elif kind == "string":
            v[name] = r.string(bound)
        elif kind == "bytes":
            v[name] = r.lbytes(bound)
        elif kind == "hash":
            v[name] = r.take(32)
        elif kind == "list":
            count = r.uvarint()
            if count > bound[0]:
                raise Failure("oversized", f"count {count}")
            v[name] = [r.lbytes(bound[1]) if isinstance(bound[1], int) else read_layout(r, bound[1])
                       for _ in range(count)]
    return v


def decode_change(data):
    c = decode(CHANGE, data)
    if c["operation"] in (2, 3) and not (c["reason"] and c["decisionDocument"]):
        raise Failure("missing-reason")
    return c


def decode_changeset(data):
    s = decode(CHANGESET, data)
    s["decoded"] = [decode_change(c) for c in s["changes"]]
    return s


def check_changeset(s):
    def need(ok, what):
        if not ok:
            raise Failure("inconsistent", what)
    need(s["first"] >= 1, "first >= 1")
    need(s["last"] >= s["first"], "last >= first")
    need(s["beforeSize"] == s["first"] - 1, "beforeSize = first - 1")
    need(s["afterSize"] == s["last"], "afterSize = last")
    need(len(s["changes"]) == s["last"] - s["first"] + 1, "count = last - first + 1")
    for i, c in enumerate(s["decoded"]):
        need(c["node"] == s["node"], f"change {i} node")
        need(c["sequence"] == s["first"] + i, f"change {i} sequence")


def check_fanout(f):
    assert f["from"] >= 1 and f["to"] >= f["from"] - 1 and f["hubLogSize"] >= f["to"]
    positions = [e["position"] for e in f["entries"]]
    assert all(f["from"] <= p <= f["to"] for p in positions)
    assert all(a < b for a, b in zip(positions, positions[1:]))
    for e in f["entries"]:
        decode_change(e["change"])


# ---------------------------------------------------------------- envelope (§3)

MAGIC = b"CSE1"
T_CHANGESET, T_RECEIPT, T_FANOUT, T_TREEHEAD = ("creditsync/changeset/v1", "creditsync/receipt/v1",
                                                "creditsync/fanout/v1", "creditsync/treehead/v1")


def pae(payload_type, body):
    t = payload_type.encode()
    return b"DSSEv1 " + str(len(t)).encode() + b" " + t + b" " + str(len(body)).encode() + b" " + body


def signing_input(payload_type, body):
    """What a signature signs (sync.md section 3): PAE of the type and the payload's SHA-256."""
    return pae(payload_type, hashlib.sha256(body).digest())


def sign(key_name, payload_type, body):
    k = KEYS[key_name]
    return (k.key_id, k.private.sign(signing_input(payload_type, body)))


def envelope(payload_type, body, sigs):
    out = bytearray(MAGIC) + lstring(payload_type, 128) + lbytes(body, 16777216)
    out.append(len(sigs))
    for key_id, sig in sigs:
        out += lstring(key_id, 32) + lbytes(sig, 64)
    return bytes(out)


def signed(key_name, payload_type, body):
    return envelope(payload_type, body, [sign(key_name, payload_type, body)])


def decode_envelope(data):
    r = Reader(data)
    if r.take(4) != MAGIC:
        raise Failure("magic")
    payload_type = r.string(128)
    payload = r.lbytes(16777216)
    count = r.u8()
    if count < 1 or count > 4:
        raise Failure("signature", f"count {count}")
    sigs = []
    for _ in range(count):
        key_id = r.string(32)
        sig = r.lbytes(64)
        if len(sig) != 64:
            raise Failure("signature", f"length {len(sig)}")
        sigs.append((key_id, sig))
    r.end()
    return payload_type, payload, sigs


def check_signatures(payload_type, payload, sigs, trusted_key_names):
    trusted = {KEYS[n].key_id: KEYS[n] for n in trusted_key_names}
    candidates = [(kid, sig) for kid, sig in sigs if kid in trusted]
    if not candidates:
        raise Failure("untrusted-key")
    for kid, sig in candidates:
        try:
            trusted[kid].public.verify(sig, signing_input(payload_type, payload))
            return kid
        except InvalidSignature:
            pass
    raise Failure("bad-signature")


BODY_DECODERS = {T_CHANGESET: decode_changeset, T_RECEIPT: lambda b: decode(RECEIPT, b),
                 T_FANOUT: lambda b: decode(FANOUT, b), T_TREEHEAD: lambda b: decode(TREEHEAD, b)}


def verify(data, expected_type, trusted_key_names, signatures_first=True):
    """Decodes and verifies an envelope. The payload type is checked first (§3). The signature check
    and the body decoding are done in either order; the vectors must not depend on it."""
    payload_type, payload, sigs = decode_envelope(data)
    if payload_type != expected_type:
        raise Failure("payload-type", payload_type)
    if signatures_first:
        verified = check_signatures(payload_type, payload, sigs, trusted_key_names)
    body = BODY_DECODERS[payload_type](payload)
    if payload_type == T_CHANGESET:
        check_changeset(body)
    elif payload_type == T_FANOUT:
        check_fanout(body)
    if not signatures_first:
        verified = check_signatures(payload_type, payload, sigs, trusted_key_names)
    if payload_type == T_CHANGESET and body["keyId"] != verified:
        raise Failure("inconsistent", "keyId = the verified signature's keyId")
    return body


def expect_failure(data, expected_type, trusted, code):
    for order in (True, False):
        try:
            verify(data, expected_type, trusted, signatures_first=order)
        except Failure as e:
            assert e.code == code, f"expected {code}, got {e} (signatures first: {order})"
        else:
            raise AssertionError(f"expected {code}, envelope verified (signatures first: {order})")


# ---------------------------------------------------------------- Merkle log (§8, RFC 9162 §2.1)

EMPTY_ROOT = sha256(b"")


def leaf_hash(d):
    return sha256(b"\x00" + d)


def node_hash(left, right):
    return sha256(b"\x01" + left + right)


def split(n):  # the largest power of two smaller than n (n > 1)
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(D):
    n = len(D)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hash(D[0])
    k = split(n)
    return node_hash(mth(D[:k]), mth(D[k:]))


def inclusion_path(m, D):  # PATH(m, D[n]), RFC 9162 §2.1.3.1
    n = len(D)
    assert 0 <= m < n
    if n == 1:
        return []
    k = split(n)
    if m < k:
        return inclusion_path(m, D[:k]) + [mth(D[k:])]
    return inclusion_path(m - k, D[k:]) + [mth(D[:k])]


def subproof(m, D, b):  # SUBPROOF(m, D[n], b), RFC 9162 §2.1.4.1
    n = len(D)
    if m == n:
        return [] if b else [mth(D)]
    k = split(n)
    if m <= k:
        return subproof(m, D[:k], b) + [mth(D[k:])]
    return subproof(m - k, D[k:], False) + [mth(D[:k])]


def consistency_proof(m, D):  # PROOF(m, D[n]); empty when m == n
    assert 0 < m <= len(D)
    return subproof(m, D, True)


MAX_PROOF = 64


def verify_inclusion(index, size, leaf, root, path):  # RFC 9162 §2.1.3.2
    if index >= size or len(path) > MAX_PROOF:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not (fn & 1) and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first, second, first_hash, second_hash, proof):  # RFC 9162 §2.1.4.2
    if first > second or len(proof) > MAX_PROOF:
        return False
    if first == second:  # outside the RFC's 0 < first < second: the proof is empty
        return not proof and first_hash == second_hash
    if first == 0:  # sync.md §8: a proof from size 0 MUST be empty
        return not proof and first_hash == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_hash)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not (fn & 1) and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_hash and sr == second_hash and sn == 0


def frontier(D):  # §8: roots of the perfect subtrees, largest (leftmost) first
    out, offset, n = [], 0, len(D)
    for bit in reversed(range(n.bit_length())):
        if n >> bit & 1:
            out.append(mth(D[offset:offset + (1 << bit)]))
            offset += 1 << bit
    return out


def frontier_root(f):
    if not f:
        return EMPTY_ROOT
    r = f[-1]
    for h in reversed(f[:-1]):
        r = node_hash(h, r)
    return r


def flip(b, byte=0, bit=0):
    b = bytearray(b)
    b[byte] ^= 1 << bit
    return bytes(b)


# ---------------------------------------------------------------- Merkle vectors

RFC_LEAVES = [bytes.fromhex(x) for x in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                         "606162636465666768696a6b6c6d6e6f"]]
RFC_ROOTS = [mth(RFC_LEAVES[:n]) for n in range(1, 9)]
assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
assert leaf_hash(b"").hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
assert RFC_ROOTS[0].hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
assert RFC_ROOTS[7].hex() == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"

LH = [leaf_hash(d) for d in RFC_LEAVES]


def incl(index, size, leaf=None, root=None, proof=None, name=None):
    v = {"size": size, "index": index, "leafHash": hx(leaf if leaf is not None else LH[index]),
         "root": hx(root if root is not None else RFC_ROOTS[size - 1]),
         "proof": [hx(p) for p in (proof if proof is not None else inclusion_path(index, RFC_LEAVES[:size]))]}
    return ({"name": name} | v) if name else v


def check_incl(v):
    return verify_inclusion(v["index"], v["size"], bytes.fromhex(v["leafHash"]), bytes.fromhex(v["root"]),
                            [bytes.fromhex(p) for p in v["proof"]])


def cons(a, b, root1=None, root2=None, proof=None, name=None):
    v = {"size1": a, "size2": b,
         "root1": hx(root1 if root1 is not None else (RFC_ROOTS[a - 1] if a else EMPTY_ROOT)),
         "root2": hx(root2 if root2 is not None else RFC_ROOTS[b - 1]),
         "proof": [hx(p) for p in (proof if proof is not None else consistency_proof(a, RFC_LEAVES[:b]))]}
    return ({"name": name} | v) if name else v


def check_cons(v):
    return verify_consistency(v["size1"], v["size2"], bytes.fromhex(v["root1"]), bytes.fromhex(v["root2"]),
                              [bytes.fromhex(p) for p in v["proof"]])


inclusion = [incl(i, n) for n in range(1, 9) for i in range(n)]
consistency = [cons(a, b) for b in range(1, 9) for a in range(1, b + 1)]
for v in inclusion:
    assert check_incl(v), v
for v in consistency:
    assert check_cons(v), v
    assert (v["size1"] == v["size2"]) == (not v["proof"])

P27 = inclusion_path(2, RFC_LEAVES[:7])      # 3 hashes
P57 = inclusion_path(5, RFC_LEAVES[:7])
P68 = inclusion_path(6, RFC_LEAVES[:8])
P02 = inclusion_path(0, RFC_LEAVES[:2])
# A wrong size is only detectable together with the root of that size: the RFC 9162 algorithm accepts,
# for example, leaf 2 with its size-7 proof and the size-7 root under any claimed size 5-8. A verifier
# must take size and root together from one authenticated tree head.
invalid_inclusion = [
    incl(2, 7, proof=[flip(P27[0])] + P27[1:], name="bit flipped in the first proof hash"),
    incl(2, 7, proof=P27[:-1] + [flip(P27[-1], 31, 7)], name="bit flipped in the last proof hash"),
    incl(2, 7, proof=P27 + [RFC_ROOTS[6]], name="extra hash appended"),
    incl(6, 8, proof=P68 + [P68[-1]], name="extra hash appended (last hash repeated)"),
    incl(2, 7, proof=[LH[2]] + P27, name="extra hash prepended (the leaf hash itself)"),
    incl(2, 7, proof=P27[:-1], name="last hash removed"),
    incl(2, 7, proof=P27[1:], name="first hash removed"),
    incl(2, 7, proof=[], name="truncated: empty proof for size > 1"),
    incl(0, 2, proof=[], name="truncated: empty proof for size 2"),
    incl(2, 7, proof=[P27[1], P27[0], P27[2]], name="hashes swapped"),
    incl(3, 7, leaf=LH[2], proof=P27, name="wrong index (index + 1)"),
    incl(1, 7, leaf=LH[2], proof=P27, name="wrong index (index - 1)"),
    incl(2, 8, proof=P27, name="wrong size (size + 1): proof for size 7, size and root of 8"),
    incl(2, 6, proof=P27, name="wrong size (size - 1): proof for size 7, size and root of 6"),
    incl(5, 6, proof=P57, name="wrong size (size - 1) for leaf 5: proof for size 7"),
    incl(5, 8, proof=P57, name="wrong size (size + 1) for leaf 5: proof for size 7"),
    incl(6, 7, proof=P68, name="wrong size (size - 1) for leaf 6: proof for size 8"),
    incl(0, 1, proof=P02, name="wrong size (size - 1): size 1 with the proof for size 2"),
    incl(2, 7, leaf=flip(LH[2]), name="leaf hash bit flipped"),
    incl(2, 7, root=flip(RFC_ROOTS[6], 31, 0), name="root bit flipped"),
    incl(2, 7, leaf=LH[3], name="proof for another leaf"),
    incl(7, 7, leaf=LH[6], proof=inclusion_path(6, RFC_LEAVES[:7]), name="index = size"),
    incl(8, 8, leaf=LH[7], proof=P68, name="index = size (8)"),
    incl(9, 8, leaf=LH[7], proof=P68, name="index > size"),
    incl(0, 0, leaf=LH[0], root=EMPTY_ROOT, proof=[], name="index 0 in an empty tree"),
    incl(0, 1, leaf=LH[0], proof=[LH[0]] * (MAX_PROOF + 1), name="65 proof hashes (over the bound of 64)"),
]
for v in invalid_inclusion:
    assert not check_incl(v), v["name"]

C37 = consistency_proof(3, RFC_LEAVES[:7])   # 4 hashes
C48 = consistency_proof(4, RFC_LEAVES[:8])   # 1 hash
C68 = consistency_proof(6, RFC_LEAVES[:8])
invalid_consistency = [
    cons(3, 7, proof=[flip(C37[0])] + C37[1:], name="bit flipped in the first proof hash"),
    cons(3, 7, proof=C37[:-1] + [flip(C37[-1], 17, 3)], name="bit flipped in the last proof hash"),
    cons(4, 8, proof=[flip(C48[0])], name="bit flipped in the only proof hash"),
    cons(3, 7, proof=C37 + [RFC_ROOTS[6]], name="extra hash appended"),
    cons(4, 8, proof=[RFC_ROOTS[3]] + C48, name="extra hash: first root included although size1 is a power of two"),
    cons(3, 7, proof=C37[:-1], name="last hash removed"),
    cons(3, 7, proof=C37[1:], name="first hash removed"),
    cons(6, 8, proof=C68[:-1], name="hash removed (6 -> 8)"),
    cons(3, 7, proof=[C37[1], C37[0]] + C37[2:], name="hashes swapped"),
    cons(7, 3, root1=RFC_ROOTS[6], root2=RFC_ROOTS[2], proof=C37, name="size1 > size2 (sizes and roots swapped)"),
    cons(5, 4, root1=RFC_ROOTS[4], root2=RFC_ROOTS[3], proof=[], name="size1 > size2, empty proof"),
    cons(2, 7, proof=C37, name="wrong size1 (size1 - 1): proof for 3 -> 7, size and root of 2"),
    cons(4, 7, proof=C37, name="wrong size1 (size1 + 1): proof for 3 -> 7, size and root of 4"),
    cons(2, 7, root1=RFC_ROOTS[2], proof=C37, name="wrong size1 (size1 - 1) with the root of size 3"),
    cons(4, 7, root1=RFC_ROOTS[2], proof=C37, name="wrong size1 (size1 + 1) with the root of size 3"),
    cons(3, 8, proof=C37, name="wrong size2 (size2 + 1): proof for 3 -> 7, size and root of 8"),
    cons(3, 6, proof=C37, name="wrong size2 (size2 - 1): proof for 3 -> 7, size and root of 6"),
    cons(6, 7, proof=C68, name="wrong size2 (size2 - 1): proof for 6 -> 8, size and root of 7"),
    cons(3, 7, root1=flip(RFC_ROOTS[2]), name="root1 bit flipped"),
    cons(3, 7, root2=flip(RFC_ROOTS[6], 5, 5), name="root2 bit flipped"),
    cons(4, 8, root1=flip(RFC_ROOTS[3]), name="root1 bit flipped (size1 a power of two)"),
    cons(4, 4, proof=[LH[0]], name="non-empty proof when size1 = size2"),
    cons(4, 4, proof=[RFC_ROOTS[3]], name="non-empty proof when size1 = size2 (the root itself)"),
    cons(4, 4, root2=RFC_ROOTS[4], proof=[], name="size1 = size2 with different roots"),
    cons(3, 7, proof=[], name="empty proof when size1 < size2"),
    cons(1, 8, proof=[], name="empty proof when size1 < size2 (size1 = 1)"),
    cons(0, 8, root1=EMPTY_ROOT, proof=[RFC_ROOTS[7]], name="non-empty proof from size 0"),
    cons(3, 7, proof=C37 + [LH[0]] * (MAX_PROOF + 1 - len(C37)), name="65 proof hashes (over the bound of 64)"),
]
for v in invalid_consistency:
    assert not check_cons(v), v["name"]

frontiers = []
for n in range(0, 9):
    f = frontier(RFC_LEAVES[:n])
    assert len(f) == bin(n).count("1") and frontier_root(f) == mth(RFC_LEAVES[:n])
    frontiers.append({"size": n, "hashes": [hx(h) for h in f]})

merkle = {
    "rfcVectors": {"emptyRoot": hx(EMPTY_ROOT), "emptyLeafHash": hx(leaf_hash(b"")),
                   "leaves": [hx(d) for d in RFC_LEAVES], "leafHashes": [hx(h) for h in LH],
                   "roots": [hx(r) for r in RFC_ROOTS]},
    "inclusion": inclusion,
    "consistency": consistency,
    "invalidInclusion": invalid_inclusion,
    "invalidConsistency": invalid_consistency,
    "frontier": frontiers,
    # The Creditsync-Consistency response header of a fan-out answer (hub-api.md): the two sizes
    # and the proof's hashes, lowercase hex, separated by single spaces.
    "consistencyHeaders": [{"size1": v["size1"], "size2": v["size2"], "proof": v["proof"],
                            "header": " ".join([str(v["size1"]), str(v["size2"])] + v["proof"])}
                           for v in consistency if v["size1"] < v["size2"] and (v["size1"], v["size2"]) in ((1, 2), (3, 7), (4, 8), (6, 8))],
}


# ---------------------------------------------------------------- changes (§2)

PROVIDER = "11360100MB1742591X"
PROVIDER_B = "11360200014552812K"
CATALOG = "national@2026.1+jiangxi@2026.1"
SUBJECT = {"kind": "legal-person", "name": "南昌赣江商贸有限公司", "uscc": "91110000600037341L"}


def record_json(record_id, item, fields):
    return json.dumps({"item": item, "recordId": record_id, "subject": SUBJECT, "fields": fields},
                      ensure_ascii=False, separators=(",", ":"))


PUNISH = {"CF_WSH": "洪市监罚〔2026〕17号", "CF_WFXW": "虚假宣传", "CF_CFLB": "罚款", "CF_NR_FK": 0.2,
          "CF_JDRQ": "2026-05-10", "procedure": "general", "severity": "general", "harmEliminated": False}


def change(node, sequence, operation, record_id, payload, effective, accepted, reason="", document="",
           provider=PROVIDER, item="administrative-punishment", credential="cred-360100-01"):
    return {"node": node, "sequence": sequence, "provider": provider, "item": item, "recordId": record_id,
            "operation": operation, "credential": credential, "reason": reason, "decisionDocument": document,
            "effectiveAt": ms(effective), "acceptedAt": ms(accepted), "catalogVersion": CATALOG, "payload": payload}


CHANGES = {
    "360100 #1 create": change("360100", 1, 1, "CF-360100-2026-17", record_json("CF-360100-2026-17", "administrative-punishment", PUNISH),
                               "2026-05-10T00:00:00+08:00", "2026-05-11T09:30:12.345+08:00"),
    "360100 #2 correct": change("360100", 2, 2, "CF-360100-2026-17",
                                record_json("CF-360100-2026-17", "administrative-punishment", dict(PUNISH, CF_NR_FK=0.15)),
                                "2026-05-10T00:00:00+08:00", "2026-06-02T14:05:00+08:00",
                                reason="罚款金额录入错误，更正为0.15万元", document="洪市监更〔2026〕2号"),
    "360100 #3 revoke": change("360100", 3, 3, "CF-360100-2026-17", "", "2026-06-20T00:00:00+08:00",
                               "2026-06-21T08:00:00+08:00", reason="行政复议决定撤销原处罚决定",
                               document="洪府复决〔2026〕9号"),
    "360100 #4 objection-label": change("360100", 4, 4, "CF-360100-2026-18",
                                        json.dumps({"objection": "O-2026-0001", "label": "异议处理中"}, ensure_ascii=False,
                                                   separators=(",", ":")),
                                        "2026-07-01T10:00:00+08:00", "2026-07-01T10:00:01+08:00"),
    "360100 #5 objection-outcome": change("360100", 5, 5, "CF-360100-2026-18",
                                          json.dumps({"objection": "O-2026-0001", "outcome": "upheld"}, separators=(",", ":")),
                                          "2026-07-08T16:00:00+08:00", "2026-07-08T16:20:00+08:00",
                                          credential="cred-360100-02"),
    "360100 #6 list-removal": change("360100", 6, 7, "LB-360100-2025-3", "", "2026-08-01T00:00:00+08:00",
                                     "2026-08-01T09:00:00+08:00", item="serious-untrustworthy-list",
                                     reason="信用修复完成", document="洪市监移〔2026〕1号",
                                     credential="cred-360100-02"),
    "360200 #1 create, Chinese text": change("360200", 1, 1, "景市监罚〔2026〕第0042号", record_json(
        "景市监罚〔2026〕第0042号", "administrative-punishment",
        dict(PUNISH, CF_WSH="景市监罚〔2026〕第0042号", CF_WFXW="销售不符合安全标准的食品（含𠮷字）")),
        "2026-04-01T00:00:00+08:00", "2026-04-02T11:11:11.111+08:00", provider=PROVIDER_B,
        credential="景德镇市场监管局-接口01"),
    "360400 large sequence, restoration": change("360400", (1 << 35) + 12345, 6, "XF-360400-2026-5",
                                                 json.dumps({"restoration": "R-2026-77"}, separators=(",", ":")),
                                                 "2026-09-30T23:59:59.999+08:00", "2026-10-08T08:30:00+08:00",
                                                 provider=PROVIDER_B, credential="cred-360400-09"),
}
ENCODED = {name: encode_change(f) for name, f in CHANGES.items()}
for name, f in CHANGES.items():
    d = decode_change(ENCODED[name])
    assert d == dict(f, version=1, payload=f["payload"].encode()), name

changes_json = [{"name": name, "fields": f, "encoded": hx(ENCODED[name]), "leafHash": hx(leaf_hash(ENCODED[name]))}
                for name, f in CHANGES.items()]

# ---------------------------------------------------------------- PAE

pae_cases = [(T_TREEHEAD, b""), (T_CHANGESET, b"hello, world"), (T_RECEIPT, bytes(range(256)) * 2)]
pae_json = [{"type": t, "body": hx(b), "pae": hx(pae(t, b))} for t, b in pae_cases]
signing_input_json = [{"type": t, "payload": hx(b), "signingInput": hx(signing_input(t, b))} for t, b in pae_cases]
assert signing_input(T_TREEHEAD, b"") == b"DSSEv1 22 creditsync/treehead/v1 32 " + hashlib.sha256(b"").digest()
assert pae(T_TREEHEAD, b"") == b"DSSEv1 22 creditsync/treehead/v1 0 "

# ---------------------------------------------------------------- change sets (§4)

NODE_LOG = [ENCODED[n] for n in CHANGES if n.startswith("360100 ")]
assert [decode_change(c)["sequence"] for c in NODE_LOG] == [1, 2, 3, 4, 5, 6]


def changeset_fields(node, key_name, first, last, created, log=NODE_LOG):
    return {"node": node, "keyId": KEYS[key_name].key_id, "first": first, "last": last,
            "beforeSize": first - 1, "beforeRoot": mth(log[:first - 1]), "afterSize": last,
            "afterRoot": mth(log[:last]), "createdAt": ms(created), "changes": log[first - 1:last]}


changesets, CS_ENVELOPES = [], {}
for name, key_name, first, last, created in [
        ("360100 sequences 1-3", "node-360100", 1, 3, "2026-06-21T08:00:05+08:00"),
        ("360100 sequence 4, continuing the log", "node-360100", 4, 4, "2026-07-01T10:00:03+08:00"),
        ("360100 sequences 5-6 signed with the rotated key", "node-360100-next", 5, 6, "2026-08-01T09:00:02+08:00")]:
    f = changeset_fields("360100", key_name, first, last, created)
    body = encode(CHANGESET, f)
    env = signed(key_name, T_CHANGESET, body)
    CS_ENVELOPES[name] = (f, body, env)
    trusted = ["node-360100", "node-360100-next"] if key_name.endswith("next") else ["node-360100"]
    got = verify(env, T_CHANGESET, trusted)
    assert got["changes"] == f["changes"] and got["afterRoot"] == f["afterRoot"]
    expect_failure(env, T_CHANGESET, ["node-360200"], "untrusted-key")
    changesets.append({"name": name, "node": f["node"], "keyName": key_name, "first": first, "last": last,
                       "beforeSize": f["beforeSize"], "beforeRoot": hx(f["beforeRoot"]), "afterSize": f["afterSize"],
                       "afterRoot": hx(f["afterRoot"]), "createdAt": f["createdAt"],
                       "changes": [hx(c) for c in f["changes"]], "body": hx(body), "envelope": hx(env),
                       "envelopeDigest": hx(sha256(env))})
# The sets chain: each one's before is the previous one's after, and the roots are consistent.
for a, b in zip(changesets, changesets[1:]):
    assert (a["afterSize"], a["afterRoot"]) == (b["beforeSize"], b["beforeRoot"])
    fa, fb = a["afterSize"], b["afterSize"]
    assert verify_consistency(fa, fb, mth(NODE_LOG[:fa]), mth(NODE_LOG[:fb]), consistency_proof(fa, NODE_LOG[:fb]))


def json_fields(layout, v):
    out = {}
    for name, kind, bound in layout:
        if name == "version":
            continue
        x = v[name]
        if kind == "hash" or kind == "bytes":
            x = hx(x)
        elif kind == "list":
            x = [{k: (hx(e[k]) if isinstance(e[k], bytes) else e[k]) for k in e} for e in x]
        out[name] = x
    return out


# ---------------------------------------------------------------- receipt (§5)

HUB = "360000"
f1, _, env1 = CS_ENVELOPES["360100 sequences 1-3"]
receipt_f = {"hub": HUB, "keyId": KEYS["hub"].key_id, "node": "360100", "first": 1, "last": 3, "treeSize": 3,
             "treeRoot": f1["afterRoot"], "envelopeDigest": sha256(env1), "receivedAt": ms("2026-06-21T08:00:06.789+08:00")}
receipt_body = encode(RECEIPT, receipt_f)
receipt_env = signed("hub", T_RECEIPT, receipt_body)
assert verify(receipt_env, T_RECEIPT, ["hub"]) == dict(receipt_f, version=1)
receipts = [{"name": "hub receipt for 360100 sequences 1-3", "fields": json_fields(RECEIPT, receipt_f),
             "body": hx(receipt_body), "envelope": hx(receipt_env)}]

# ---------------------------------------------------------------- fan-out (§6)

HUB_LOG_NAMES = ["360100 #1 create", "360200 #1 create, Chinese text", "360100 #2 correct", "360100 #3 revoke",
                 "360400 large sequence, restoration", "360100 #4 objection-label"]
HUB_LOG = [ENCODED[n] for n in HUB_LOG_NAMES]
fanout, treeheads = [], []
for name, recipient, frm, to, positions, created in [
        ("batch for 361000: positions 2 and 5 of 1-6", "361000", 1, 6, [2, 5], "2026-10-08T08:31:00+08:00"),
        ("empty batch for 361000 after position 6", "361000", 7, 6, [], "2026-10-08T08:41:00+08:00"),
        ("empty batch for 360100 over positions 3-4, its own changes (to >= from, no entries)", "360100", 3, 4, [],
         "2026-10-08T08:41:00+08:00")]:
    f = {"hub": HUB, "keyId": KEYS["hub"].key_id, "node": recipient, "from": frm, "to": to,
         "hubLogSize": len(HUB_LOG), "hubLogRoot": mth(HUB_LOG), "createdAt": ms(created),
         "entries": [{"position": p, "change": HUB_LOG[p - 1]} for p in positions]}
    body = encode(FANOUT, f)
    env = signed("hub", T_FANOUT, body)
    assert verify(env, T_FANOUT, ["hub"]) == dict(f, version=1)
    fanout.append({"name": name, "fields": json_fields(FANOUT, f), "body": hx(body), "envelope": hx(env)})

# ---------------------------------------------------------------- tree heads (§7)

for name, log, key_name, size, leaves, ts in [
        ("node 360100 after sequence 4", "360100", "node-360100", 4, NODE_LOG, "2026-07-01T10:00:04+08:00"),
        ("hub log of 6 changes", HUB, "hub", 6, HUB_LOG, "2026-10-08T08:31:00+08:00"),
        ("node 360200, empty log", "360200", "node-360200", 0, [], "2026-01-01T00:00:00+08:00")]:
    f = {"log": log, "keyId": KEYS[key_name].key_id, "size": size, "root": mth(leaves[:size]), "timestamp": ms(ts)}
    body = encode(TREEHEAD, f)
    env = signed(key_name, T_TREEHEAD, body)
    assert verify(env, T_TREEHEAD, [key_name]) == dict(f, version=1)
    treeheads.append({"name": name, "keyName": key_name, "fields": json_fields(TREEHEAD, f), "body": hx(body),
                      "envelope": hx(env)})

# ---------------------------------------------------------------- refusal lists (hub-api.md)

T_REFUSALS = "creditsync/refusals/v1"


def refusal_payload(d):
    # JSON with sorted keys, no insignificant space, UTF-8 as written (hub-api.md, sync.md §3).
    return json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def open_refusals(env, node, after):
    """What a node MUST check before filing a list (hub-api.md); returns the list or the reason."""
    payload_type, payload, sigs = decode_envelope(env)
    if payload_type != T_REFUSALS:
        raise Failure("payload-type", payload_type)
    check_signatures(payload_type, payload, sigs, ["hub"])
    d = json.loads(payload.decode())
    if d["node"] != node or d["after"] != after:
        return "answers another node or another after"
    if d["through"] > d["acknowledged"] or len(d["refusals"]) > 1000:
        return "through past acknowledged"
    previous = after
    for r in d["refusals"]:
        if not (previous < r["sequence"] <= d["through"]):
            return "refusal out of order or outside after..through"
        previous = r["sequence"]
    return d


KEY2 = "%s/%s/%s" % (PROVIDER, "administrative-punishment", "CF-360100-2026-17")
REFUSAL_2 = {"sequence": 2, "recordKey": KEY2, "code": "not-home", "field": "",
             "message": "record CF-360100-2026-17: node 360200 keeps this record; write to it there (洪市监更〔2026〕2号)",
             "receivedAt": ms("2026-06-02T14:05:03+08:00")}
REFUSAL_3 = {"sequence": 3, "recordKey": KEY2, "code": "revoked", "field": "",
             "message": "record CF-360100-2026-17: the record is revoked", "receivedAt": ms("2026-06-21T08:00:02+08:00")}
BASE_LIST = {"node": "360100", "after": 0, "through": 3, "acknowledged": 3, "treeRoot": hx(mth(NODE_LOG[:3])),
             "at": ms("2026-06-21T08:00:05+08:00"), "incarnation": "6a1f0c29d4e8b735", "refusals": [REFUSAL_2, REFUSAL_3]}
refusal_lists, invalid_refusal_lists = [], []
for name, fields in [
        ("360100's changes 1-3: two refused", BASE_LIST),
        ("360100 after 2: one refused since, through its position 6", dict(BASE_LIST, after=2, through=6, acknowledged=6,
                                                                          treeRoot=hx(mth(NODE_LOG[:6])), refusals=[REFUSAL_3])),
        ("asked after 9, past the hub's position 6 (a hub restored from an older backup)",
         dict(BASE_LIST, after=9, through=6, acknowledged=6, treeRoot=hx(mth(NODE_LOG[:6])), refusals=[]))]:
    body = refusal_payload(fields)
    env = signed("hub", T_REFUSALS, body)
    assert open_refusals(env, fields["node"], fields["after"]) == fields
    refusal_lists.append({"name": name, "node": fields["node"], "after": fields["after"], "fields": fields, "body": hx(body),
                          "envelope": hx(env)})
for name, fields, node, after in [
        ("refusals out of order", dict(BASE_LIST, refusals=[REFUSAL_3, REFUSAL_2]), "360100", 0),
        ("a refusal past through", dict(BASE_LIST, through=2), "360100", 0),
        ("a refusal at or before after", dict(BASE_LIST, after=2), "360100", 2),
        ("through past acknowledged", dict(BASE_LIST, through=4), "360100", 0),
        ("a list for another node", BASE_LIST, "360200", 0),
        ("a list answering another after than the node asked", BASE_LIST, "360100", 1)]:
    env = signed("hub", T_REFUSALS, refusal_payload(fields))
    assert isinstance(open_refusals(env, node, after), str), name
    invalid_refusal_lists.append({"name": name, "node": node, "after": after, "envelope": hx(env)})

# ---------------------------------------------------------------- invalid envelopes

invalid = []
BASE_F, BASE_BODY, BASE_ENV = CS_ENVELOPES["360100 sequences 1-3"]
T = T_CHANGESET.encode()
SIG = sign("node-360100", T_CHANGESET, BASE_BODY)
SIG_REC = lstring(SIG[0], 32) + lbytes(SIG[1], 64)
HEAD = MAGIC + lstring(T_CHANGESET, 128)                 # magic and payload type
PAYLOAD_AT = len(HEAD) + len(uvarint(len(BASE_BODY)))    # offset of the payload
SIGS_AT = PAYLOAD_AT + len(BASE_BODY)                    # offset of the signature count
assert BASE_ENV == HEAD + lbytes(BASE_BODY, 1 << 24) + b"\x01" + SIG_REC


def bad(name, env, error, trusted=("node-360100",), expected_type=T_CHANGESET):
    expect_failure(env, expected_type, list(trusted), error)
    invalid.append({"name": name, "envelope": hx(env), "expectedPayloadType": expected_type,
                    "signerKeyNames": list(trusted), "error": error})


def resigned(error, name, key_name="node-360100", payload_type=T_CHANGESET, trusted=("node-360100",), **overrides):
    """A change set body built from overrides of the first set, properly signed."""
    f = dict(BASE_F, **overrides)
    body = encode(CHANGESET, f)
    bad(name, signed(key_name, payload_type, body), error, trusted)


def log_fields(changes, first=1, **extra):
    """Fields for a set carrying `changes` whose roots are those of the log they form (sequences from 1)."""
    log = NODE_LOG[:first - 1] + changes
    return dict(first=first, last=first + len(changes) - 1, beforeSize=first - 1, beforeRoot=mth(log[:first - 1]),
                afterSize=len(log), afterRoot=mth(log), changes=changes, **extra)


C1, C2, C3 = NODE_LOG[:3]
F1, F2, F3 = (CHANGES[n] for n in ["360100 #1 create", "360100 #2 correct", "360100 #3 revoke"])

# envelope structure
bad("bad magic CSE2", b"CSE2" + BASE_ENV[4:], "magic")
bad("bad magic: DSSE JSON instead of the binary envelope", b'{"payloadType":"creditsync/changeset/v1"}', "magic")
bad("empty input", b"", "truncated")
bad("truncated inside the magic", BASE_ENV[:2], "truncated")
bad("truncated after the magic", BASE_ENV[:4], "truncated")
bad("truncated inside the payloadType", BASE_ENV[:len(HEAD) - 8], "truncated")
bad("truncated inside the payload length", HEAD + uvarint(len(BASE_BODY))[:1], "truncated")
bad("truncated inside the payload", BASE_ENV[:PAYLOAD_AT + len(BASE_BODY) // 2], "truncated")
bad("truncated before the signature count", BASE_ENV[:SIGS_AT], "truncated")
bad("truncated inside the keyId", BASE_ENV[:SIGS_AT + 1 + 10], "truncated")
bad("truncated inside a signature", BASE_ENV[:-10], "truncated")
bad("trailing garbage byte after the envelope", BASE_ENV + b"\x00", "trailing-bytes")
bad("a second envelope concatenated", BASE_ENV + BASE_ENV, "trailing-bytes")
bad("signature count 0", BASE_ENV[:SIGS_AT] + b"\x00", "signature")
bad("signature count 5 (five copies of a valid signature)", BASE_ENV[:SIGS_AT] + b"\x05" + SIG_REC * 5, "signature")
bad("signature 63 bytes long", BASE_ENV[:SIGS_AT] + b"\x01" + lstring(SIG[0], 32) + lbytes(SIG[1][:63], 64), "signature")
bad("signature 0 bytes long", BASE_ENV[:SIGS_AT] + b"\x01" + lstring(SIG[0], 32) + lbytes(b"", 64), "signature")
bad("non-minimal varint in the payloadType length (0x97 0x00 for 23)",
    MAGIC + b"\x97\x00" + T + BASE_ENV[len(HEAD):], "varint")
assert len(T) == 0x17
bad("non-minimal varint in the payload length (trailing 0x80 0x00)",
    HEAD + uvarint(len(BASE_BODY))[:-1] + bytes([uvarint(len(BASE_BODY))[-1] | 0x80, 0]) + BASE_BODY
    + BASE_ENV[SIGS_AT:], "varint")
bad("overflowing varint as the payload length (10th byte 0x02)", HEAD + b"\xff" * 9 + b"\x02" + BASE_ENV[PAYLOAD_AT:],
    "varint")
bad("varint longer than 10 bytes as the payload length", HEAD + b"\x80" * 10 + b"\x00" + BASE_ENV[PAYLOAD_AT:], "varint")
bad("payload length declared 2^40", HEAD + uvarint(1 << 40) + BASE_ENV[PAYLOAD_AT:], "oversized")
bad("payloadType length 200 (bound 128), all 200 bytes present", MAGIC + lbytes(b"x" * 200, 200) + BASE_ENV[len(HEAD):],
    "oversized")
bad("keyId length 33 (bound 32)", BASE_ENV[:SIGS_AT] + b"\x01" + lbytes(SIG[0].encode() + b"0", 33) + lbytes(SIG[1], 64),
    "oversized")
bad("invalid UTF-8 in the payloadType", MAGIC + lstring(b"creditsync/changeset/v\xff", 128) + BASE_ENV[len(HEAD):], "utf8")

# signatures and trust
body_flipped = bytearray(BASE_BODY)
pos_created = len(encode(CHANGESET[:9], BASE_F))   # createdAt follows afterRoot
assert BASE_BODY[pos_created:pos_created + len(uvarint(BASE_F["createdAt"]))] == uvarint(BASE_F["createdAt"])
body_flipped[pos_created] ^= 0x01                 # low bit of the first createdAt byte: still a valid varint
assert decode_changeset(bytes(body_flipped))["createdAt"] == BASE_F["createdAt"] ^ 1
bad("bit flipped in the payload (createdAt, still well-formed)",
    BASE_ENV[:PAYLOAD_AT] + bytes(body_flipped) + BASE_ENV[SIGS_AT:], "bad-signature")
bad("bit flipped in the signature", BASE_ENV[:-1] + bytes([BASE_ENV[-1] ^ 0x01]), "bad-signature")
bad("signature over the body alone instead of the PAE",
    envelope(T_CHANGESET, BASE_BODY, [(SIG[0], KEYS["node-360100"].private.sign(BASE_BODY))]), "bad-signature")
bad("signature over the PAE of the whole payload instead of its SHA-256 digest",
    envelope(T_CHANGESET, BASE_BODY, [(SIG[0], KEYS["node-360100"].private.sign(pae(T_CHANGESET, BASE_BODY)))]), "bad-signature")
bad("signature made with another key under the trusted keyId",
    envelope(T_CHANGESET, BASE_BODY, [(SIG[0], sign("node-360200", T_CHANGESET, BASE_BODY)[1])]), "bad-signature")
resigned("untrusted-key", "node 360100 set signed by the node-360200 key (only node-360100 trusted)",
         key_name="node-360200", keyId=KEYS["node-360200"].key_id)
resigned("untrusted-key", "signed by the rotated key when only the old key is trusted",
         key_name="node-360100-next", keyId=KEYS["node-360100-next"].key_id)
bad("signed by the old key when only the rotated key is trusted (old key revoked)", BASE_ENV, "untrusted-key",
    trusted=("node-360100-next",))
resigned("payload-type", "change set signed as creditsync/treehead/v1", payload_type=T_TREEHEAD)
resigned("payload-type", "change set signed as creditsync/changeset/v2", payload_type="creditsync/changeset/v2")
bad("receipt envelope where a change set is expected", receipt_env, "payload-type", trusted=("hub",))

bad_sig = (SIG[0], bytes([SIG[1][0] ^ 0x01]) + SIG[1][1:])
other_sig = sign("node-360200", T_CHANGESET, BASE_BODY)
bad("a signature by an untrusted key, then a trusted one that does not verify: bad-signature, not untrusted-key",
    envelope(T_CHANGESET, BASE_BODY, [other_sig, bad_sig]), "bad-signature")

# envelopes that verify: one verifying trusted signature suffices (sync.md section 3), whatever the others are
verifying = []


def good(name, env, trusted=("node-360100",), key_name="node-360100"):
    for order in (True, False):
        verify(env, T_CHANGESET, list(trusted), signatures_first=order)
    verifying.append({"name": name, "envelope": hx(env), "expectedPayloadType": T_CHANGESET,
                      "signerKeyNames": list(trusted), "keyName": key_name})


good("a trusted signature that does not verify, then one that does",
     envelope(T_CHANGESET, BASE_BODY, [bad_sig, SIG]))
good("a verifying trusted signature, then one that does not verify", envelope(T_CHANGESET, BASE_BODY, [SIG, bad_sig]))
good("a signature by another node's key, then the node's own", envelope(T_CHANGESET, BASE_BODY, [other_sig, SIG]))
good("signed by a key the verifier does not trust beside the trusted one the body names",
     envelope(T_CHANGESET, BASE_BODY, [sign("node-360100-next", T_CHANGESET, BASE_BODY), SIG]))

# body
resigned("version", "change-set body version 2", version=2)
resigned("version", "change-set body version 0", version=0)
body_trailing = BASE_BODY + b"\x00"
bad("byte after the change-set body, properly signed", signed("node-360100", T_CHANGESET, body_trailing), "trailing-bytes")
bad("change-set body truncated inside afterRoot, properly signed",
    signed("node-360100", T_CHANGESET, BASE_BODY[:len(encode(CHANGESET[:9], BASE_F)) - 5]), "truncated")
resigned("oversized", "node string of 17 bytes (bound 16; the changes carry the same node)",
         **log_fields([encode_change(dict(f, node=Over(b"3601000000000000X"))) for f in (F1, F2, F3)],
                      node=Over(b"3601000000000000X")))
resigned("utf8", "invalid UTF-8 in the node string (the changes carry the same bytes)",
         **log_fields([encode_change(dict(f, node=b"36010\xff")) for f in (F1, F2, F3)], node=b"36010\xff"))
resigned("utf8", "overlong UTF-8 encoding in the node string",
         **log_fields([encode_change(dict(f, node=b"3601\xc0\xb0")) for f in (F1, F2, F3)], node=b"3601\xc0\xb0"))

# every integer of every message is bounded (§1), the hub's messages included
TOO_BIG = 1 << 63
bad("receipt whose first is 2^63", signed("hub", T_RECEIPT, encode(RECEIPT, dict(receipt_f, first=TOO_BIG, last=TOO_BIG))),
    "oversized", trusted=("hub",), expected_type=T_RECEIPT)
bad("fan-out batch whose from is 2^63", signed("hub", T_FANOUT, encode(FANOUT, {
        "hub": HUB, "keyId": KEYS["hub"].key_id, "node": "361000", "from": TOO_BIG, "to": TOO_BIG, "hubLogSize": TOO_BIG,
        "hubLogRoot": mth(HUB_LOG), "createdAt": ms("2026-10-08T08:31:00+08:00"), "entries": []})),
    "oversized", trusted=("hub",), expected_type=T_FANOUT)
bad("tree head whose size is 2^63", signed("node-360100", T_TREEHEAD, encode(TREEHEAD, {
        "log": "360100", "keyId": KEYS["node-360100"].key_id, "size": TOO_BIG, "root": mth(NODE_LOG[:4]),
        "timestamp": ms("2026-07-01T10:00:04+08:00")})),
    "oversized", expected_type=T_TREEHEAD)

# changes inside a set
op9 = encode_change(dict(F3, operation=9))
resigned("operation", "change with operation 9", **log_fields([C1, C2, op9]))
op0 = encode_change(dict(F1, operation=0))
resigned("operation", "change with operation 0", **log_fields([op0, C2, C3]))
resigned("version", "change with version 2", **log_fields([C1, encode_change(F2, version=2), C3]))
resigned("missing-reason", "correct with an empty reason", **log_fields([C1, encode_change(dict(F2, reason="")), C3]))
resigned("missing-reason", "correct with an empty decisionDocument",
         **log_fields([C1, encode_change(dict(F2, decisionDocument="")), C3]))
resigned("missing-reason", "revoke with empty reason and decisionDocument",
         **log_fields([C1, C2, encode_change(dict(F3, reason="", decisionDocument=""))]))
resigned("trailing-bytes", "byte after a change inside its length prefix", **log_fields([C1, C2 + b"\x00", C3]))
resigned("truncated", "change cut short inside its length prefix", **log_fields([C1, C2[:-4], C3]))
resigned("utf8", "invalid UTF-8 in a change's recordId",
         **log_fields([C1, C2, encode_change(dict(F3, recordId=b"CF-\xe4\xb8-17"))]))
resigned("oversized", "change-set createdAt of 2^63 (an int is at most 2^63 - 1)", createdAt=1 << 63)
resigned("oversized", "change acceptedAt of 2^64 - 1 (an int is at most 2^63 - 1)",
         **log_fields([C1, C2, encode_change(dict(F3, acceptedAt=(1 << 64) - 1))]))
resigned("oversized", "change-set first of 2^63 (an int is at most 2^63 - 1)", first=1 << 63)
resigned("oversized", "change recordId of 513 bytes (bound 512)",
         **log_fields([C1, C2, encode_change(dict(F3, recordId=Over(b"X" * 513)))]))

# consistency (§4 MUST rules)
resigned("inconsistent", "count 2 while last - first + 1 = 3",
         **dict(log_fields([C1, C2, C3]), changes=[C1, C2]))
resigned("inconsistent", "count 4 while last - first + 1 = 3",
         **dict(log_fields([C1, C2, C3]), changes=[C1, C2, C3, NODE_LOG[3]]))
resigned("inconsistent", "change sequences 1, 3, 2 in a set 1-3", **log_fields([C1, C3, C2]))
resigned("inconsistent", "change sequence 2 at the first position of a set 2-3",
         **dict(log_fields([C2, C3], first=2), changes=[C3, C2]))
resigned("inconsistent", "change of node 360200 in a 360100 set",
         **log_fields([C1, C2, encode_change(dict(F3, node="360200"))]))
resigned("inconsistent", "beforeSize 2 for first = 4",
         **dict(log_fields([NODE_LOG[3]], first=4), beforeSize=2, beforeRoot=mth(NODE_LOG[:2])))
resigned("inconsistent", "beforeSize 1 for first = 1", **dict(log_fields([C1, C2, C3]), beforeSize=1,
                                                             beforeRoot=mth(NODE_LOG[:1])))
resigned("inconsistent", "afterSize 4 for last = 3", **dict(log_fields([C1, C2, C3]), afterSize=4,
                                                           afterRoot=mth(NODE_LOG[:4])))
resigned("inconsistent", "first 0", **dict(log_fields([C1, C2, C3]), first=0, last=2, beforeSize=0))
resigned("inconsistent", "last < first (first 3, last 2, no changes)",
         first=3, last=2, beforeSize=2, beforeRoot=mth(NODE_LOG[:2]), afterSize=2, afterRoot=mth(NODE_LOG[:2]),
         changes=[])
resigned("inconsistent", "body keyId names the rotated key, signed with the old key",
         keyId=KEYS["node-360100-next"].key_id, trusted=("node-360100", "node-360100-next"))

assert len({v["name"] for v in invalid}) == len(invalid)

# ---------------------------------------------------------------- output

print(json.dumps({
    "description": "Sync protocol vectors (Protocol/sync.md). All byte strings are lowercase hex; times are "
                   "milliseconds since 1970-01-01T00:00:00Z. keys: Ed25519 keys from fixed 32-byte seeds "
                   "(SHA-256 of 'creditsync test key ' + name); keyId = first 16 bytes of SHA-256 of the public key. "
                   "changes: fields and their encoding; fields.payload is the UTF-8 text of the payload bytes. "
                   "merkle: RFC 6962 reference tree (rfcVectors.leaves) with every inclusion and consistency proof, "
                   "proofs that MUST fail, compact frontiers, and consistency proofs as the fan-out's "
                   "Creditsync-Consistency header carries them (Protocol/hub-api.md). changeSets: node 360100's log (leaves = the "
                   "encoded changes of node 360100, sequences 1-6) pushed in three signed sets; the third is "
                   "signed with the rotated key node-360100-next. The hub log (fanout, the hub tree head) holds, at "
                   "positions 1-6, the changes named " + "; ".join(HUB_LOG_NAMES) + ". treeHeads carry keyName, the signer. "
                   "refusalLists: the hub's signed answers to GET /v1/nodes/{node}/refusals?after=N (Protocol/hub-api.md), "
                   "payload JSON with sorted keys and no insignificant space, node and after as asked; "
                   "invalidRefusalLists: properly signed by the hub, each MUST NOT be filed by node `node` that asked after `after`. "
                   "invalidEnvelopes: a verifier expecting expectedPayloadType and trusting exactly the keys "
                   "signerKeyNames (all active) for the signer MUST refuse the envelope with error; each vector "
                   "has a single fault, so the code does not depend on whether signatures are checked before or "
                   "after the body is decoded. 'properly signed' means the faulty body carries a valid signature. "
                   "verifyingEnvelopes: the same verifier MUST accept each, on the signature of keyName: one "
                   "verifying trusted signature suffices, whatever the envelope's other signatures are.",
    "keys": [k.json() for k in KEYS.values()],
    "pae": pae_json,
    "signingInputs": signing_input_json,
    "changes": changes_json,
    "merkle": merkle,
    "changeSets": changesets,
    "receipts": receipts,
    "fanout": fanout,
    "treeHeads": treeheads,
    "refusalLists": refusal_lists,
    "invalidRefusalLists": invalid_refusal_lists,
    "invalidEnvelopes": invalid,
    "verifyingEnvelopes": verifying,
}, ensure_ascii=False, indent=1))
