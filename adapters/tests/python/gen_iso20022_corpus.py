#!/usr/bin/env python3
"""Writes the valid ISO 20022 corpus of the Isthmus ISO 20022 adapter:
`adapters/tests/data/iso20022/NN-name.xml` and its expected ISM/1 result
`NN-name.ism.json` (`{"kind": ..., "body": body.to_json()}`).

The documents are written by another tool than Isthmus: each case's ISM/1 body is
mapped to ISO 20022 here, in Python, following the mapping documented in
`adapters/src/iso20022/*.rs` (a second, independent implementation of it), built as
python-iso20022 dataclasses, and serialized by xsdata — either through
python-iso20022's own `to_iso20022_xml()` (an `ns0:` prefix), or by xsdata's
`XmlSerializer` with a default namespace or another prefix. Some cases then add what
other tools add: a business application header (head.001.001.02 or .04) in a
wrapper element, comments, processing instructions, optional elements ISM/1 has no
member for, other lexical forms of the same values.

    python3 adapters/tests/python/gen_iso20022_corpus.py

Requires python-iso20022==0.3.0. The output is deterministic.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import iso20022_models as models  # noqa: E402
from xsdata.formats.dataclass.models.generics import AnyElement  # noqa: E402
from xsdata.formats.dataclass.serializers import XmlSerializer  # noqa: E402
from xsdata.formats.dataclass.serializers.config import SerializerConfig  # noqa: E402
from xsdata.models.datatype import XmlDate, XmlDateTime  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "data" / "iso20022"
ISM_NS = "urn:isthmus:ism:1:splmtry"

# ---------------------------------------------------------------------------------------
# Building python-iso20022 objects from nested dicts keyed by XML element names.
# ---------------------------------------------------------------------------------------


def build(cls, spec):
    """An instance of dataclass `cls` from `spec`, a dict keyed by XML names (or, for
    simple content with attributes, `value` and attribute names)."""
    hints = models.type_hints(cls)
    by_xml = {}
    for f in dataclasses.fields(cls):
        by_xml[f.metadata.get("name", f.name)] = f
    kwargs = {}
    for key, value in spec.items():
        f = by_xml.get(key)
        if f is None:
            raise KeyError(f"{cls.__name__} has no {key}")
        tp = models.inner_type(hints[f.name])
        if models.is_list(hints[f.name]):
            items = value if isinstance(value, list) else [value]
            kwargs[f.name] = [convert(tp, item) for item in items]
        else:
            kwargs[f.name] = convert(tp, value)
    return cls(**kwargs)


def convert(tp, value):
    if isinstance(value, AnyElement):
        return value
    if dataclasses.is_dataclass(tp):
        return build(tp, value)
    if models.is_enum(tp):
        return tp(value)
    if tp is Decimal:
        return Decimal(value)
    if tp is XmlDate:
        return XmlDate.from_string(value)
    if tp is XmlDateTime:
        return XmlDateTime.from_string(value)
    if tp is bool:
        return bool(value)
    return value


def document_class(message_id: str):
    """The message's root class, named `Document` as the XSD names it
    (python-iso20022 0.3.0 would otherwise write its class name as the root)."""
    base = models.root_class(message_id)
    meta = type("Meta", (), {"name": "Document", "namespace": models.namespace(message_id)})
    return dataclasses.dataclass(type("Document", (base,), {"Meta": meta, "__module__": base.__module__}))


def any_element(name, children=None, text=None, namespace=ISM_NS):
    return AnyElement(qname=f"{{{namespace}}}{name}", text=text, children=children or [])


# ---------------------------------------------------------------------------------------
# The mapping, ISM/1 -> ISO 20022 (see adapters/src/iso20022/*.rs for the table).
# ---------------------------------------------------------------------------------------

MOVEMENT = {"DELIVER": "DELI", "RECEIVE": "RECE"}
PAYMENT = {"AGAINST_PAYMENT": "APMT", "FREE_OF_PAYMENT": "FREE"}
CREDIT_DEBIT = {"DELIVER": "CRDT", "RECEIVE": "DBIT"}


def coded_date(date):
    return {"Dt": {"Dt": date}}


def units(quantity):
    return {"Qty": {"Unit": quantity}}


def party_id(party):
    if len(party) == 20:
        return {"Id": {"PrtryId": {"Id": party, "Issr": "GLEIF", "SchmeNm": "LEI"}}, "LEI": party}
    return {"Id": {"AnyBIC": party}}


def settlement_party(party):
    out = {"Id": {"AnyBIC": party["bic"]}}
    if "lei" in party:
        out["LEI"] = party["lei"]
    if "safekeeping_account" in party:
        out["SfkpgAcct"] = {"Id": party["safekeeping_account"]}
    return out


def amount(money, direction):
    return {"Amt": {"value": money["amount"], "Ccy": money["currency"]}, "CdtDbtInd": CREDIT_DEBIT[direction]}


def sese023(body):
    params = {"SctiesMvmntTp": MOVEMENT[body["direction"]], "Pmt": PAYMENT[body["payment"]]}
    if "common_reference" in body:
        params["CmonId"] = body["common_reference"]
    trade = {}
    if "place_of_trade" in body:
        trade["PlcOfTrad"] = {"MktTpAndId": {"Id": {"MktIdrCd": body["place_of_trade"]}, "Tp": {"Cd": "EXCH"}}}
    trade["TradDt"] = coded_date(body["trade_date"])
    trade["SttlmDt"] = coded_date(body["settlement_date"])
    delivering = {"Dpstry": {"Id": {"AnyBIC": body["place_of_settlement"]}}, "Pty1": settlement_party(body["delivering_agent"])}
    receiving = {"Dpstry": {"Id": {"AnyBIC": body["place_of_settlement"]}}, "Pty1": settlement_party(body["receiving_agent"])}
    if "seller" in body:
        delivering["Pty2"] = settlement_party(body["seller"])
    if "buyer" in body:
        receiving["Pty2"] = settlement_party(body["buyer"])
    block = {
        "TxId": body["instruction_id"],
        "SttlmTpAndAddtlParams": params,
        "TradDtls": trade,
        "FinInstrmId": {"ISIN": body["isin"]},
        "QtyAndAcctDtls": {
            "SttlmQty": units(body["quantity"]),
            "AcctOwnr": party_id(body["account_owner"]),
            "SfkpgAcct": {"Id": body["safekeeping_account"]},
        },
        "SttlmParams": {"SctiesTxTp": {"Cd": "TRAD"}},
        "DlvrgSttlmPties": delivering,
        "RcvgSttlmPties": receiving,
    }
    if "settlement_amount" in body:
        block["SttlmAmt"] = amount(body["settlement_amount"], body["direction"])
    return {"SctiesSttlmTxInstr": block}


STATUS_ELEMENT = {
    "ACCEPTED": ("PrcgSts", "AckdAccptd"),
    "REJECTED": ("PrcgSts", "Rjctd"),
    "CANCELLED": ("PrcgSts", "Canc"),
    "MATCHED": ("MtchgSts", "Mtchd"),
    "UNMATCHED": ("MtchgSts", "Umtchd"),
    "PENDING": ("SttlmSts", "Pdg"),
}


def narrative(reason):
    full = f"{reason['code']}: {reason['text']}"
    return full if len(full) <= 210 else full[:209] + "…"


def sese024(body):
    ids = {"AcctOwnrTxId": body["instruction_id"]}
    if "settlement_id" in body:
        ids["MktInfrstrctrTxId"] = body["settlement_id"]
    block = {"TxId": ids}
    element, alternative = STATUS_ELEMENT[body["status"]]
    reason = body.get("reason")
    if alternative == "Mtchd":
        status = {"AddtlRsnInf": narrative(reason)} if reason else {}
    elif reason:
        status = {"Rsn": [{"Cd": {"Cd": "OTHR"}, "AddtlRsnInf": narrative(reason)}]}
    else:
        status = {"NoSpcfdRsn": "NORE"}
    block[element] = {alternative: status}
    data = []
    if "related_message_id" in body:
        data.append(any_element("RltdMsgId", text=body["related_message_id"]))
    if reason:
        data.append(any_element("Rsn", [any_element("Cd", text=reason["code"]), any_element("Txt", text=reason["text"])]))
    if data:
        block["SplmtryData"] = [{"PlcAndNm": "/Document/SctiesSttlmTxStsAdvc", "Envlp": {"any_element": any_element("IsmData", data)}}]
    return {"SctiesSttlmTxStsAdvc": block}


def journal(name, ref):
    return any_element(name, [
        any_element("Mkt", text=ref["market"]),
        any_element("Seq", text=ref["sequence"]),
        any_element("NtryHash", text=ref["entry_hash"]),
    ])


def sese025(body):
    block = {
        "TxIdDtls": {
            "AcctOwnrTxId": body["instruction_id"],
            "MktInfrstrctrTxId": body["settlement_id"],
            "SctiesMvmntTp": MOVEMENT[body["direction"]],
            "Pmt": PAYMENT[body["payment"]],
        },
        "TradDtls": {
            "SttlmDt": coded_date(body["settlement_date"]),
            "FctvSttlmDt": {"Dt": {"DtTm": body["settled_at"]}},
        },
        "FinInstrmId": {"ISIN": body["isin"]},
        "QtyAndAcctDtls": {"SttldQty": units(body["quantity"])},
        "SttlmParams": {"SctiesTxTp": {"Cd": "TRAD"}},
    }
    if "settlement_amount" in body:
        block["SttldAmt"] = amount(body["settlement_amount"], body["direction"])
    journals = [journal("SctiesJrnl", body["securities_journal"])]
    if "cash_journal" in body:
        journals.append(journal("CshJrnl", body["cash_journal"]))
    block["SplmtryData"] = [{"PlcAndNm": "/Document/SctiesSttlmTxConf", "Envlp": {"any_element": any_element("IsmData", journals)}}]
    return {"SctiesSttlmTxConf": block}


def semt002(body):
    balances = []
    for balance in body["balances"]:
        entry = {
            "FinInstrmId": {"ISIN": balance["isin"]},
            "AggtBal": {"ShrtLngInd": "LONG", "Qty": {"Qty": units(balance["total"])}},
        }
        if "locked" in balance:
            entry["AddtlBalBrkdwn"] = [{
                "SubBalTp": {"Prtry": {"Id": "LOCK", "Issr": "ISTHMUS"}},
                "Qty": {"Qty": {"Qty": {"Unit": balance["locked"]}}},
            }]
        balances.append(entry)
    block = {
        "Pgntn": {"PgNb": "1", "LastPgInd": True},
        "StmtGnlDtls": {
            "StmtId": body["statement_id"],
            "StmtDtTm": {"DtTm": body["as_of"]},
            "Frqcy": {"Cd": "ADHO"},
            "UpdTp": {"Cd": "COMP"},
            "StmtBsis": {"Cd": "SETT"},
            "ActvtyInd": bool(balances),
            "SubAcctInd": False,
        },
        "AcctOwnr": party_id(body["account"]["owner"]),
        "AcctSvcr": {"Id": {"PrtryId": {"Id": body["market"], "Issr": "ISO 10383", "SchmeNm": "MIC"}}},
        "SfkpgAcct": {"Id": body["account"]["account"]},
        "BalForAcct": balances,
    }
    return {"SctiesBalCtdyRpt": block}


KINDS = {
    "SettlementInstruction": ("sese.023.001.11", sese023),
    "InstructionStatus": ("sese.024.001.12", sese024),
    "SettlementConfirmation": ("sese.025.001.11", sese025),
    "HoldingsStatement": ("semt.002.001.11", semt002),
}

# ---------------------------------------------------------------------------------------
# Serializing, and what other tools wrap around a Document.
# ---------------------------------------------------------------------------------------


def serialize(obj, style: str, namespace: str) -> str:
    if style == "python-iso20022":
        return obj.to_iso20022_xml()  # python-iso20022's own serializer: ns0 prefix
    serializer = XmlSerializer(config=SerializerConfig(pretty_print=True, xml_declaration=True))
    if style == "default":
        return serializer.render(obj, ns_map={None: namespace})
    if style.startswith("prefix:"):
        return serializer.render(obj, ns_map={style.split(":", 1)[1]: namespace})
    raise ValueError(style)


def app_header(version: str, message_id: str, reference: str, sender: str, receiver: str, created: str) -> str:
    head = models.load_head(version)
    suffix = f"Head001001{version}"
    cls = getattr(head, f"BusinessApplicationHeaderV{version}{suffix}")
    meta = type("Meta", (), {"name": "AppHdr", "namespace": f"urn:iso:std:iso:20022:tech:xsd:head.001.001.{version}"})
    root = dataclasses.dataclass(type("AppHdr", (cls,), {"Meta": meta, "__module__": cls.__module__}))
    header = build(root, {
        "Fr": {"FIId": {"FinInstnId": {"BICFI": sender}}},
        "To": {"FIId": {"FinInstnId": {"BICFI": receiver}}},
        "BizMsgIdr": reference,
        "MsgDefIdr": message_id,
        "CreDt": created,
    })
    serializer = XmlSerializer(config=SerializerConfig(pretty_print=True, xml_declaration=False))
    return serializer.render(header, ns_map={None: f"urn:iso:std:iso:20022:tech:xsd:head.001.001.{version}"})


def strip_declaration(xml: str) -> str:
    return re.sub(r"^<\?xml[^>]*\?>\s*", "", xml)


def indent(xml: str, by: str = "  ") -> str:
    return "\n".join(by + line if line else line for line in xml.strip().splitlines())


def wrap(document: str, wrapper: str, header: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<{wrapper}>\n{indent(header)}\n{indent(strip_declaration(document))}\n</{wrapper}>\n"
    )


# ---------------------------------------------------------------------------------------
# The cases.
# ---------------------------------------------------------------------------------------

HASH_A = "9f2c6a1e5b7d4c3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a"
HASH_B = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"
HASH_C = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"
HASH_D = "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"


def instruction(**fields):
    return ("SettlementInstruction", fields)


CASES = []


def case(number, name, kind_body, style="default", wrapper=None, extras=None, edit=None, expect=None, comments=False):
    """`extras`: ISO elements ISM/1 ignores, merged into the structure; `edit`: text
    edits of the serialized document (other lexical forms); `expect`: the expected
    ISM/1 body when it differs from the input body."""
    CASES.append(dict(number=number, name=name, kind=kind_body[0], body=kind_body[1], style=style,
                      wrapper=wrapper, extras=extras, edit=edit, expect=expect, comments=comments))


case(1, "sese023-us-dtc-deliver-against-payment-usd", instruction(
    instruction_id="SEME-XNYS-000001", common_reference="TRADE-2026-11-25-7781",
    direction="DELIVER", payment="AGAINST_PAYMENT", trade_date="2026-11-25", settlement_date="2026-11-27",
    isin="US0378331005", quantity="1000", settlement_amount={"amount": "231450.00", "currency": "USD"},
    account_owner="549300ISTHMUSSELL015", safekeeping_account="SAFE-SELLER-01",
    delivering_agent={"bic": "CHASUS33", "lei": "7H6GLXDRUGQFU57RNE97", "safekeeping_account": "DTC-0902"},
    receiving_agent={"bic": "DEUTDEFF", "lei": "7LTWFZYICNSX8D621K86", "safekeeping_account": "CBF-7001"},
    seller={"bic": "CHASUS33", "lei": "549300ISTHMUSSELL015"}, buyer={"bic": "DEUTDEFF", "lei": "549300ISTHMUSBUYR064"},
    place_of_settlement="DTCYUS33", place_of_trade="XNYS"))

case(2, "sese023-de-clearstream-receive-against-payment-eur-apphdr", instruction(
    instruction_id="DBFFM-RECE-2026-0042", direction="RECEIVE", payment="AGAINST_PAYMENT",
    trade_date="2026-11-24", settlement_date="2026-11-26", isin="DE0007236101", quantity="2500",
    settlement_amount={"amount": "287375.50", "currency": "EUR"},
    account_owner="DEUTDEFF", safekeeping_account="CBF-7001",
    delivering_agent={"bic": "COBADEFF"}, receiving_agent={"bic": "DEUTDEFF", "safekeeping_account": "CBF-7001"},
    place_of_settlement="DAKVDEFF", place_of_trade="XETR"),
    style="python-iso20022", wrapper=("BizMsg", "04", "DEUTDEFF", "DAKVDEFF"))

case(3, "sese023-jp-jasdec-receive-against-payment-jpy-minimal", instruction(
    instruction_id="SEME-XTKS-000042", direction="RECEIVE", payment="AGAINST_PAYMENT",
    trade_date="2026-11-25", settlement_date="2026-11-27", isin="JP3633400001", quantity="5000",
    settlement_amount={"amount": "14250000", "currency": "JPY"},
    account_owner="549300ISTHMUSBUYR064", safekeeping_account="JASDEC-3321",
    delivering_agent={"bic": "MHCBJPJT"}, receiving_agent={"bic": "BOTKJPJT"},
    place_of_settlement="JJSDJPJT"))

case(4, "sese023-bh-deliver-against-payment-bhd-comments", instruction(
    instruction_id="SEME-XBAH-000003", common_reference="XBAH-TRD-88120",
    direction="DELIVER", payment="AGAINST_PAYMENT", trade_date="2026-11-25", settlement_date="2026-11-26",
    isin="BH0006001034", quantity="20000", settlement_amount={"amount": "10250.125", "currency": "BHD"},
    account_owner="5493006W3QUS5LMH6R84", safekeeping_account="BHB-SAFE-0017",
    delivering_agent={"bic": "NBOBBHBM", "safekeeping_account": "BHB-0017"},
    receiving_agent={"bic": "CHASUS33", "safekeeping_account": "BHB-0442"},
    place_of_settlement="BHBBBHBM", place_of_trade="XBAH"),
    style="prefix:sese", comments=True)

case(5, "sese023-gb-crest-deliver-free-with-ignored-elements", instruction(
    instruction_id="CREST-DELI-FOP-77", direction="DELIVER", payment="FREE_OF_PAYMENT",
    trade_date="2026-11-23", settlement_date="2026-11-23", isin="GB0002634946", quantity="15000",
    account_owner="BARCGB22", safekeeping_account="CREST-BARC-4410",
    delivering_agent={"bic": "BARCGB22", "safekeeping_account": "CREST-BARC-4410"},
    receiving_agent={"bic": "HSBCGB2L", "safekeeping_account": "CREST-HSBC-9021"},
    place_of_settlement="CRSTGB22", place_of_trade="XLON"),
    extras={"SctiesSttlmTxInstr": {
        "NbCounts": {"TtlNb": {"CurInstrNb": "1", "TtlOfLkdInstrs": "1"}},
        "FinInstrmId": {"Desc": "BAE SYSTEMS PLC ORD 2.5P"},
        "FinInstrmAttrbts": {"DnmtnCcy": "GBP", "PlcOfListg": {"MktIdrCd": "XLON"}},
        "SttlmParams": {"PrtlSttlmInd": "NPAR"},
        "SttlmTpAndAddtlParams": {"RcncltnInd": False},
    }})

case(6, "sese023-ch-six-receive-against-payment-chf-envelope-head02", instruction(
    instruction_id="UBS-RECE-CH-99120", common_reference="SIX-T-2026-11-25-001",
    direction="RECEIVE", payment="AGAINST_PAYMENT", trade_date="2026-11-25", settlement_date="2026-11-27",
    isin="CH0038863350", quantity="1200", settlement_amount={"amount": "126360.00", "currency": "CHF"},
    account_owner="UBSWCHZH80A", safekeeping_account="SIS-UBS-7781",
    delivering_agent={"bic": "CRESCHZZ80A"}, receiving_agent={"bic": "UBSWCHZH80A", "lei": "549300ISTHMUSBUYR064"},
    buyer={"bic": "UBSWCHZH80A"}, place_of_settlement="INSECHZZ", place_of_trade="XSWX"),
    wrapper=("Envelope", "02", "UBSWCHZH80A", "INSECHZZ"))

case(7, "sese023-fr-euroclear-receive-free", instruction(
    instruction_id="BNP-RECE-FOP-20261125", direction="RECEIVE", payment="FREE_OF_PAYMENT",
    trade_date="2026-11-25", settlement_date="2026-11-25", isin="FR0000120271", quantity="800.5",
    account_owner="BNPAFRPP", safekeeping_account="EF-BNP-30001",
    delivering_agent={"bic": "SOGEFRPP", "safekeeping_account": "EF-SG-1200"},
    receiving_agent={"bic": "BNPAFRPP", "safekeeping_account": "EF-BNP-30001"},
    seller={"bic": "SOGEFRPP"}, place_of_settlement="SICVFRPP", place_of_trade="XPAR"),
    style="python-iso20022")

case(8, "sese023-kw-deliver-against-payment-kwd-lexical-variants", instruction(
    instruction_id="NBK-DELI-000871", direction="DELIVER", payment="AGAINST_PAYMENT",
    trade_date="2026-11-24", settlement_date="2026-11-26", isin="KW0EQ0100085", quantity="5000",
    settlement_amount={"amount": "1234.500", "currency": "KWD"},
    account_owner="549300ISTHMUSSELL015", safekeeping_account="KCC-NBK-0871",
    delivering_agent={"bic": "NBOKKWKW"}, receiving_agent={"bic": "CHASUS33"},
    place_of_settlement="KCCSKWKW", place_of_trade="XKUW"),
    style="prefix:s",
    # AcctOwnr with both a BIC and an LEI (ISM/1 takes the LEI); quantity and amount
    # in other xs:decimal forms; the trade date as a date-time with an offset.
    extras={"SctiesSttlmTxInstr": {"QtyAndAcctDtls": {"AcctOwnr": {"Id": {"PrtryId": None, "AnyBIC": "NBOKKWKW"}, "LEI": "549300ISTHMUSSELL015"}}}},
    edit=[(">5000<", ">+0005000<"), (">1234.500<", "> 01234.500 <"),
          ("<s:TradDt>\n        <s:Dt>\n          <s:Dt>2026-11-24</s:Dt>",
           "<s:TradDt>\n        <s:Dt>\n          <s:DtTm>2026-11-24T10:15:00+03:00</s:DtTm>")])

case(9, "sese023-us-deliver-long-chain-depository-in-own-chain", instruction(
    instruction_id="SEME-XNAS-000777", direction="DELIVER", payment="AGAINST_PAYMENT",
    trade_date="2026-11-25", settlement_date="2026-11-27", isin="US0378331005", quantity="300",
    settlement_amount={"amount": "69435", "currency": "USD"},
    account_owner="CHASUS33", safekeeping_account="DTC-0902-SUB7",
    delivering_agent={"bic": "CHASUS33", "safekeeping_account": "DTC-0902"},
    receiving_agent={"bic": "IRVTUS3N", "safekeeping_account": "DTC-0901"},
    seller={"bic": "GSCMUS33", "lei": "549300ISTHMUSSELL015"},
    place_of_settlement="DTCYUS33", place_of_trade="XNAS"),
    # SMPG chain: Pty2 the agent's client (a custodian), Pty3 the seller; the depository
    # only in the instructing party's own (delivering) chain.
    extras={"SctiesSttlmTxInstr": {"DlvrgSttlmPties": {"Pty2": {"Id": {"AnyBIC": "BOFAUS3N"}},
                                                       "Pty3": {"Id": {"AnyBIC": "GSCMUS33"}, "LEI": "549300ISTHMUSSELL015"}},
                                   "RcvgSttlmPties": {"Dpstry": None}}})

case(10, "sese023-de-receive-cross-border-from-euroclear-bank", instruction(
    instruction_id="DBFFM-XBORDER-0009", direction="RECEIVE", payment="AGAINST_PAYMENT",
    trade_date="2026-11-25", settlement_date="2026-11-27", isin="DE0007236101", quantity="100",
    settlement_amount={"amount": "11495.00", "currency": "EUR"},
    account_owner="DEUTDEFF", safekeeping_account="CBF-7001",
    delivering_agent={"bic": "BNPAFRPP"}, receiving_agent={"bic": "DEUTDEFF"},
    place_of_settlement="MGTCBEBE"),
    style="python-iso20022",
    # The counterparty (delivering) chain settles at Euroclear Bank; Isthmus takes that
    # depository, not the instructing party's own (Clearstream).
    extras={"SctiesSttlmTxInstr": {"RcvgSttlmPties": {"Dpstry": {"Id": {"AnyBIC": "DAKVDEFF"}}}}})


def status(**fields):
    return ("InstructionStatus", fields)


case(11, "sese024-accepted-minimal", status(instruction_id="SEME-XNYS-000001", status="ACCEPTED"))

case(12, "sese024-unmatched-with-reason-and-related-message", status(
    instruction_id="SEME-XTKS-000042", related_message_id="01a211ee-ee68-7101-8101-010101010102",
    status="UNMATCHED",
    reason={"code": "UNMATCHED_QUANTITY", "text": "The counterparty instructs 4 900 units, this instruction 5 000 — quantities must agree."}),
    comments=True)

case(13, "sese024-rejected-by-csd-iso-reason-bizmsg-head02", status(instruction_id="CREST-DELI-FOP-77", status="REJECTED"),
     style="python-iso20022", wrapper=("BizMsg", "02", "CRSTGB22", "BARCGB22"),
     extras={"SctiesSttlmTxStsAdvc": {"PrcgSts": {"Rjctd": {"NoSpcfdRsn": None, "Rsn": [
         {"Cd": {"Cd": "DSEC"}, "AddtlRsnInf": "Financial instrument GB0002634946 is not eligible at CREST for this account"},
         {"Cd": {"Cd": "SAFE"}}]}}}},
     expect={"instruction_id": "CREST-DELI-FOP-77", "status": "REJECTED",
             "reason": {"code": "ISO_DSEC", "text": "Financial instrument GB0002634946 is not eligible at CREST for this account"}})

case(14, "sese024-pending-with-acceptance-and-match-envelope-head04", status(
    instruction_id="DBFFM-RECE-2026-0042", settlement_id="STL-2026-11-25-000314", status="PENDING"),
    wrapper=("Envelope", "04", "DAKVDEFF", "DEUTDEFF"),
    extras={"SctiesSttlmTxStsAdvc": {
        "PrcgSts": {"AckdAccptd": {"NoSpcfdRsn": "NORE"}},
        "MtchgSts": {"Mtchd": {}},
        "SttlmSts": {"Pdg": {"NoSpcfdRsn": None, "Rsn": [{"Cd": {"Cd": "LACK"}}]}},
    }},
    expect={"instruction_id": "DBFFM-RECE-2026-0042", "settlement_id": "STL-2026-11-25-000314", "status": "PENDING",
            "reason": {"code": "ISO_LACK", "text": "Reason code LACK, given without narrative."}})

case(15, "sese024-matched-with-settlement-id", status(
    instruction_id="UBS-RECE-CH-99120", related_message_id="019a7c3e-5f00-7abc-9def-0123456789ab",
    status="MATCHED", settlement_id="STL-2026-11-25-000315"),
    style="python-iso20022")

case(16, "sese024-cancelled-with-reason", status(
    instruction_id="NBK-DELI-000871", status="CANCELLED",
    reason={"code": "CANCELLED_BY_PARTICIPANT", "text": "Cancelled at the instructing party's request before matching."}),
    style="prefix:ism")

case(17, "sese024-failing-is-pending", status(instruction_id="SEME-XNAS-000777", settlement_id="STL-2026-11-27-000009", status="PENDING"),
     extras={"SctiesSttlmTxStsAdvc": {"SttlmSts": {"Pdg": None, "Flng": {"NoSpcfdRsn": "NORE"}}}})


def confirmation(**fields):
    return ("SettlementConfirmation", fields)


case(18, "sese025-us-deliver-against-payment-usd", confirmation(
    instruction_id="SEME-XNYS-000001", settlement_id="STL-2026-11-25-000301", direction="DELIVER",
    payment="AGAINST_PAYMENT", isin="US0378331005", quantity="1000",
    settlement_amount={"amount": "231450.00", "currency": "USD"}, settlement_date="2026-11-27",
    settled_at="2026-11-27T14:03:07.125Z",
    securities_journal={"market": "XNYS", "sequence": "1042", "entry_hash": HASH_A},
    cash_journal={"market": "XETR", "sequence": "88", "entry_hash": HASH_B}))

case(19, "sese025-jp-receive-free", confirmation(
    instruction_id="SEME-XTKS-000043", settlement_id="STL-2026-11-27-000017", direction="RECEIVE",
    payment="FREE_OF_PAYMENT", isin="JP3633400001", quantity="700", settlement_date="2026-11-27",
    settled_at="2026-11-27T01:30:00Z",
    securities_journal={"market": "XTKS", "sequence": "0", "entry_hash": HASH_C}),
    style="python-iso20022")

case(20, "sese025-de-receive-against-payment-eur-offset-time-apphdr", confirmation(
    instruction_id="DBFFM-RECE-2026-0042", settlement_id="STL-2026-11-25-000314", direction="RECEIVE",
    payment="AGAINST_PAYMENT", isin="DE0007236101", quantity="2500",
    settlement_amount={"amount": "287375.50", "currency": "EUR"}, settlement_date="2026-11-26",
    settled_at="2026-11-26T09:15:30.500Z",
    securities_journal={"market": "XETR", "sequence": "90211", "entry_hash": HASH_D},
    cash_journal={"market": "XNYS", "sequence": "1043", "entry_hash": HASH_A}),
    wrapper=("RequestPayload", "04", "DAKVDEFF", "DEUTDEFF"),
    # The settlement instant written with a +01:00 offset (Frankfurt time).
    edit=[("2026-11-26T09:15:30.500Z", "2026-11-26T10:15:30.500+01:00")])

case(21, "sese025-bh-deliver-against-payment-bhd-comments", confirmation(
    instruction_id="SEME-XBAH-000003", settlement_id="STL-2026-11-26-000002", direction="DELIVER",
    payment="AGAINST_PAYMENT", isin="BH0006001034", quantity="20000",
    settlement_amount={"amount": "10250.125", "currency": "BHD"}, settlement_date="2026-11-26",
    settled_at="2026-11-26T11:00:00Z",
    securities_journal={"market": "XBAH", "sequence": "17", "entry_hash": HASH_B},
    cash_journal={"market": "XNYS", "sequence": "1050", "entry_hash": HASH_C}),
    style="prefix:conf", comments=True)


def holdings(**fields):
    return ("HoldingsStatement", fields)


case(22, "semt002-us-holdings-with-locked-balances", holdings(
    statement_id="STMT-XNYS-2026-11-25-01", market="XNYS",
    account={"owner": "549300ISTHMUSSELL015", "account": "SAFE-SELLER-01"}, as_of="2026-11-25T21:00:00Z",
    balances=[{"isin": "DE0007236101", "total": "150"},
              {"isin": "US0378331005", "total": "12000", "locked": "1000"}]))

case(23, "semt002-jp-empty-statement", holdings(
    statement_id="STMT-XTKS-2026-11-25-07", market="XTKS",
    account={"owner": "BOTKJPJT", "account": "JASDEC-3321"}, as_of="2026-11-25T06:00:00Z", balances=[]),
    style="python-iso20022")

case(24, "semt002-ch-holdings-unsorted-with-ignored-balances-head02", holdings(
    statement_id="SIS-UBS-7781-20261125", market="XSWX",
    account={"owner": "UBSWCHZH80A", "account": "SIS-UBS-7781"}, as_of="2026-11-25T17:30:00Z",
    balances=[{"isin": "CH0038863350", "total": "1200", "locked": "1200"},
              {"isin": "FR0000120271", "total": "40.25"},
              {"isin": "US0378331005", "total": "75"}]),
    style="python-iso20022", wrapper=("BizMsg", "02", "INSECHZZ", "UBSWCHZH80A"),
    # Balances in another order than ISM/1's (by ISIN); on the first, elements ISM/1
    # has no member for: the available balance, a blocked sub-balance, and an
    # additional breakdown that is not Isthmus's LOCK.
    extras=lambda structure: (
        structure["SctiesBalCtdyRpt"]["BalForAcct"].reverse(),
        merge(structure["SctiesBalCtdyRpt"]["BalForAcct"][-1], {
            "AvlblBal": {"Qty": {"Qty": {"Unit": "0"}}},
            "BalBrkdwn": [{"SubBalTp": {"Cd": "BLOK"}, "Qty": {"Qty": {"Qty": {"Unit": "1200"}}}}],
            "AddtlBalBrkdwn": [
                {"SubBalTp": {"Cd": "COLA"}, "Qty": {"Qty": {"Qty": {"Unit": "5"}}}},
                {"SubBalTp": {"Prtry": {"Id": "LOCK", "Issr": "ISTHMUS"}}, "Qty": {"Qty": {"Qty": {"Unit": "1200"}}}},
            ],
        }),
    ))

case(25, "semt002-gb-holdings-other-boolean-and-page-forms", holdings(
    statement_id="CREST-BARC-4410-EOD", market="XLON",
    account={"owner": "BARCGB22", "account": "CREST-BARC-4410"}, as_of="2026-11-25T18:00:00Z",
    balances=[{"isin": "GB0002634946", "total": "985000", "locked": "15000"}]),
    style="prefix:h",
    edit=[("<h:PgNb>1</h:PgNb>", "<h:PgNb>00001</h:PgNb>"), ("<h:LastPgInd>true</h:LastPgInd>", "<h:LastPgInd>1</h:LastPgInd>")])


case(26, "sese023-gb-crest-receive-against-payment-gbp-requestpayload", instruction(
    instruction_id="HSBC-RECE-GB-31337", common_reference="XLON-20261125-0042",
    direction="RECEIVE", payment="AGAINST_PAYMENT", trade_date="2026-11-25", settlement_date="2026-11-27",
    isin="GB0002634946", quantity="15000", settlement_amount={"amount": "196875.45", "currency": "GBP"},
    account_owner="5493006W3QUS5LMH6R84", safekeeping_account="CREST-HSBC-9021",
    delivering_agent={"bic": "BARCGB22", "safekeeping_account": "CREST-BARC-4410"},
    receiving_agent={"bic": "HSBCGB2L", "lei": "5493006W3QUS5LMH6R84", "safekeeping_account": "CREST-HSBC-9021"},
    seller={"bic": "BARCGB22"}, buyer={"bic": "HSBCGB2L", "lei": "5493006W3QUS5LMH6R84"},
    place_of_settlement="CRSTGB22", place_of_trade="XLON"),
    style="prefix:doc", wrapper=("RequestPayload", "04", "HSBCGB2L", "CRSTGB22"))


def merge(base, extra):
    """Merges `extra` into `base` (a `None` value removes the key)."""
    for key, value in extra.items():
        if value is None:
            base.pop(key, None)
        elif isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value
    return base


def add_comments(xml: str) -> str:
    """What hand-edited and pipeline-processed files carry: comments, processing
    instructions, blank lines."""
    lines = xml.splitlines()
    out = [lines[0], "<!-- exported by the back office at 2026-11-25T09:00:00Z -->", '<?routing queue="sese-out"?>']
    for line in lines[1:]:
        out.append(line)
        stripped = line.strip()
        if stripped.endswith("TradDtls>") and not stripped.startswith("</"):
            out.append(line[: len(line) - len(line.lstrip())] + "  <!-- dates are local to the CSD -->")
        if re.match(r"<(\w+:)?FinInstrmId>", stripped):
            out.append("")
    out.append("<!-- end of message -->")
    return "\n".join(out) + "\n"


def generate():
    OUT.mkdir(parents=True, exist_ok=True)
    for c in CASES:
        message_id, mapping = KINDS[c["kind"]]
        structure = mapping(c["body"])
        if callable(c["extras"]):
            c["extras"](structure)
        elif c["extras"]:
            merge(structure, copy.deepcopy(c["extras"]))
        obj = build(document_class(message_id), structure)
        xml = serialize(obj, c["style"], models.namespace(message_id))
        if isinstance(c["edit"], list):
            for old, new in c["edit"]:
                if old not in xml:
                    raise SystemExit(f"case {c['number']}: edit target {old!r} not found")
                xml = xml.replace(old, new)
        if c["comments"]:
            xml = add_comments(xml)
        if c["wrapper"]:
            wrapper, version, sender, receiver = c["wrapper"]
            header = app_header(version, message_id, f"BIZ-{c['number']:02d}-20261125", sender, receiver, "2026-11-25T09:00:00Z")
            xml = wrap(xml, wrapper, header)
        if not xml.endswith("\n"):
            xml += "\n"
        stem = f"{c['number']:02d}-{c['name']}"
        (OUT / f"{stem}.xml").write_text(xml, encoding="utf-8")
        body = c["expect"] if c["expect"] is not None else c["body"]
        if c["kind"] == "HoldingsStatement":
            body = dict(body, balances=sorted(body["balances"], key=lambda b: b["isin"]))
        expected = {"kind": c["kind"], "body": body}
        (OUT / f"{stem}.ism.json").write_text(json.dumps(expected, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {stem}")


# ---------------------------------------------------------------------------------------
# Invalid documents: a valid corpus document with one defect each, and the reason
# code (and field) the adapter must give.
# ---------------------------------------------------------------------------------------

I023 = "/Document/SctiesSttlmTxInstr"
I024 = "/Document/SctiesSttlmTxStsAdvc"
I025 = "/Document/SctiesSttlmTxConf"
I002 = "/Document/SctiesBalCtdyRpt"

_PENDING_TAIL = "    <SttlmAmt>\n      <Amt Ccy=\"JPY\">14250000</Amt>\n      <CdtDbtInd>DBIT</CdtDbtInd>\n    </SttlmAmt>\n"


def _head(message_id):
    return app_header("04", message_id, "BIZ-INVALID-1", "DEUTDEFF", "DAKVDEFF", "2026-11-25T09:00:00Z")


INVALID = [
    (1, "isin-check-digit", 3, [(">JP3633400001<", ">JP3633400002<")], "ISIN_CHECK_DIGIT", f"{I023}/FinInstrmId/ISIN"),
    (2, "currency-unknown", 3, [('Ccy="JPY"', 'Ccy="XYZ"')], "CURRENCY_UNKNOWN", f"{I023}/SttlmAmt/Amt/@Ccy"),
    (3, "date-not-a-calendar-date", 3, [(">2026-11-27<", ">2026-02-30<")], "DATE_INVALID", f"{I023}/TradDtls/SttlmDt/Dt/Dt"),
    (4, "missing-txid", 3, [("    <TxId>SEME-XTKS-000042</TxId>\n", "")], "XML_ELEMENT_MISSING", f"{I023}/TxId"),
    (5, "unknown-namespace-version", 3, [("sese.023.001.11", "sese.023.001.09")], "XML_MESSAGE_UNSUPPORTED", None),
    (6, "malformed-mismatched-tag", 3, [("</FinInstrmId>", "</FinInstrmID>")], "XML_MALFORMED", None),
    (7, "too-many-decimals-for-jpy", 3, [(">14250000<", ">14250000.5<")], "DECIMAL_TOO_MANY_DECIMALS", f"{I023}/SttlmAmt/Amt"),
    (8, "settlement-before-trade", 3, [(">2026-11-27<", ">2026-11-24<")], "SETTLEMENT_BEFORE_TRADE", f"{I023}/TradDtls/SttlmDt"),
    (9, "movement-code-xxxx", 3, [(">RECE<", ">XXXX<")], "XML_VALUE_INVALID", f"{I023}/SttlmTpAndAddtlParams/SctiesMvmntTp"),
    (10, "unknown-element", 3, [("    <FinInstrmId>", "    <Rmks>urgent</Rmks>\n    <FinInstrmId>")], "XML_ELEMENT_UNEXPECTED", f"{I023}/Rmks"),
    (11, "elements-out-of-order", 3, [("    <FinInstrmId>\n      <ISIN>JP3633400001</ISIN>\n    </FinInstrmId>\n", ""),
                                       ("    <TradDtls>", "    <FinInstrmId>\n      <ISIN>JP3633400001</ISIN>\n    </FinInstrmId>\n    <TradDtls>")],
     "XML_ELEMENT_UNEXPECTED", f"{I023}/TradDtls"),
    (12, "free-of-payment-with-amount", 3, [(">APMT<", ">FREE<")], "AMOUNT_NOT_ALLOWED", f"{I023}/SttlmAmt"),
    (13, "against-payment-without-amount", 3, [(_PENDING_TAIL, "")], "AMOUNT_REQUIRED", f"{I023}/SttlmAmt"),
    (14, "lei-check-digits", 1, [(">7LTWFZYICNSX8D621K86<", ">7LTWFZYICNSX8D621K87<")], "LEI_CHECK_DIGITS", f"{I023}/RcvgSttlmPties/Pty1/LEI"),
    (15, "bic-country", 3, [(">MHCBJPJT<", ">MHCBZZJT<")], "BIC_COUNTRY", f"{I023}/DlvrgSttlmPties/Pty1/Id/AnyBIC"),
    (16, "apphdr-announces-another-message", 3,
     lambda xml: wrap(xml, "BizMsg", _head("sese.024.001.12")), "XML_VALUE_INVALID", "/AppHdr/MsgDefIdr"),
    (17, "unmatched-without-reason", 11, [("<PrcgSts>", "<MtchgSts>"), ("</PrcgSts>", "</MtchgSts>"), ("AckdAccptd", "Umtchd")],
     "REASON_REQUIRED", f"{I024}/MtchgSts/Umtchd"),
    (18, "locked-exceeds-total", 22, [("<Unit>1000</Unit>", "<Unit>13000</Unit>")], "BALANCE_INCONSISTENT", f"{I002}/BalForAcct[2]/AddtlBalBrkdwn"),
    (19, "timestamp-without-zone", 18, [(">2026-11-27T14:03:07.125Z<", ">2026-11-27T14:03:07.125<")], "TIMESTAMP_INVALID", f"{I025}/TradDtls/FctvSttlmDt/Dt/DtTm"),
    (20, "confirmation-without-journals", 18, lambda xml: re.sub(r"    <SplmtryData>.*</SplmtryData>\n", "", xml, flags=re.S),
     "XML_ELEMENT_MISSING", f"{I025}/SplmtryData"),
    (21, "party-known-only-by-name", 3, [("<AnyBIC>MHCBJPJT</AnyBIC>", "<NmAndAdr><Nm>Mizuho Bank</Nm></NmAndAdr>")], "NOT_REPRESENTABLE", f"{I023}/DlvrgSttlmPties/Pty1/Id/NmAndAdr"),
    (22, "document-type-declaration", 3, [('<?xml version="1.0" encoding="UTF-8"?>\n', '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE Document [<!ENTITY x "xx">]>\n')], "XML_MALFORMED", None),
    (23, "negative-quantity", 3, [(">5000<", ">-5000<")], "DECIMAL_NOT_POSITIVE", f"{I023}/QtyAndAcctDtls/SttlmQty/Qty/Unit"),
    (24, "two-alternatives-of-a-choice", 3, [("<AnyBIC>MHCBJPJT</AnyBIC>", "<AnyBIC>MHCBJPJT</AnyBIC><PrtryId><Id>M1</Id><Issr>JASDEC</Issr></PrtryId>")], "XML_ELEMENT_UNEXPECTED", f"{I023}/DlvrgSttlmPties/Pty1/Id"),
    (25, "short-position", 22, [(">LONG<", ">SHOR<")], "NOT_REPRESENTABLE", f"{I002}/BalForAcct[1]/AggtBal/ShrtLngInd"),
    (26, "another-iso20022-message", 3, [("sese.023.001.11", "pacs.008.001.08")], "XML_MESSAGE_UNSUPPORTED", None),
    (27, "undeclared-prefix", 3, [("<TxId>SEME-XTKS-000042</TxId>", "<x:TxId>SEME-XTKS-000042</x:TxId>")], "XML_MALFORMED", None),
    (28, "second-page-of-a-statement", 22, [("<PgNb>1</PgNb>", "<PgNb>2</PgNb>")], "NOT_REPRESENTABLE", f"{I002}/Pgntn"),
    (29, "same-isin-twice", 22, [(">DE0007236101<", ">US0378331005<")], "BALANCE_INCONSISTENT", None),
    (30, "duplicate-single-element", 3, [("<TxId>SEME-XTKS-000042</TxId>", "<TxId>SEME-XTKS-000042</TxId>\n    <TxId>SEME-XTKS-000043</TxId>")], "XML_ELEMENT_UNEXPECTED", f"{I023}/TxId"),
    (31, "reference-outside-swift-character-set", 3, [(">SEME-XTKS-000042<", ">SEME_XTKS_000042<")], "TEXT_INVALID", f"{I023}/TxId"),
    (32, "boolean-not-a-boolean", 22, [("<SubAcctInd>false</SubAcctInd>", "<SubAcctInd>no</SubAcctInd>")], "XML_VALUE_INVALID", f"{I002}/StmtGnlDtls/SubAcctInd"),
    (33, "text-in-element-only-content", 3, [("    <TradDtls>\n", "    <TradDtls>see below\n")], "XML_VALUE_INVALID", f"{I023}/TradDtls"),
    (35, "account-owner-id-with-two-alternatives", 3,
     [("            <SchmeNm>LEI</SchmeNm>\n          </PrtryId>\n", "            <SchmeNm>LEI</SchmeNm>\n          </PrtryId>\n          <AnyBIC>BOTKJPJT</AnyBIC>\n")],
     "XML_ELEMENT_UNEXPECTED", f"{I023}/QtyAndAcctDtls/AcctOwnr/Id"),
    (34, "not-utf8", 3, lambda xml: xml.replace("SEME-XTKS-000042", "SEME-XTKS-\udcff") , "XML_MALFORMED", None),
]


def generate_invalid():
    target = OUT / "invalid"
    target.mkdir(parents=True, exist_ok=True)
    sources = {c["number"]: OUT / f"{c['number']:02d}-{c['name']}.xml" for c in CASES}
    for number, name, source, edits, code, field in INVALID:
        xml = sources[source].read_text(encoding="utf-8")
        if callable(edits):
            xml = edits(xml)
        else:
            for old, new in edits:
                if old not in xml:
                    raise SystemExit(f"invalid {number}: edit target {old!r} not found")
                xml = xml.replace(old, new)
        stem = f"{number:02d}-{name}"
        (target / f"{stem}.xml").write_bytes(xml.encode("utf-8", "surrogateescape"))
        (target / f"{stem}.expect").write_text(code + ("\n" + field if field else "") + "\n", encoding="utf-8")
        print(f"wrote invalid/{stem}")


if __name__ == "__main__":
    generate()
    generate_invalid()
