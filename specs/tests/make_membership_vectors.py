#!/usr/bin/env python3
"""Writes specs/vectors/membership/cases.json (ISM-1 §8.1 rule 4, §10.7).

Each case is a membership file as text, the node reading it (or none: the
checks of the file alone) and the expected verdict. The keys are Ed25519
keys from fixed seeds (SHA-256 of "ism1-membership-key-N"), so the file is
the same every time this runs; the certificate digests are SHA-256 of fixed
strings, standing for certificates (a membership file only pins them).
"""
import base64, hashlib, json, pathlib
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

def key(n):
    seed = hashlib.sha256(f"ism1-membership-key-{n}".encode()).digest()
    pub = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"alg": "Ed25519", "key_id": hashlib.sha256(pub).digest()[:16].hex(),
            "public_key": base64.urlsafe_b64encode(pub).rstrip(b"=").decode()}

def cert(n):
    return hashlib.sha256(f"ism1-membership-certificate-{n}".encode()).hexdigest()

def network():
    return {"network": "isthmus-vectors", "members": [
        {"node_id": "relay.one", "role": "relay", "signing_keys": [key(1)], "certificate_sha256": cert(1)},
        {"node_id": "gw.xnys", "role": "gateway", "market": "XNYS", "signing_keys": [key(2), key(3)], "certificate_sha256": cert(2)},
        {"node_id": "gw.xlon", "role": "gateway", "market": "XLON", "signing_keys": [key(4)], "certificate_sha256": cert(3)},
        {"node_id": "obs.regulator", "role": "observer", "signing_keys": [key(5)], "certificate_sha256": cert(4)},
    ]}

cases = []
def case(name, clause, file, expect, own=None, text=None):
    c = {"name": name, "clause": clause}
    if own: c["own_node_id"] = own
    c["file"] = text if text is not None else json.dumps(file, indent=2)
    c["expect"] = expect
    cases.append(c)

def bad(reason, field=None):
    e = {"reason": reason}
    if field: e["field"] = field
    return e

case("valid-four-members", "8.1.4", network(), "valid", own="gw.xnys")
case("valid-without-own-check", "8.1.4", network(), "valid")
f = network(); case("own-node-missing", "8.1.4", f, bad("MEMBER_MISSING"), own="gw.xpar")
f = network(); f["members"] = []; case("no-members", "8.1.4", f, bad("MEMBER_MISSING", "members"))
f = network(); f["members"][2]["role"] = "custodian"; case("role-unknown", "8.1.4", f, bad("ROLE_UNKNOWN", "members[2].role"))
f = network(); f["members"][2]["role"] = "Gateway"; case("role-case-sensitive", "8.1.4", f, bad("ROLE_UNKNOWN", "members[2].role"))
f = network(); del f["members"][1]["market"]; case("gateway-without-market", "8.1.4", f, bad("MISSING_FIELD", "members[1].market"))
f = network(); f["members"][0]["market"] = "XNYS"; case("relay-with-market", "8.1.4", f, bad("MARKET_UNEXPECTED", "members[0].market"))
f = network(); f["members"][3]["market"] = "XLON"; case("observer-with-market", "8.1.4", f, bad("MARKET_UNEXPECTED", "members[3].market"))
f = network(); f["members"][2]["market"] = "XQQQ"; case("market-not-in-table", "8.1.4", f, bad("MIC_UNKNOWN", "members[2].market"))
f = network(); f["members"][2]["market"] = "xlon"; case("market-malformed", "8.1.4", f, bad("MIC_FORMAT", "members[2].market"))
f = network(); f["members"][3]["signing_keys"] = []; case("no-signing-keys", "8.1.4", f, bad("SIGNING_KEYS_MISSING", "members[3].signing_keys"))
f = network(); f["members"][2]["node_id"] = "gw.xnys"; case("node-id-twice", "8.1.4", f, bad("MEMBER_DUPLICATE", "members[2].node_id"))
f = network(); f["members"][2]["signing_keys"] = [key(3)]; case("key-under-two-members", "8.1.4", f, bad("KEY_DUPLICATE", "members[2].signing_keys[0].key_id"))
f = network(); f["members"][1]["signing_keys"] = [key(2), key(2)]; case("key-twice-under-one-member", "8.1.4", f, bad("KEY_DUPLICATE", "members[1].signing_keys[1].key_id"))
f = network(); f["members"][3]["certificate_sha256"] = cert(2); case("certificate-twice", "8.1.4", f, bad("CERTIFICATE_DUPLICATE", "members[3].certificate_sha256"))
f = network(); f["members"][0]["certificate_sha256"] = cert(1).upper(); case("certificate-upper-case", "8.1.4", f, bad("HEX_INVALID", "members[0].certificate_sha256"))
f = network(); f["members"][0]["node_id"] = "Relay.One"; case("node-id-malformed", "8.1.4", f, bad("NODE_ID_INVALID", "members[0].node_id"))
f = network(); f["members"][1]["signing_keys"][0]["key_id"] = key(9)["key_id"]; case("key-id-not-of-key", "8.1.4", f, bad("SIGNATURE_MALFORMED", "members[1].signing_keys[0].key_id"))
f = network(); f["members"][1]["colour"] = "blue"; case("unknown-member-of-entry", "8.1.4", f, bad("UNKNOWN_FIELD", "members[1].colour"))
f = network(); f["version"] = "1"; case("unknown-member-of-file", "8.1.4", f, bad("UNKNOWN_FIELD", "version"))
f = network(); del f["network"]; case("network-name-missing", "8.1.4", f, bad("MISSING_FIELD", "network"))
f = network(); del f["members"][0]["certificate_sha256"]; case("certificate-missing", "8.1.4", f, bad("MISSING_FIELD", "members[0].certificate_sha256"))
# Order: the first failure in file order wins, and within an entry the list's order.
f = network(); f["members"][1]["role"] = "bank"; f["members"][1]["node_id"] = "relay.one"; case("order-node-id-before-role", "8.1.4", f, bad("MEMBER_DUPLICATE", "members[1].node_id"))
f = network(); f["members"][1]["market"] = "XQQQ"; f["members"][1]["signing_keys"] = []; case("order-market-before-keys", "8.1.4", f, bad("MIC_UNKNOWN", "members[1].market"))
f = network(); f["members"][0]["signing_keys"] = []; f["members"][3]["role"] = "x"; case("order-earlier-entry-first", "8.1.4", f, bad("SIGNING_KEYS_MISSING", "members[0].signing_keys"))
case("not-json", "8.1.4", None, bad("MALFORMED_JSON"), text='{"network": "x", "members": [')
case("duplicate-name", "8.1.4", None, bad("DUPLICATE_KEY"), text='{"network": "a", "network": "b", "members": []}')

out = {"schema": "ism-membership-vectors/1",
       "comment": "ISM-1 §8.1 rule 4 and §10.7: membership files and the verdict every node must reach on them. Written by specs/tests/make_membership_vectors.py.",
       "cases": cases}
path = pathlib.Path(__file__).resolve().parent.parent / "vectors" / "membership" / "cases.json"
path.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
print(f"{len(cases)} cases written to {path}")
