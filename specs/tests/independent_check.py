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

    passed = failed = 0
    for path in sorted((ROOT / "valid").glob("*.json")):
        vector = json.loads(path.read_text(encoding="utf-8"))
        expect = vector["expect"]
        try:
            if "input" in vector:
                message = vector["input"]
            else:
                message = json.loads(vector["input_text"], object_pairs_hook=no_duplicates)
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
            passed += 1
            print(f"ok    {vector['id']}")
        except Exception as error:  # report every vector, then fail
            failed += 1
            print(f"FAIL  {vector['id']}: {error}")
    for problem in problems:
        print(f"FAIL  {problem}")
    failed += len(problems)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
