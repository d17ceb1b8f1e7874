#!/usr/bin/env python3
"""Re-derives every valid ISM/1 vector with code Isthmus did not write.

For each vector in specs/vectors/valid/ this script, using only Python's
standard library and the `cryptography` package (OpenSSL's Ed25519):
  - parses the input, refusing duplicate member names (ISM-1 §3.2);
  - computes the RFC 8785 canonical bytes of the envelope without its
    signature (ISM-1 §3.4): members sorted by UTF-16 code units, no
    whitespace, JSON.stringify string escaping (messages carry no numbers);
  - checks them, and their SHA-256, against the vector;
  - verifies the Ed25519 signature over "ISM/1 envelope signature" || 0x00 ||
    canonical bytes (ISM-1 §7.2) with the published test key, re-derived
    from its seed phrase, and checks its key id (ISM-1 §7.1).
It reads a vector's input from `input`, `input_text` or `input_hex` (ISM-1
§10.2), decoding bytes as strict UTF-8.

It also implements the verification rule of ISM-1 §7.3 item 2 on its own,
in plain integer arithmetic after RFC 8032 §5.1 (no Ed25519 library), and
runs it over every valid vector (which it must accept) and every vector
expecting SIGNATURE_INVALID (which it must refuse). For each vector crafted
to break one strictness rule it also runs the verifier with that one rule
relaxed, which must then accept: so each vector tests the rule it names.
OpenSSL's verdict on those is printed for information; OpenSSL is not
ISM/1's rule and may differ.

It prints one line per vector and a closing "N passed, M failed" line, and
exits non-zero if anything differs.
"""

import base64
import hashlib
import json
import pathlib
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ROOT = pathlib.Path(__file__).resolve().parents[1] / "vectors"
DOMAIN = b"ISM/1 envelope signature\x00"


def no_duplicates(pairs):
    seen = {}
    for name, value in pairs:
        if name in seen:
            raise ValueError(f"duplicate member {name!r}")
        seen[name] = value
    return seen


def escape(text):
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch in "\b\f\n\r\t":
            out.append({"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
        elif code < 0x20:
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def canonical(value):
    if isinstance(value, dict):
        names = sorted(value, key=lambda name: name.encode("utf-16-be"))
        return "{" + ",".join(escape(n) + ":" + canonical(value[n]) for n in names) + "}"
    if isinstance(value, list):
        return "[" + ",".join(canonical(v) for v in value) + "]"
    if isinstance(value, str):
        return escape(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    raise ValueError(f"ISM/1 messages carry no numbers, found {value!r}")


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def input_message(vector):
    """The vector's input as a JSON value (ISM-1 §10.4 item 1)."""
    if "input" in vector:
        return vector["input"]
    if "input_hex" in vector:
        text = bytes.fromhex(vector["input_hex"]).decode("utf-8")  # strict
    else:
        text = vector["input_text"]
    return json.loads(text, object_pairs_hook=no_duplicates)


# --- ISM-1 §7.3 item 2, from RFC 8032 §5.1 in plain integers ----------------

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
IDENTITY = (0, 1, 1, 0)


def point_add(p, q):
    a = (p[1] - p[0]) * (q[1] - q[0]) % P
    b = (p[1] + p[0]) * (q[1] + q[0]) % P
    c = 2 * p[3] * q[3] * D % P
    d = 2 * p[2] * q[2] % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def point_mul(k, p):
    result = IDENTITY
    while k > 0:
        if k & 1:
            result = point_add(result, p)
        p = point_add(p, p)
        k >>= 1
    return result


def point_neg(p):
    return (-p[0] % P, p[1], p[2], -p[3] % P)


def point_equal(p, q):
    return (p[0] * q[2] - q[0] * p[2]) % P == 0 and (p[1] * q[2] - q[1] * p[2]) % P == 0


def decode_point(data, lenient=False):
    """RFC 8032 §5.1.3. Strict: y >= p, no square root, or x = 0 with the sign
    bit set fail. Lenient (as ring and many others decode): y is taken mod p
    and x = 0 takes either sign."""
    y = int.from_bytes(data, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    if y >= P:
        if not lenient:
            return None
        y %= P
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    if x2 == 0:
        if sign and not lenient:
            return None
        return (0, y, 1, 0)
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P:
        return None
    if x & 1 != sign:
        x = P - x
    return (x, y, 1, x * y % P)


def encode_point(p):
    z_inverse = pow(p[2], P - 2, P)
    x, y = p[0] * z_inverse % P, p[1] * z_inverse % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


BASE = decode_point(((4 * pow(5, P - 2, P)) % P).to_bytes(32, "little"))


def small_order(data):
    """A point of order dividing 8, whatever its encoding: [8]P is the identity."""
    point = decode_point(data, lenient=True)
    return point is not None and point_equal(point_mul(8, point), IDENTITY)


def ism_verify(public, signature, message, relax=frozenset()):
    """ISM-1 §7.3 item 2; `relax` names the rules to leave out."""
    r, s = signature[:32], int.from_bytes(signature[32:], "little")
    if s >= L:
        if "s-below-l" not in relax:
            return False
        s %= L
    a = decode_point(public, lenient="key-canonical" in relax)
    if a is None:
        return False
    if "key-small-order" not in relax and small_order(public):
        return False
    if "r-small-order" not in relax and small_order(r):
        return False
    k = int.from_bytes(hashlib.sha512(r + public + message).digest(), "little") % L
    expected = point_add(point_mul(s, BASE), point_neg(point_mul(k, a)))
    if "cofactorless" in relax:
        given = decode_point(r)
        return given is not None and point_equal(
            point_mul(8, point_add(expected, point_neg(given))), IDENTITY)
    if "r-bytes" in relax:
        given = decode_point(r, lenient=True)
        return given is not None and point_equal(expected, given)
    return encode_point(expected) == r


# For each vector crafted against strictness rules: the rules whose relaxation
# makes it verify (None for a key that is no point at all: nothing does).
RULE_VECTORS = {
    "invalid/99-signature-s-not-reduced": {"s-below-l"},
    "invalid/100-signature-r-small-order": {"r-small-order"},
    "invalid/101-signature-r-non-canonical": {"r-small-order", "r-bytes"},
    "invalid/102-signature-cofactored-only": {"cofactorless"},
    "invalid/103-key-small-order": {"key-small-order"},
    "invalid/104-key-non-canonical": {"key-small-order", "key-canonical"},
    "invalid/105-key-not-on-curve": None,
}
ALL_RULES = frozenset(
    {"s-below-l", "r-small-order", "r-bytes", "cofactorless", "key-small-order", "key-canonical"})


def openssl_verdict(public, signature, message):
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
        return "accepts"
    except Exception:  # an invalid signature, or a key OpenSSL will not load
        return "refuses"


def check_signature_rule(vector, keys_by_id):
    """Checks a vector expecting SIGNATURE_INVALID with ism_verify; returns a note."""
    message = input_message(vector)
    unsigned = {k: v for k, v in message.items() if k != "signature"}
    data = DOMAIN + canonical(unsigned).encode("utf-8")
    signature = b64url_decode(message["signature"]["value"])
    public = b64url_decode(keys_by_id[message["signature"]["key_id"]]["public_key"])
    assert not ism_verify(public, signature, data), "the ISM-1 §7.3 rule accepts it"
    if vector["id"] not in RULE_VECTORS:
        return ""
    relaxed = RULE_VECTORS[vector["id"]]
    if relaxed is None:
        assert not ism_verify(public, signature, data, ALL_RULES), "relaxing every rule accepts it"
        return f" (no relaxed rule accepts it; OpenSSL {openssl_verdict(public, signature, data)})"
    assert ism_verify(public, signature, data, frozenset(relaxed)), \
        f"relaxing {', '.join(sorted(relaxed))} does not accept it"
    for rule in relaxed:
        # Every rule named refuses it on its own: relaxing all the others
        # but this one still refuses.
        assert not ism_verify(public, signature, data, frozenset(relaxed - {rule})), \
            f"{rule} alone does not refuse it"
    return (f" (relaxing {', '.join(sorted(relaxed))} accepts it;"
            f" OpenSSL {openssl_verdict(public, signature, data)})")


def main():
    keys = json.loads((ROOT / "keys.json").read_text(encoding="utf-8"))
    trusted = keys["trusted"][0]
    seed = bytes.fromhex(trusted["seed"])
    private = Ed25519PrivateKey.from_private_bytes(seed)
    raw_public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    problems = []
    if raw_public != b64url_decode(trusted["public_key"]):
        problems.append("keys.json: the seed does not give the published public key")
    if hashlib.sha256(raw_public).hexdigest()[:32] != trusted["key_id"]:
        problems.append("keys.json: key_id is not the first 16 bytes of SHA-256(public key)")
    public = Ed25519PublicKey.from_public_bytes(raw_public)
    for key in keys["trusted"] + keys["untrusted"]:
        if hashlib.sha256(b64url_decode(key["public_key"])).hexdigest()[:32] != key["key_id"]:
            problems.append(f"keys.json: {key['name']}: key_id is not the id of its public key")
        if "seed" in key:
            derived = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(key["seed"])).public_key()
            if derived.public_bytes(Encoding.Raw, PublicFormat.Raw) != b64url_decode(key["public_key"]):
                problems.append(f"keys.json: {key['name']}: the seed does not give the public key")
    keys_by_id = {key["key_id"]: key for key in keys["trusted"]}
    if BASE is None or encode_point(BASE).hex() != "58" + "66" * 31:
        problems.append("the pure-Python base point is wrong")

    passed = failed = 0
    for path in sorted((ROOT / "valid").glob("*.json")):
        vector = json.loads(path.read_text(encoding="utf-8"))
        expect = vector["expect"]
        try:
            message = input_message(vector)
            unsigned = {k: v for k, v in message.items() if k != "signature"}
            data = canonical(unsigned).encode("utf-8")
            assert data == expect["canonical_unsigned"].encode("utf-8"), "canonical bytes differ"
            assert hashlib.sha256(data).hexdigest() == expect["canonical_unsigned_sha256"], "SHA-256 differs"
            signature = message["signature"]
            assert signature["alg"] == "Ed25519", "algorithm"
            assert signature["key_id"] == trusted["key_id"], "key id"
            assert signature["value"] == expect["signature"], "signature value differs from the expected one"
            public.verify(b64url_decode(signature["value"]), DOMAIN + data)
            # Ed25519 is deterministic (RFC 8032): the seed must give the same signature.
            again = base64.urlsafe_b64encode(private.sign(DOMAIN + data)).rstrip(b"=").decode()
            assert again == signature["value"], "re-signing gives a different signature"
            assert ism_verify(raw_public, b64url_decode(signature["value"]), DOMAIN + data), \
                "the ISM-1 §7.3 rule refuses it"
            passed += 1
            print(f"ok    {vector['id']}")
        except Exception as error:  # report every vector, then fail
            failed += 1
            print(f"FAIL  {vector['id']}: {error}")
    for path in sorted((ROOT / "invalid").glob("*.json")):
        vector = json.loads(path.read_text(encoding="utf-8"))
        if vector["expect"].get("reason") != "SIGNATURE_INVALID":
            continue
        try:
            note = check_signature_rule(vector, keys_by_id)
            passed += 1
            print(f"ok    {vector['id']}{note}")
        except Exception as error:  # report every vector, then fail
            failed += 1
            print(f"FAIL  {vector['id']}: {error}")
    present = {f"invalid/{path.stem}" for path in (ROOT / "invalid").glob("*.json")}
    problems.extend(f"{id}: the signature-rule vector is missing" for id in sorted(set(RULE_VECTORS) - present))
    for problem in problems:
        print(f"FAIL  {problem}")
    failed += len(problems)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
