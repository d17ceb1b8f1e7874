#!/usr/bin/env python3
"""Generates `adapters/src/iso20022/schema_tables.rs`: the content models (child
elements in XSD order, their occurrences, code lists) of the ISO 20022 element types
the Isthmus ISO 20022 adapter reads, taken from python-iso20022's xsdata models,
which were generated from the official XSDs.

    python3 adapters/tests/python/iso20022_schema_tables.py > adapters/src/iso20022/schema_tables.rs

`iso20022_schema_check.py --tables` regenerates the file and fails if the committed
one differs, so the Rust tables cannot drift from the models.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import iso20022_models as models  # noqa: E402

# The element paths the adapter walks, from each message's root (`Document`).
# Every type met on these paths gets a table.
WALKED = {
    "sese.023.001.11": [
        "SctiesSttlmTxInstr/SttlmTpAndAddtlParams",
        "SctiesSttlmTxInstr/TradDtls/PlcOfTrad/MktTpAndId/Id",
        "SctiesSttlmTxInstr/TradDtls/PlcOfTrad/MktTpAndId/Tp",
        "SctiesSttlmTxInstr/TradDtls/TradDt/Dt",
        "SctiesSttlmTxInstr/TradDtls/SttlmDt/Dt",
        "SctiesSttlmTxInstr/FinInstrmId",
        "SctiesSttlmTxInstr/QtyAndAcctDtls/SttlmQty/Qty",
        "SctiesSttlmTxInstr/QtyAndAcctDtls/AcctOwnr/Id",
        "SctiesSttlmTxInstr/QtyAndAcctDtls/SfkpgAcct",
        "SctiesSttlmTxInstr/QtyAndAcctDtls/CshAcct",
        "SctiesSttlmTxInstr/SttlmParams/SctiesTxTp",
        "SctiesSttlmTxInstr/DlvrgSttlmPties/Dpstry/Id",
        "SctiesSttlmTxInstr/DlvrgSttlmPties/Pty1/Id/PrtryId",
        "SctiesSttlmTxInstr/DlvrgSttlmPties/Pty1/SfkpgAcct",
        "SctiesSttlmTxInstr/RcvgSttlmPties",
        "SctiesSttlmTxInstr/CshPties/Dbtr/Id/PrtryId",
        "SctiesSttlmTxInstr/CshPties/Dbtr/CshAcct",
        "SctiesSttlmTxInstr/CshPties/DbtrAgt/Id/PrtryId",
        "SctiesSttlmTxInstr/SttlmAmt",
        "SctiesSttlmTxInstr/SplmtryData",
    ],
    "sese.024.001.12": [
        "SctiesSttlmTxStsAdvc/TxId",
        "SctiesSttlmTxStsAdvc/PrcgSts/AckdAccptd/Rsn/Cd/Prtry",
        "SctiesSttlmTxStsAdvc/PrcgSts/Rjctd/Rsn/Cd/Prtry",
        "SctiesSttlmTxStsAdvc/PrcgSts/Canc/Rsn/Cd/Prtry",
        "SctiesSttlmTxStsAdvc/MtchgSts/Mtchd/Rsn",
        "SctiesSttlmTxStsAdvc/MtchgSts/Umtchd/Rsn/Cd/Prtry",
        "SctiesSttlmTxStsAdvc/SttlmSts/Pdg/Rsn/Cd/Prtry",
        "SctiesSttlmTxStsAdvc/SttlmSts/Flng/Rsn/Cd/Prtry",
        "SctiesSttlmTxStsAdvc/SplmtryData",
    ],
    "sese.025.001.11": [
        "SctiesSttlmTxConf/TxIdDtls",
        "SctiesSttlmTxConf/TradDtls/SttlmDt/Dt",
        "SctiesSttlmTxConf/TradDtls/FctvSttlmDt/Dt",
        "SctiesSttlmTxConf/FinInstrmId",
        "SctiesSttlmTxConf/QtyAndAcctDtls/SttldQty/Qty",
        "SctiesSttlmTxConf/SttlmParams/SctiesTxTp",
        "SctiesSttlmTxConf/SttldAmt",
        "SctiesSttlmTxConf/SplmtryData",
    ],
    "semt.002.001.11": [
        "SctiesBalCtdyRpt/Pgntn",
        "SctiesBalCtdyRpt/StmtGnlDtls/StmtDtTm",
        "SctiesBalCtdyRpt/StmtGnlDtls/Frqcy",
        "SctiesBalCtdyRpt/StmtGnlDtls/UpdTp",
        "SctiesBalCtdyRpt/StmtGnlDtls/StmtBsis",
        "SctiesBalCtdyRpt/AcctOwnr/Id",
        "SctiesBalCtdyRpt/AcctSvcr/Id/PrtryId",
        "SctiesBalCtdyRpt/SfkpgAcct",
        "SctiesBalCtdyRpt/BalForAcct/FinInstrmId",
        "SctiesBalCtdyRpt/BalForAcct/AggtBal/Qty/Qty/Qty",
        "SctiesBalCtdyRpt/BalForAcct/AddtlBalBrkdwn/SubBalTp/Prtry",
        "SctiesBalCtdyRpt/BalForAcct/AddtlBalBrkdwn/Qty/Qty/Qty",
    ],
}

HEADERS = {"02": "BusinessApplicationHeaderV02", "04": "BusinessApplicationHeaderV04"}

# The header paths the adapter walks to read the routing (`Fr`, `To`: the same type).
HEADER_WALKED = ["Fr/FIId/FinInstnId", "Fr/OrgId/Id/OrgId"]


def const_name(type_name: str) -> str:
    words = re.findall(r"[A-Z]+(?=[A-Z][a-z]|\d|$)|[A-Z]?[a-z]+|\d+|[A-Z]+", type_name)
    # "...InstructionV11" reads better as ..._V11 than ..._V_11.
    return re.sub(r"_V_(\d+)", r"_V\1", "_".join(w.upper() for w in words))


def document_const(message_id: str) -> str:
    return message_id.replace(".", "_").upper() + "_DOCUMENT"


class Tables:
    def __init__(self):
        self.types: dict[str, tuple] = {}  # const -> (iso name, choice, children, used_in)
        self.codes: dict[str, list[str]] = {}
        self.order: list[str] = []

    def leaf_kind(self, tp) -> str:
        if models.is_enum(tp):
            const = const_name(tp.__name__)
            values = [member.value for member in tp]
            if self.codes.setdefault(const, values) != values:
                raise SystemExit(f"code list {tp.__name__} differs between messages")
            return f"Kind::Code({const})"
        if tp is bool:
            return "Kind::Bool"
        return "Kind::Simple"

    def add(self, cls, const: str, iso_name: str, walked: set[str], where: str):
        children = []
        for name, f, tp, listed in models.element_fields(cls):
            lo, hi = models.occurs(f, listed)
            if models.is_complex(tp) and (models.element_fields(tp) or models.has_wildcard(tp)):
                kind = "Kind::Complex"  # element content; a wildcard (SplmtryData/Envlp) too
            elif models.is_complex(tp):
                kind = "Kind::Simple"  # simple content with attributes, e.g. an amount and its Ccy
            else:
                kind = self.leaf_kind(tp)
            children.append((name, lo, hi, kind))
        entry = (iso_name, models.is_choice(cls), children)
        if const in self.types:
            if self.types[const][:3] != entry:
                raise SystemExit(f"type {iso_name} differs between messages")
            self.types[const][3].add(where)
            return
        self.types[const] = (*entry, {where})
        self.order.append(const)

    def walk(self, message_id: str, path: str):
        cls = models.root_class(message_id)
        self.add(cls, document_const(message_id), "Document", set(), message_id)
        self.walk_from(cls, message_id, path)

    def walk_from(self, cls, where: str, path: str):
        for step in path.split("/"):
            match = [c for c in models.element_fields(cls) if c[0] == step]
            if not match:
                raise SystemExit(f"{where}: no element {step} in {cls.__name__}")
            cls = match[0][2]
            if not (models.is_complex(cls) and models.element_fields(cls)):
                break
            self.add(cls, const_name(models.base_name(cls)), models.base_name(cls), set(), where)

    def render(self) -> str:
        out = [
            "//! Content models of the ISO 20022 element types the adapter reads: child",
            "//! elements in XSD sequence order with their occurrences, and the code lists of",
            "//! code-valued children.",
            "//!",
            "//! GENERATED by `adapters/tests/python/iso20022_schema_tables.py` from the xsdata",
            "//! models of python-iso20022 0.3.0 (themselves generated from the official XSDs of",
            "//! sese.023.001.11, sese.024.001.12, sese.025.001.11, semt.002.001.11 and",
            "//! head.001.001.02/04). Do not edit by hand; `iso20022_schema_check.py --tables`",
            "//! fails when this file and the models disagree.",
            "",
            "use super::schema::{ComplexType, Kind, Particle};",
            "",
        ]
        for const in self.order:
            iso_name, choice, children, used = self.types[const]
            out.append(f"/// `{iso_name}` ({', '.join(sorted(used))}).")
            out.append(f"pub(crate) static {const}: ComplexType = ComplexType {{")
            out.append(f"    name: \"{iso_name}\",")
            out.append(f"    choice: {'true' if choice else 'false'},")
            out.append("    children: &[")
            for name, lo, hi, kind in children:
                max_text = "None" if hi is None else f"Some({hi})"
                out.append(f"        Particle {{ name: \"{name}\", min: {lo}, max: {max_text}, kind: {kind} }},")
            out.append("    ],")
            out.append("};")
            out.append("")
        for const in sorted(self.codes):
            values = ", ".join(f'"{v}"' for v in self.codes[const])
            out.append(f"/// ISO 20022 code list `{const}`.")
            out.append(f"pub(crate) static {const}: &[&str] = &[{values}];")
            out.append("")
        return "\n".join(out).rstrip("\n") + "\n"


def generate() -> str:
    tables = Tables()
    for message_id, paths in WALKED.items():
        for path in paths:
            tables.walk(message_id, path)
    for version, type_name in HEADERS.items():
        head = models.load_head(version)
        cls = getattr(head, f"{type_name}Head001001{version}")
        where = f"head.001.001.{version}"
        tables.add(cls, const_name(type_name), type_name, set(), where)
        for path in HEADER_WALKED:
            tables.walk_from(cls, where, path)
    return tables.render()


if __name__ == "__main__":
    sys.stdout.write(generate())
