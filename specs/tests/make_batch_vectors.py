#!/usr/bin/env python3
"""Writes the Batch vectors (ISM-1 §6.11, §8.7): valid/42 and invalid/118–125.

Each Batch is made, with the standard library and the `cryptography`
package only, from messages of other vectors (their signatures removed): a
Batch from relay.custodian-a to gw.xnys carrying the proposal of valid/07
and the lock request of valid/08, and variants that break one rule each.
Canonical bytes are RFC 8785 for objects of strings only (members sorted,
no whitespace); every Batch is signed with test-key-1 (ISM-1 §7.2, §10.3),
so that its only defect is the one the vector names. Run from anywhere;
the files come out the same every time.
"""
import base64, copy, hashlib, json, pathlib
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ROOT = pathlib.Path(__file__).resolve().parents[1] / "vectors"
DOMAIN = b"ISM/1 envelope signature\x00"
SEED = hashlib.sha256(b"ISM/1 test vector key 1").digest()
KEY = Ed25519PrivateKey.from_private_bytes(SEED)
KEY_ID = "63f5eb8a14f532b07d8f3570a50fd658"


def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def b64(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def carried(name, keep_signature=False):
    path = next((ROOT / "valid").glob(name + "-*.json"))
    message = copy.deepcopy(json.loads(path.read_text())["input"])
    if not keep_signature:
        del message["signature"]
    return message


def batch(batch_id, messages, sender="relay.custodian-a", receiver="gw.xnys"):
    envelope = {
        "version": "ISM/1",
        "id": batch_id,
        "kind": "Batch",
        "sender": sender,
        "receiver": receiver,
        "created_at": "2026-11-25T09:00:42.000Z",
        "body": {"messages": messages},
    }
    unsigned = canonical(envelope)
    value = b64(KEY.sign(DOMAIN + unsigned))
    envelope["signature"] = {"alg": "Ed25519", "key_id": KEY_ID, "value": value}
    return envelope, unsigned, value


def write(directory, vector):
    path = ROOT / directory / (vector["id"].split("/", 1)[1] + ".json")
    path.write_text(json.dumps(vector, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


CLAUSES = ["ISM-1 §6.11", "ISM-1 §8.7"]

envelope, unsigned, value = batch(
    "01a211ef-8e90-7a2a-aa2a-2a2a2a2a2a2a", [carried("07"), carried("08")]
)
write("valid", {
    "schema": "ism-vector/1",
    "id": "valid/42-batch-proposal-and-lock-request",
    "description": "A Batch from the relay to a gateway carrying a SettlementProposal and the LockRequest that follows it, neither signed itself: the Batch's one signature covers both.",
    "clauses": CLAUSES + ["ISM-1 §7.2"],
    "input": envelope,
    "expect": {
        "result": "valid",
        "canonical_unsigned": unsigned.decode(),
        "canonical_unsigned_sha256": hashlib.sha256(unsigned).hexdigest(),
        "signature": value,
    },
})


def invalid(number, name, description, messages, reason, field):
    batch_id = "01a211ef-%04x-7b2b-ab2b-%012x" % (0x9000 + number, number)
    envelope, _, _ = batch(batch_id, messages)
    write("invalid", {
        "schema": "ism-vector/1",
        "id": f"invalid/{number}-{name}",
        "description": description,
        "clauses": CLAUSES,
        "input": envelope,
        "expect": {"result": "invalid", "reason": reason, "field": field},
    })


nested, _, _ = batch("01a211ef-9000-7b2b-ab2b-000000000000", [carried("08")])
del nested["signature"]
invalid(118, "batch-nested", "A Batch carrying a Batch: refused at the carried message's kind, before its body is read.",
        [carried("07"), nested], "BATCH_NESTED", "body.messages[1].kind")
invalid(119, "batch-carried-message-signed", "A carried message with a signature of its own.",
        [carried("07"), carried("08", keep_signature=True)], "BATCH_MESSAGE_SIGNED", "body.messages[1].signature")
invalid(120, "batch-carried-sender-mismatch", "A Batch from the relay carrying a LockReceipt from the gateway it is addressed to.",
        [carried("07"), carried("10")], "BATCH_ADDRESS_MISMATCH", "body.messages[1].sender")
invalid(121, "batch-carried-receiver-mismatch", "A Batch for gw.xnys carrying a LockRequest for gw.xetr.",
        [carried("07"), carried("09")], "BATCH_ADDRESS_MISMATCH", "body.messages[1].receiver")
invalid(122, "batch-empty", "A Batch that carries nothing.",
        [], "MISSING_FIELD", "body.messages")
bad_isin = carried("07")
bad_isin["body"]["isin"] = bad_isin["body"]["isin"][:-1] + str((int(bad_isin["body"]["isin"][-1]) + 1) % 10)
invalid(123, "batch-carried-isin-check-digit", "A carried proposal with a wrong ISIN check digit: the path names the carried message.",
        [bad_isin, carried("08")], "ISIN_CHECK_DIGIT", "body.messages[0].body.isin")
unknown = carried("08")
unknown["signatures"] = []
invalid(124, "batch-carried-unknown-member", "A carried message with a member the envelope does not define.",
        [carried("07"), unknown], "UNKNOWN_FIELD", "body.messages[1].signatures")
invalid(125, "batch-decoding-before-addresses", "The first entry is from another sender and the second is signed: every entry decodes (rule 2) before addresses are compared (rule 3), so the signed entry is what is refused.",
        [carried("10"), carried("08", keep_signature=True)], "BATCH_MESSAGE_SIGNED", "body.messages[1].signature")
