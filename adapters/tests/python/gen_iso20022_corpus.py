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


def routing_party(party):
    """A header `Fr`/`To`: a BIC string is a financial institution's BICFI; a
    dict is written as given (e.g. {"OrgId": {"Id": {"OrgId": {"LEI": ...}}}})."""
    return party if isinstance(party, dict) else {"FIId": {"FinInstnId": {"BICFI": party}}}


def app_header(version: str, message_id: str, reference: str, sender, receiver, created: str) -> str:
    head = models.load_head(version)
    suffix = f"Head001001{version}"
    cls = getattr(head, f"BusinessApplicationHeaderV{version}{suffix}")
    meta = type("Meta", (), {"name": "AppHdr", "namespace": f"urn:iso:std:iso:20022:tech:xsd:head.001.001.{version}"})
    root = dataclasses.dataclass(type("AppHdr", (cls,), {"Meta": meta, "__module__": cls.__module__}))
    header = build(root, {
        "Fr": routing_party(sender),
        "To": routing_party(receiver),
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


def case(number, name, kind_body, style="default", wrapper=None, extras=None, edit=None, expect=None, comments=False,
         unrepresented=(), derived=()):
    """`extras`: ISO elements ISM/1 ignores, merged into the structure; `edit`: text
    edits of the serialized document (other lexical forms); `expect`: the expected
    ISM/1 body when it differs from the input body; `unrepresented`: the XML paths the
    reader must report as left out; `derived`: the (member, source) pairs it must
    report as derived."""
    CASES.append(dict(number=number, name=name, kind=kind_body[0], body=kind_body[1], style=style,
                      wrapper=wrapper, extras=extras, edit=edit, expect=expect, comments=comments,
                      unrepresented=list(unrepresented), derived=list(derived)))


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
    # The BIC beside the LEI is not carried, and is reported; so is the time of the
    # trade date (ISM/1 keeps the date as written).
    unrepresented=["/Document/SctiesSttlmTxInstr/QtyAndAcctDtls/AcctOwnr/Id/AnyBIC",
                   "/Document/SctiesSttlmTxInstr/TradDtls/TradDt/Dt/DtTm"],
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
    # only in the instructing party's own (delivering) chain. The intermediary Pty2 has
    # no ISM/1 member: reported.
    extras={"SctiesSttlmTxInstr": {"DlvrgSttlmPties": {"Pty2": {"Id": {"AnyBIC": "BOFAUS3N"}},
                                                       "Pty3": {"Id": {"AnyBIC": "GSCMUS33"}, "LEI": "549300ISTHMUSSELL015"}},
                                   "RcvgSttlmPties": {"Dpstry": None}}},
    unrepresented=["/Document/SctiesSttlmTxInstr/DlvrgSttlmPties/Pty2"])

case(10, "sese023-de-receive-cross-border-from-euroclear-bank", instruction(
    instruction_id="DBFFM-XBORDER-0009", direction="RECEIVE", payment="AGAINST_PAYMENT",
    trade_date="2026-11-25", settlement_date="2026-11-27", isin="DE0007236101", quantity="100",
    settlement_amount={"amount": "11495.00", "currency": "EUR"},
    account_owner="DEUTDEFF", safekeeping_account="CBF-7001",
    delivering_agent={"bic": "BNPAFRPP"}, receiving_agent={"bic": "DEUTDEFF"},
    place_of_settlement="MGTCBEBE"),
    style="python-iso20022",
    # Both chains settle at Euroclear Bank, the instructing party's own chain naming it
    # by its SMPG place-of-settlement BIC MGTCBEBEECL: the same depository written
    # otherwise, whose spelling is reported. (Two different depositories — a cross-CSD
    # settlement — are refused: invalid/54.)
    extras={"SctiesSttlmTxInstr": {"RcvgSttlmPties": {"Dpstry": {"Id": {"AnyBIC": "MGTCBEBEECL"}}}}},
    unrepresented=["/Document/SctiesSttlmTxInstr/RcvgSttlmPties/Dpstry/Id/AnyBIC"])


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
             "reason": {"code": "ISO_DSEC", "text": "Financial instrument GB0002634946 is not eligible at CREST for this account"}},
     # ISM-1 §6.2 duty 1: the second reason is read and left out.
     unrepresented=["/Document/SctiesSttlmTxStsAdvc/PrcgSts/Rjctd/Rsn[2]"])

case(14, "sese024-pending-with-acceptance-and-match-envelope-head04", status(
    instruction_id="DBFFM-RECE-2026-0042", settlement_id="STL-2026-11-25-000314", status="PENDING"),
    wrapper=("Envelope", "04", "DAKVDEFF", "DEUTDEFF"),
    extras={"SctiesSttlmTxStsAdvc": {
        "PrcgSts": {"AckdAccptd": {"NoSpcfdRsn": "NORE"}},
        "MtchgSts": {"Mtchd": {}},
        "SttlmSts": {"Pdg": {"NoSpcfdRsn": None, "Rsn": [{"Cd": {"Cd": "LACK"}}]}},
    }},
    expect={"instruction_id": "DBFFM-RECE-2026-0042", "settlement_id": "STL-2026-11-25-000314", "status": "PENDING",
            "reason": {"code": "ISO_LACK", "text": "Reason code LACK, given without narrative."}},
    # The statuses other than the one ISM/1 keeps are read and left out.
    unrepresented=["/Document/SctiesSttlmTxStsAdvc/PrcgSts/AckdAccptd", "/Document/SctiesSttlmTxStsAdvc/MtchgSts/Mtchd"])

case(15, "sese024-matched-with-settlement-id", status(
    instruction_id="UBS-RECE-CH-99120", related_message_id="019a7c3e-5f00-7abc-9def-0123456789ab",
    status="MATCHED", settlement_id="STL-2026-11-25-000315"),
    style="python-iso20022")

case(16, "sese024-cancelled-with-reason", status(
    instruction_id="NBK-DELI-000871", status="CANCELLED",
    reason={"code": "CANCELLED_BY_PARTICIPANT", "text": "Cancelled at the instructing party's request before matching."}),
    style="prefix:ism")

case(17, "sese024-failing-is-pending", status(instruction_id="SEME-XNAS-000777", settlement_id="STL-2026-11-27-000009", status="PENDING"),
     extras={"SctiesSttlmTxStsAdvc": {"SttlmSts": {"Pdg": None, "Flng": {"NoSpcfdRsn": "NORE"}}}},
     # Failing reads as pending; the failing status itself is listed.
     unrepresented=["/Document/SctiesSttlmTxStsAdvc/SttlmSts/Flng"])


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


# Date-times without a time zone, as some back offices write them: read as UTC and
# reported as derived (ISO 20022 ISODateTime without Z or offset is a local time).
case(44, "sese025-us-deliver-against-payment-local-time", confirmation(
    instruction_id="SEME-XNYS-000044", settlement_id="STL-2026-11-27-000044", direction="DELIVER",
    payment="AGAINST_PAYMENT", isin="US0378331005", quantity="1000",
    settlement_amount={"amount": "231450.00", "currency": "USD"}, settlement_date="2026-11-27",
    settled_at="2026-11-27T14:03:07.125Z",
    securities_journal={"market": "XNYS", "sequence": "1044", "entry_hash": HASH_A},
    cash_journal={"market": "XASX", "sequence": "91", "entry_hash": HASH_B}),
    edit=[("2026-11-27T14:03:07.125Z", "2026-11-27T14:03:07.125")],
    derived=[("body.settled_at", "/Document/SctiesSttlmTxConf/TradDtls/FctvSttlmDt/Dt/DtTm")])

case(45, "semt002-sg-holdings-local-statement-time", holdings(
    statement_id="CDP-DBS-2026-11-25", market="XSES",
    account={"owner": "DBSSSGSG", "account": "CDP-DBS-00311"}, as_of="2026-11-25T17:00:00Z",
    balances=[{"isin": "SG1L01001701", "total": "12000", "locked": "12000"}]),
    style="prefix:s",
    edit=[("2026-11-25T17:00:00Z", "2026-11-25T17:00:00")],
    derived=[("body.as_of", "/Document/SctiesBalCtdyRpt/StmtGnlDtls/StmtDtTm/DtTm")])


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
        write_list(OUT / f"{stem}.unrepresented", sorted(c["unrepresented"]))
        write_list(OUT / f"{stem}.derived", sorted(f"{field}\t{source}" for field, source in c["derived"]))
        print(f"wrote {stem}")


# ---------------------------------------------------------------------------------------
# Instructions as participants write them (corpus 30+). Each document is written here
# as its ISO 20022 structure — the elements a participant sends, following the account
# servicers' and market practice's sese.023 specifications named in the corpus README —
# not mapped from an ISM/1 body. Its expected ISM/1 result, derived members and
# left-out elements are computed by `expect_sese023` below: a second, independent
# reading of the mapping documented in adapters/src/iso20022/{sese023,cash,implied}.rs.
# ---------------------------------------------------------------------------------------

P023 = "/Document/SctiesSttlmTxInstr"


def bic8(bic):
    """A header BIC11 with branch XXX names the primary office: its BIC8."""
    return bic[:8] if len(bic) == 11 and bic.endswith("XXX") else bic


def header_address(party, path):
    """(bic, bic path, lei, lei path) of a header Fr/To."""
    if "FIId" in party:
        holder, path = party["FIId"]["FinInstnId"], f"{path}/FIId/FinInstnId"
        bic_name = "BICFI"
    else:
        holder, path = party.get("OrgId", {}).get("Id", {}).get("OrgId", {}), f"{path}/OrgId/Id/OrgId"
        bic_name = "AnyBIC"
    bic = holder.get(bic_name)
    lei = holder.get("LEI")
    return (bic8(bic) if bic else None, f"{path}/{bic_name}", lei, f"{path}/LEI")


def read_prtry(prtry):
    out = {"id": prtry["Id"], "issuer": prtry["Issr"]}
    if "SchmeNm" in prtry:
        out["scheme"] = prtry["SchmeNm"]
    return out


SETTLEMENT_PARTY_UNCARRIED = ("AltrnId", "BlckChainAdrOrWllt", "PrcgDt", "PrcgId", "AddtlInf")
DEPOSITORY_UNCARRIED = ("LEI", "AltrnId", "PrcgDt", "PrcgId", "AddtlInf")


def read_settlement_party(party, path, left_out):
    """An ISM/1 Party of a PartyIdentificationAndAccount196, or None when it is given
    by name and address; what ISM/1 does not carry is appended to `left_out`."""
    ident = party["Id"]
    if "AnyBIC" in ident:
        out = {"bic": ident["AnyBIC"]}
    elif "PrtryId" in ident:
        out = {"proprietary_id": read_prtry(ident["PrtryId"])}
    else:
        # Left out with everything it carries.
        left_out.append(f"{path}/Id/NmAndAdr")
        left_out += [f"{path}/{n}" for n in ("LEI", "SfkpgAcct") + SETTLEMENT_PARTY_UNCARRIED if n in party]
        return None
    if "LEI" in party:
        out["lei"] = party["LEI"]
    if "SfkpgAcct" in party:
        out["safekeeping_account"] = party["SfkpgAcct"]["Id"]
    left_out += [f"{path}/{n}" for n in SETTLEMENT_PARTY_UNCARRIED if n in party]
    return out


def same_office(a, b):
    """ISM-1 §6.1 duty 6: the same institution, and the same branch when both name one
    (XXX is the primary office, no branch)."""
    branch = lambda bic: bic[8:] if len(bic) == 11 and bic[8:] != "XXX" else None
    return a[:8] == b[:8] and (branch(a) is None or branch(b) is None or branch(a) == branch(b))


def cash_account(choice):
    return choice.get("IBAN", choice.get("Prtry"))


def read_date(choice, path, left_out):
    """The calendar date as written; the time of a DtTm is left out (never derived)."""
    inner = choice["Dt"]
    if "Dt" in inner:
        return inner["Dt"]
    left_out.append(f"{path}/Dt/DtTm")
    return inner["DtTm"][:10]


def expect_sese023(block, header):
    """(body, derived [(field, source)], unrepresented [path]) of a participant's sese.023."""
    derived, left_out = [], []
    params = block["SttlmTpAndAddtlParams"]
    direction = {"DELI": "DELIVER", "RECE": "RECEIVE"}[params["SctiesMvmntTp"]]
    payment = {"APMT": "AGAINST_PAYMENT", "FREE": "FREE_OF_PAYMENT"}[params["Pmt"]]
    body = {"instruction_id": block["TxId"]}
    if "CmonId" in params:
        body["common_reference"] = params["CmonId"]
    body["direction"], body["payment"] = direction, payment
    trade = block["TradDtls"]
    body["trade_date"] = read_date(trade["TradDt"], f"{P023}/TradDtls/TradDt", left_out)
    body["settlement_date"] = read_date(trade["SttlmDt"], f"{P023}/TradDtls/SttlmDt", left_out)
    body["isin"] = block["FinInstrmId"]["ISIN"]
    holding = block["QtyAndAcctDtls"]
    body["quantity"] = holding["SttlmQty"]["Qty"]["Unit"]
    if "SttlmAmt" in block:
        body["settlement_amount"] = {"amount": block["SttlmAmt"]["Amt"]["value"], "currency": block["SttlmAmt"]["Amt"]["Ccy"]}
    owner = holding.get("AcctOwnr")
    if owner:
        if "LEI" in owner:
            body["account_owner"] = owner["LEI"]
            if "AnyBIC" in owner["Id"]:
                left_out.append(f"{P023}/QtyAndAcctDtls/AcctOwnr/Id/AnyBIC")
        elif "PrtryId" in owner["Id"]:
            left_out.append(f"{P023}/QtyAndAcctDtls/AcctOwnr/Id/PrtryId")  # stated, so not derived either
        else:
            body["account_owner"] = owner["Id"]["AnyBIC"]
    body["safekeeping_account"] = holding["SfkpgAcct"]["Id"]

    chains = {"DELIVER": ("RcvgSttlmPties", "DlvrgSttlmPties"), "RECEIVE": ("DlvrgSttlmPties", "RcvgSttlmPties")}
    counter_name, own_name = chains[direction]
    members = {"DlvrgSttlmPties": ("delivering_agent", "seller"), "RcvgSttlmPties": ("receiving_agent", "buyer")}
    for name in ("DlvrgSttlmPties", "RcvgSttlmPties"):
        chain = block.get(name)
        if not chain:
            continue
        agent_member, end_member = members[name]
        if "Pty1" in chain:
            if name == counter_name and "NmAndAdr" in chain["Pty1"]["Id"]:
                raise SystemExit(f"{block['TxId']}: the counterparty's agent by name is refused, not a corpus document")
            party = read_settlement_party(chain["Pty1"], f"{P023}/{name}/Pty1", left_out)
            if party:
                body[agent_member] = party
        ends = [end for end in ("Pty5", "Pty4", "Pty3", "Pty2") if end in chain]
        if ends:
            party = read_settlement_party(chain[ends[0]], f"{P023}/{name}/{ends[0]}", left_out)
            if party:
                body[end_member] = party
            # The intermediaries between the agent and the seller or buyer.
            left_out += [f"{P023}/{name}/{end}" for end in ends[1:]]
    theirs = block.get(counter_name, {}).get("Dpstry")
    ours = block.get(own_name, {}).get("Dpstry")
    chosen, chosen_name = (theirs, counter_name) if theirs else (ours, own_name)
    body["place_of_settlement"] = chosen["Id"]["AnyBIC"]
    left_out += [f"{P023}/{chosen_name}/Dpstry/{n}" for n in DEPOSITORY_UNCARRIED if n in chosen]
    if theirs and ours:
        if "AnyBIC" not in ours["Id"]:
            left_out += [f"{P023}/{own_name}/Dpstry/Id/{n}" for n in ours["Id"]]
        elif not same_office(ours["Id"]["AnyBIC"], body["place_of_settlement"]):
            raise SystemExit(f"{block['TxId']}: two places of settlement are refused, not a corpus document")
        elif ours["Id"]["AnyBIC"] != body["place_of_settlement"]:
            left_out.append(f"{P023}/{own_name}/Dpstry/Id/AnyBIC")
        left_out += [f"{P023}/{own_name}/Dpstry/{n}" for n in DEPOSITORY_UNCARRIED if n in ours]
    place = trade.get("PlcOfTrad")
    if place:
        body["place_of_trade"] = place["MktTpAndId"]["Id"]["MktIdrCd"]

    # The own side the routing implies (implied.rs).
    own_agent_member = members[own_name][0]
    own_pty1_stated = "Pty1" in block.get(own_name, {})
    if header:
        fr = header_address(header["Fr"], "/AppHdr/Fr")
        to = header_address(header["To"], "/AppHdr/To")
        if not owner:
            if fr[0]:
                body["account_owner"] = fr[0]
                derived.append(("body.account_owner", fr[1]))
            elif fr[2]:
                body["account_owner"] = fr[2]
                derived.append(("body.account_owner", fr[3]))
        if not own_pty1_stated and to[0]:
            if to[0][:8] == body["place_of_settlement"][:8]:
                if fr[0]:
                    body[own_agent_member] = {"bic": fr[0]}
                    derived.append((f"body.{own_agent_member}", fr[1]))
            else:
                body[own_agent_member] = {"bic": to[0]}
                derived.append((f"body.{own_agent_member}", to[1]))

    # The cash side (cash.rs).
    data = {}
    for entry in block.get("SplmtryData", []):
        element = entry["Envlp"]["any_element"]
        if element.qname == f"{{{ISM_NS}}}IsmData":
            data = {local_name(child.qname): (child.text, f"{P023}/SplmtryData[1]/Envlp/IsmData/{local_name(child.qname)}") for child in element.children}
    if "SctiesMkt" in data:
        body["securities_market"] = data["SctiesMkt"][0]
    parties = block.get("CshPties", {})
    own_party, own_agent = {"DELIVER": ("Cdtr", "CdtrAgt"), "RECEIVE": ("Dbtr", "DbtrAgt")}[direction]
    if payment == "FREE_OF_PAYMENT":
        if "CshAcct" in holding:
            left_out.append(f"{P023}/QtyAndAcctDtls/CshAcct")
        left_out += [f"{P023}/CshPties/{n}" for n in ("Dbtr", "DbtrAgt", "Cdtr", "CdtrAgt", "Intrmy") if n in parties]
        if "CshMkt" in data:
            left_out.append(data["CshMkt"][1])
    else:
        cash = {}
        if "CshMkt" in data:
            cash["market"] = data["CshMkt"][0]
        if "CshAcct" in holding:
            cash["account"] = cash_account(holding["CshAcct"])
        for name in ("Dbtr", "DbtrAgt", "Cdtr", "CdtrAgt", "Intrmy"):
            if name not in parties:
                continue
            party, path = parties[name], f"{P023}/CshPties/{name}"
            if name == own_party:
                ident = party["Id"]
                if "LEI" in party:
                    cash["owner"] = party["LEI"]
                    if "AnyBIC" in ident:
                        left_out.append(f"{path}/Id/AnyBIC")
                    if "PrtryId" in ident and ident["PrtryId"]["Id"] != party["LEI"]:
                        left_out.append(f"{path}/Id/PrtryId")
                elif "AnyBIC" in ident:
                    cash["owner"] = ident["AnyBIC"]
                elif "PrtryId" in ident:
                    left_out.append(f"{path}/Id/PrtryId")
                if "NmAndAdr" in ident:
                    left_out.append(f"{path}/Id/NmAndAdr")
                if "CshAcct" in party:
                    if "account" not in cash:
                        cash["account"] = cash_account(party["CshAcct"])
                    elif cash["account"] != cash_account(party["CshAcct"]):
                        left_out.append(f"{path}/CshAcct")
                left_out += [f"{path}/{n}" for n in ("AltrnId", "ChrgsAcct", "ComssnAcct", "TaxAcct", "AddtlInf") if n in party]
            elif name == own_agent:
                ident = party["Id"]
                if "NmAndAdr" in ident:
                    left_out.append(f"{path}/Id/NmAndAdr")
                    left_out += [f"{path}/{n}" for n in ("LEI", "CshAcct") if n in party]
                else:
                    servicer = {"bic": ident["BICFI"]} if "BICFI" in ident else {"proprietary_id": read_prtry(ident["PrtryId"])}
                    if "LEI" in party:
                        servicer["lei"] = party["LEI"]
                    if "CshAcct" in party:
                        servicer["safekeeping_account"] = cash_account(party["CshAcct"])
                    cash["servicer"] = servicer
                left_out += [f"{path}/{n}" for n in ("AltrnId", "ChrgsAcct", "ComssnAcct", "TaxAcct", "AddtlInf") if n in party]
            else:
                left_out.append(path)  # the counterparty's cash party, or the intermediary
        if cash:
            body["cash"] = cash
    return in_ism_order(body), sorted(derived), sorted(left_out)


INSTRUCTION_ORDER = ["instruction_id", "common_reference", "direction", "payment", "trade_date",
                     "settlement_date", "isin", "quantity", "settlement_amount", "account_owner",
                     "safekeeping_account", "securities_market", "cash", "delivering_agent",
                     "receiving_agent", "seller", "buyer", "place_of_settlement", "place_of_trade"]
CASH_ORDER = ["market", "account", "owner", "servicer"]


def in_ism_order(body):
    """The body's members in ISM-1 §6.1 table order (for people reading the file)."""
    out = {key: body[key] for key in INSTRUCTION_ORDER if key in body}
    if "cash" in out:
        out["cash"] = {key: out["cash"][key] for key in CASH_ORDER if key in out["cash"]}
    assert len(out) == len(body), set(body) - set(out)
    return out


def local_name(qname):
    return qname.rsplit("}", 1)[-1]


def ism_data(**markets):
    children = [any_element(name, text=value) for name, value in markets.items()]
    return [{"PlcAndNm": "/Document/SctiesSttlmTxInstr", "Envlp": {"any_element": any_element("IsmData", children)}}]


PARTICIPANT_CASES = []


def participant(number, name, block, header=None, style="default", wrapper="BizMsg"):
    """`header`: (version, sender, receiver) of a business application header, the
    parties as routing_party() takes them."""
    PARTICIPANT_CASES.append(dict(number=number, name=name, block=block, header=header, style=style, wrapper=wrapper))


def trade(trade_date, settlement_date, mic=None):
    out = {}
    if mic:
        out["PlcOfTrad"] = {"MktTpAndId": {"Id": {"MktIdrCd": mic}, "Tp": {"Cd": "EXCH"}}}
    out["TradDt"] = trade_date if isinstance(trade_date, dict) else {"Dt": {"Dt": trade_date}}
    out["SttlmDt"] = {"Dt": {"Dt": settlement_date}}
    return out


def params(movement, payment, common=None):
    out = {"SctiesMvmntTp": movement, "Pmt": payment}
    if common:
        out["CmonId"] = common
    return out


def money(amount, currency, indicator):
    return {"Amt": {"value": amount, "Ccy": currency}, "CdtDbtInd": indicator}


TRAD = {"SctiesTxTp": {"Cd": "TRAD"}}


def prtry(code, issuer, scheme=None):
    out = {"Id": code, "Issr": issuer}
    if scheme:
        out["SchmeNm"] = scheme
    return {"PrtryId": out}


# 30 — US, DTC. ISITC/Clearstream practice for a receipt against payment: the
# delivering side only, the delivering agent by DTC participant number (issuer
# DTCYID), the seller by BIC; no account owner, no own chain; the cash account a DDA.
participant(30, "sese023-us-dtc-receive-apmt-usd-participant-number-no-header", {
    "TxId": "IM-RECE-0042",
    "SttlmTpAndAddtlParams": params("RECE", "APMT"),
    "TradDtls": trade("2026-11-25", "2026-11-26", "XNYS"),
    "FinInstrmId": {"ISIN": "US5949181045"},
    "QtyAndAcctDtls": {"SttlmQty": {"Qty": {"Unit": "2500"}}, "SfkpgAcct": {"Id": "SAFE-IM-77120"},
                       "CshAcct": {"Prtry": "DDA-USD-4410-77120"}},
    "SttlmParams": TRAD,
    "DlvrgSttlmPties": {"Dpstry": {"Id": {"AnyBIC": "DTCYUS33"}},
                        "Pty1": {"Id": prtry("0352", "DTCYID")},
                        "Pty2": {"Id": {"AnyBIC": "GSCMUS33"}}},
    "SttlmAmt": money("1045312.50", "USD", "DBIT"),
})

# 31 — US, DTC, straight to the depository (head.001.001.02, To = DTCYUS33XXX): a
# direct participant delivers; its own agent and account owner are the sender. The
# receiving agent by DTC participant number with its scheme name; the buyer's cash
# party (Dbtr) is the counterparty's and is reported.
participant(31, "sese023-us-dtc-deliver-apmt-usd-direct-participant-head02", {
    "TxId": "CHAS-DELI-0917",
    "SttlmTpAndAddtlParams": params("DELI", "APMT", "XNYS-55120"),
    "TradDtls": trade("2026-11-25", "2026-11-26", "XNYS"),
    "FinInstrmId": {"ISIN": "US0378331005"},
    "QtyAndAcctDtls": {"SttlmQty": {"Qty": {"Unit": "1000"}}, "SfkpgAcct": {"Id": "0902-PRIN"},
                       "CshAcct": {"Prtry": "0902-SETTLEMENT-USD"}},
    "SttlmParams": TRAD,
    "RcvgSttlmPties": {"Dpstry": {"Id": {"AnyBIC": "DTCYUS33"}},
                       "Pty1": {"Id": prtry("0901", "DTCYID", "DTC PARTICIPANT")},
                       "Pty2": {"Id": {"AnyBIC": "IRVTUS3N"}, "SfkpgAcct": {"Id": "BNY-OMNI-1"}}},
    "CshPties": {"Dbtr": {"Id": {"AnyBIC": "IRVTUS3N"}}},
    "SttlmAmt": money("231450.00", "USD", "CRDT"),
}, header=("02", "CHASUS33", "DTCYUS33XXX"), style="python-iso20022", wrapper="BizMsg")

# 32 — France, Euroclear France (ESES). An investment firm (Fr by organisation BIC)
# instructs its custodian (To): no AcctOwnr, no own chain; receiving side by BIC; the
# cash account an IBAN.
participant(32, "sese023-fr-euroclear-deliver-apmt-eur-custodian-head04", {
    "TxId": "CRLY-DELI-0318",
    "SttlmTpAndAddtlParams": params("DELI", "APMT"),
    "TradDtls": trade("2026-11-25", "2026-11-27", "XPAR"),
    "FinInstrmId": {"ISIN": "FR0000120271"},
    "QtyAndAcctDtls": {"SttlmQty": {"Qty": {"Unit": "4000"}}, "SfkpgAcct": {"Id": "30001-0007123-01"},
                       "CshAcct": {"IBAN": "FR7630006000011234567890189"}},
    "SttlmParams": TRAD,
    "RcvgSttlmPties": {"Dpstry": {"Id": {"AnyBIC": "SICVFRPP"}},
                       "Pty1": {"Id": {"AnyBIC": "SOGEFRPP"}},
                       "Pty2": {"Id": {"AnyBIC": "AGRIFRPP"}}},
    "SttlmAmt": money("238960.00", "EUR", "CRDT"),
}, header=("04", {"OrgId": {"Id": {"OrgId": {"AnyBIC": "CRLYFRPP"}}}}, "BNPAFRPPXXX"), style="prefix:sese")

# 33 — Euroclear Bank. A receipt free of payment of a Eurobond from a Euroclear
# participant account (issuer ECLR); the back office also filled in cash details,
# which a free instruction does not use: reported, not carried.
participant(33, "sese023-be-euroclear-bank-receive-free-eurobond-cash-on-fop", {
    "TxId": "EB-RECE-88412",
    "SttlmTpAndAddtlParams": params("RECE", "FREE"),
    "TradDtls": trade("2026-11-24", "2026-11-26"),
    "FinInstrmId": {"ISIN": "XS2075811781"},
    "QtyAndAcctDtls": {"SttlmQty": {"Qty": {"Unit": "500000"}}, "SfkpgAcct": {"Id": "91234"},
                       "CshAcct": {"Prtry": "91234-EUR"}},
    "SttlmParams": TRAD,
    "DlvrgSttlmPties": {"Dpstry": {"Id": {"AnyBIC": "MGTCBEBEECL"}},
                        "Pty1": {"Id": prtry("23456", "ECLR")}},
    "CshPties": {"Dbtr": {"Id": {"AnyBIC": "KREDBEBB"}}},
})

# 34 — UK, CREST. A CREST member sends straight to CREST (head.001.001.02, To =
# CRSTGB22): its own agent and account owner are the sender. The receiving agent by
# CREST participant id (Clearstream's 00XJJ); the cash owner by BIC and LEI (the LEI
# is kept, the BIC reported), the cash servicer the central bank.
participant(34, "sese023-gb-crest-deliver-apmt-gbp-crest-ids-head02", {
    "TxId": "HSBC-DELI-77120",
    "SttlmTpAndAddtlParams": params("DELI", "APMT", "XLON-8812"),
    "TradDtls": trade("2026-11-25", "2026-11-26", "XLON"),
    "FinInstrmId": {"ISIN": "GB0002634946"},
    "QtyAndAcctDtls": {"SttlmQty": {"Qty": {"Unit": "15000"}}, "SfkpgAcct": {"Id": "CREST-HSBC-9021"},
                       "CshAcct": {"IBAN": "GB82WEST12345698765432"}},
    "SttlmParams": TRAD,
    "RcvgSttlmPties": {"Dpstry": {"Id": {"AnyBIC": "CRSTGB22"}},
                       "Pty1": {"Id": prtry("00XJJ", "CRST")},
                       "Pty2": {"Id": {"AnyBIC": "CEDELULL"}, "SfkpgAcct": {"Id": "71234"}}},
    "CshPties": {"Cdtr": {"Id": {"AnyBIC": "HSBCGB2L"}, "LEI": "MP6I5ZYZBEU3UXPYFY54"},
                 "CdtrAgt": {"Id": {"BICFI": "BKENGB2L"}}},
    "SttlmAmt": money("196875.45", "GBP", "CRDT"),
}, header=("02", "HSBCGB2L", "CRSTGB22"), wrapper="Envelope")

# 35 — Clearstream Banking Luxembourg. A receipt against USD of a Eurobond from a
# Clearstream customer account (issuer CEDE); the cash account only on the debtor,
# the debtor's agent Clearstream itself; an intermediary, which ISM/1 cannot carry.
participant(35, "sese023-lu-clearstream-receive-apmt-usd-cash-on-debtor", {
    "TxId": "DB-RECE-40017",
    "SttlmTpAndAddtlParams": params("RECE", "APMT"),
    "TradDtls": trade("2026-11-24", "2026-11-26"),
    "FinInstrmId": {"ISIN": "XS1050461034"},
    "QtyAndAcctDtls": {"SttlmQty": {"Qty": {"Unit": "250000"}},
                       "AcctOwnr": {"Id": {"AnyBIC": "DEUTDEFF"}},
                       "SfkpgAcct": {"Id": "CBL-12007"}},
    "SttlmParams": TRAD,
    "DlvrgSttlmPties": {"Dpstry": {"Id": {"AnyBIC": "CEDELULL"}},
                        "Pty1": {"Id": prtry("54321", "CEDE")}},
    "CshPties": {"Dbtr": {"Id": {"AnyBIC": "DEUTDEFF"}, "CshAcct": {"Prtry": "CBL-12007-USD"}},
                 "DbtrAgt": {"Id": {"BICFI": "CEDELULL"}},
                 "Intrmy": {"Id": {"BICFI": "CITIUS33"}}},
    "SttlmAmt": money("248125.00", "USD", "DBIT"),
}, style="prefix:s")

# 36 — Germany, Clearstream Banking Frankfurt. An asset manager known by its LEI
# (head.001.001.04, Fr OrgId/LEI) instructs its custodian: the receiving agent by its
# 4-digit CBF account (issuer DAKV), the trade date as a local date-time without zone.
participant(36, "sese023-de-cbf-deliver-free-dakv-account-lei-sender-head04", {
    "TxId": "AMDE-DELI-2207",
    "SttlmTpAndAddtlParams": params("DELI", "FREE"),
    "TradDtls": trade({"Dt": {"DtTm": "2026-11-25T09:12:30"}}, "2026-11-27", "XETR"),
    "FinInstrmId": {"ISIN": "DE0007236101"},
    "QtyAndAcctDtls": {"SttlmQty": {"Qty": {"Unit": "300"}}, "SfkpgAcct": {"Id": "CBF-7001-004"}},
    "SttlmParams": TRAD,
    "RcvgSttlmPties": {"Dpstry": {"Id": {"AnyBIC": "DAKVDEFF"}},
                       "Pty1": {"Id": prtry("7259", "DAKV")},
                       "Pty2": {"Id": {"AnyBIC": "COBADEFF"}}},
}, header=("04", {"OrgId": {"Id": {"OrgId": {"LEI": "549300ISTHMUSSELL015"}}}}, "DEUTDEFF"), wrapper="RequestPayload")

# 37 — Japan, JASDEC. A securities firm instructs its custodian (head.001.001.02):
# the account owner by the custodian's client number (which ISM/1 cannot hold: left
# out and reported, and not replaced by the sender), the delivering agent by BIC, the
# seller by JASDEC participant code; the cash servicer the Bank of Japan; the seller's
# cash party (Cdtr) is the counterparty's.
participant(37, "sese023-jp-jasdec-receive-apmt-jpy-custodian-head02", {
    "TxId": "NMSC-RECE-00812",
    "SttlmTpAndAddtlParams": params("RECE", "APMT"),
    "TradDtls": trade("2026-11-25", "2026-11-27", "XTKS"),
    "FinInstrmId": {"ISIN": "JP3633400001"},
    "QtyAndAcctDtls": {"SttlmQty": {"Qty": {"Unit": "5000"}},
                       "AcctOwnr": {"Id": prtry("C778812", "MHCB")},
                       "SfkpgAcct": {"Id": "JASDEC-3321"},
                       "CshAcct": {"Prtry": "JPY-CASH-0042"}},
    "SttlmParams": TRAD,
    "DlvrgSttlmPties": {"Dpstry": {"Id": {"AnyBIC": "JJSDJPJT"}},
                        "Pty1": {"Id": {"AnyBIC": "SMBCJPJT"}},
                        "Pty2": {"Id": prtry("10123", "JASD")}},
    "CshPties": {"DbtrAgt": {"Id": {"BICFI": "BOJPJPJT"}},
                 "Cdtr": {"Id": {"AnyBIC": "SMBCJPJT"}}},
    "SttlmAmt": money("14250000", "JPY", "DBIT"),
}, header=("02", "NMSCJPJT", "MHCBJPJT"))

# 38 — Singapore, CDP. A delivery against SGD without a header: the receiving agent by
# its CDP depository agent code; the cash owner by BIC, the servicer by a proprietary
# code (its MEPS+ participant code).
participant(38, "sese023-sg-cdp-deliver-apmt-sgd-depository-agent-code", {
    "TxId": "DBS-DELI-55301",
    "SttlmTpAndAddtlParams": params("DELI", "APMT"),
    "TradDtls": trade("2026-11-25", "2026-11-27", "XSES"),
    "FinInstrmId": {"ISIN": "SG1L01001701"},
    "QtyAndAcctDtls": {"SttlmQty": {"Qty": {"Unit": "12000"}}, "SfkpgAcct": {"Id": "CDP-DBS-00311"},
                       "CshAcct": {"Prtry": "SGD-CASH-SG-311"}},
    "SttlmParams": TRAD,
    "RcvgSttlmPties": {"Dpstry": {"Id": {"AnyBIC": "CDPLSGSG"}},
                       "Pty1": {"Id": prtry("4S", "CDPL")}},
    "CshPties": {"Cdtr": {"Id": {"AnyBIC": "DBSSSGSG"}},
                 "CdtrAgt": {"Id": prtry("DBSSSGSGMEP", "MEPS")}},
    "SttlmAmt": money("455040.00", "SGD", "CRDT"),
})

# 39 — Australia, ASX CHESS. A participant sends straight to the settlement facility
# (head.001.001.04, To = CAETAU21): its own agent and account owner are the sender; the
# seller by CHESS participant id; the cash servicer the Reserve Bank (RITS).
participant(39, "sese023-au-chess-receive-apmt-aud-direct-participant-head04", {
    "TxId": "NAB-RECE-30099",
    "SttlmTpAndAddtlParams": params("RECE", "APMT"),
    "TradDtls": trade("2026-11-25", "2026-11-27", "XASX"),
    "FinInstrmId": {"ISIN": "AU000000BHP4"},
    "QtyAndAcctDtls": {"SttlmQty": {"Qty": {"Unit": "8000"}}, "SfkpgAcct": {"Id": "HIN-0081234567"},
                       "CshAcct": {"Prtry": "AUD-RITS-NAB-0099"}},
    "SttlmParams": TRAD,
    "DlvrgSttlmPties": {"Dpstry": {"Id": {"AnyBIC": "CAETAU21XXX"}},
                        "Pty1": {"Id": {"AnyBIC": "ANZBAU3M"}},
                        "Pty2": {"Id": prtry("01234", "CHES", "PID")}},
    "CshPties": {"Dbtr": {"Id": {"AnyBIC": "NATAAU33"}},
                 "DbtrAgt": {"Id": {"BICFI": "RSBKAU2S"}}},
    "SttlmAmt": money("352140.50", "AUD", "DBIT"),
}, header=("04", "NATAAU33", "CAETAU21"), style="python-iso20022", wrapper="BizMsg")

# 40 — Switzerland, SIX SIS. As Clearstream's SIX SIS table describes: the receiving
# agent by BIC with its SIS business partner id as account, the buyer by SECOM BPID
# (issuer SCOM); the cash account an IBAN, its servicer the SNB.
participant(40, "sese023-ch-six-sis-deliver-apmt-chf-bpid", {
    "TxId": "CSZH-DELI-11908",
    "SttlmTpAndAddtlParams": params("DELI", "APMT"),
    "TradDtls": trade("2026-11-25", "2026-11-27", "XSWX"),
    "FinInstrmId": {"ISIN": "CH0038863350"},
    "QtyAndAcctDtls": {"SttlmQty": {"Qty": {"Unit": "1200"}},
                       "AcctOwnr": {"Id": {"AnyBIC": "CRESCHZZ80A"}},
                       "SfkpgAcct": {"Id": "SIS-CS-4410"},
                       "CshAcct": {"IBAN": "CH9300762011623852957"}},
    "SttlmParams": TRAD,
    "RcvgSttlmPties": {"Dpstry": {"Id": {"AnyBIC": "INSECHZZXXX"}},
                       "Pty1": {"Id": {"AnyBIC": "UBSWCHZH80A"}, "SfkpgAcct": {"Id": "CH100123"}},
                       "Pty2": {"Id": prtry("CH654321", "SCOM")}},
    "CshPties": {"CdtrAgt": {"Id": {"BICFI": "SNBZCHZZ"}}},
    "SttlmAmt": money("126360.00", "CHF", "CRDT"),
})

# 41 — US, DTC, the smallest a custodian accepts (head.001.001.04): an asset manager
# (Fr by organisation BIC) delivers free to a DTC participant number; nothing else.
participant(41, "sese023-us-dtc-deliver-free-minimal-head04", {
    "TxId": "FMR-DELI-0007",
    "SttlmTpAndAddtlParams": params("DELI", "FREE"),
    "TradDtls": trade("2026-11-25", "2026-11-25"),
    "FinInstrmId": {"ISIN": "US0378331005"},
    "QtyAndAcctDtls": {"SttlmQty": {"Qty": {"Unit": "75"}}, "SfkpgAcct": {"Id": "FMR-CUST-1177"}},
    "SttlmParams": TRAD,
    "RcvgSttlmPties": {"Dpstry": {"Id": {"AnyBIC": "DTCYUS33"}},
                       "Pty1": {"Id": prtry("0902", "DTCYID")}},
}, header=("04", {"OrgId": {"Id": {"OrgId": {"AnyBIC": "FMRCUS3B"}}}}, "IRVTUS3N"), style="prefix:d")

# 42 — France, Euroclear France. A receipt free from an ESES account (issuer SICV), the
# seller known only by name: left out and reported, the rest translated.
participant(42, "sese023-fr-euroclear-receive-free-seller-by-name", {
    "TxId": "SGSS-RECE-4471",
    "SttlmTpAndAddtlParams": params("RECE", "FREE"),
    "TradDtls": trade("2026-11-24", "2026-11-26", "XPAR"),
    "FinInstrmId": {"ISIN": "FR0000131104"},
    "QtyAndAcctDtls": {"SttlmQty": {"Qty": {"Unit": "1500"}}, "SfkpgAcct": {"Id": "EF-SGSS-22010"}},
    "SttlmParams": TRAD,
    "DlvrgSttlmPties": {"Dpstry": {"Id": {"AnyBIC": "SICVFRPP"}},
                        "Pty1": {"Id": prtry("030", "SICV")},
                        "Pty2": {"Id": {"NmAndAdr": {"Nm": "Caisse de Retraite des Cadres", "Adr": {"TwnNm": "Lyon", "Ctry": "FR"}}}}},
}, style="python-iso20022")

# 43 — UK, CREST. Everything on the own side stated, so nothing is derived although a
# header is there; the cash side as a back office writes it: the account on the
# debtor known by name, an agent with contact details, an intermediary.
participant(43, "sese023-gb-crest-receive-apmt-gbp-stated-own-side-head02", {
    "TxId": "BARC-RECE-20931",
    "SttlmTpAndAddtlParams": params("RECE", "APMT", "XLON-0043"),
    "TradDtls": trade("2026-11-25", "2026-11-26", "XLON"),
    "FinInstrmId": {"ISIN": "GB0002634946"},
    "QtyAndAcctDtls": {"SttlmQty": {"Qty": {"Unit": "2000"}},
                       "AcctOwnr": {"Id": {"AnyBIC": "BARCGB22"}},
                       "SfkpgAcct": {"Id": "CREST-BARC-4410"}},
    "SttlmParams": TRAD,
    "DlvrgSttlmPties": {"Dpstry": {"Id": {"AnyBIC": "CRSTGB22"}},
                        "Pty1": {"Id": prtry("00XJJ", "CRST")}},
    "RcvgSttlmPties": {"Dpstry": {"Id": {"AnyBIC": "CRSTGB22"}},
                       "Pty1": {"Id": prtry("3BARC", "CRST")}},
    "CshPties": {"Dbtr": {"Id": {"NmAndAdr": {"Nm": "Barclays Bank PLC Client Money", "Adr": {"TwnNm": "London", "Ctry": "GB"}}},
                          "CshAcct": {"Prtry": "GBP-CLIENT-5521"}},
                 "DbtrAgt": {"Id": {"BICFI": "BARCGB22"}, "AddtlInf": {"PtyCtctDtls": "Settlements desk +44 20 7116 1000"}},
                 "Intrmy": {"Id": {"BICFI": "BKENGB2L"}}},
    "SttlmAmt": money("26250.00", "GBP", "DBIT"),
}, header=("02", "BARCGB22", "CRSTGB22"), wrapper="Envelope")


def write_list(path, lines):
    if lines:
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    elif path.exists():
        path.unlink()


def generate_participants():
    message_id = "sese.023.001.11"
    for c in PARTICIPANT_CASES:
        # The same instruction must also travel as MT54x, whose :20C: references hold 16.
        references = [c["block"]["TxId"], c["block"]["SttlmTpAndAddtlParams"].get("CmonId", "")]
        if any(len(reference) > 16 for reference in references):
            raise SystemExit(f"case {c['number']}: a reference over 16 characters cannot travel as MT54x")
        block = copy.deepcopy(c["block"])
        obj = build(document_class(message_id), {"SctiesSttlmTxInstr": block})
        xml = serialize(obj, c["style"], models.namespace(message_id))
        header = None
        if c["header"]:
            version, sender, receiver = c["header"]
            header = {"Fr": routing_party(sender), "To": routing_party(receiver)}
            head = app_header(version, message_id, f"BIZ-{c['number']:02d}-20261125", sender, receiver, "2026-11-25T09:00:00Z")
            xml = wrap(xml, c["wrapper"], head)
        if not xml.endswith("\n"):
            xml += "\n"
        stem = f"{c['number']:02d}-{c['name']}"
        (OUT / f"{stem}.xml").write_text(xml, encoding="utf-8")
        body, derived, left_out = expect_sese023(c["block"], header)
        expected = {"kind": "SettlementInstruction", "body": body}
        (OUT / f"{stem}.ism.json").write_text(json.dumps(expected, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        write_list(OUT / f"{stem}.derived", [f"{field}\t{source}" for field, source in derived])
        write_list(OUT / f"{stem}.unrepresented", left_out)
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
    # A time without a zone is read as UTC (and reported); one whose zone is malformed is refused.
    (19, "timestamp-with-malformed-zone", 18, [(">2026-11-27T14:03:07.125Z<", ">2026-11-27T14:03:07.125+1:00<")], "TIMESTAMP_INVALID", f"{I025}/TradDtls/FctvSttlmDt/Dt/DtTm"),
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
    # Participants' instructions (30+) with one defect each.
    (41, "deliver-without-receiving-agent", 38, lambda xml: re.sub(r"\n\s*<Pty1>.*?</Pty1>", "", xml, count=1, flags=re.S),
     "COUNTERPARTY_REQUIRED", f"{I023}/RcvgSttlmPties/Pty1"),
    # The depository stays, in the own (receiving) chain: the place of settlement is
    # read before ISM/1's rule 5 reports the missing counterparty.
    (42, "receive-without-delivering-chain", 30,
     lambda xml: re.sub(r"<DlvrgSttlmPties>(\s*<Dpstry>.*?</Dpstry>).*?</DlvrgSttlmPties>", r"<RcvgSttlmPties>\1\n    </RcvgSttlmPties>", xml, count=1, flags=re.S),
     "COUNTERPARTY_REQUIRED", f"{I023}/DlvrgSttlmPties/Pty1"),
    (43, "proprietary-id-without-issuer", 30, [("          <Issr>DTCYID</Issr>\n", "")],
     "XML_ELEMENT_MISSING", f"{I023}/DlvrgSttlmPties/Pty1/Id/PrtryId/Issr"),
    (44, "receiving-agent-known-only-by-name", 38,
     [("<PrtryId>\n            <Id>4S</Id>\n            <Issr>CDPL</Issr>\n          </PrtryId>", "<NmAndAdr><Nm>Standard Chartered Bank (Singapore)</Nm></NmAndAdr>")],
     "NOT_REPRESENTABLE", f"{I023}/RcvgSttlmPties/Pty1/Id/NmAndAdr"),
    (45, "no-place-of-settlement-own-side-implied", 38, lambda xml: re.sub(r"\n\s*<Dpstry>.*?</Dpstry>", "", xml, count=1, flags=re.S),
     "XML_ELEMENT_MISSING", f"{I023}/RcvgSttlmPties/Dpstry"),
    (46, "place-of-settlement-by-country", 30, [("<AnyBIC>DTCYUS33</AnyBIC>", "<Ctry>US</Ctry>")],
     "NOT_REPRESENTABLE", f"{I023}/DlvrgSttlmPties/Dpstry/Id/Ctry"),
    (47, "cash-account-iban-and-proprietary", 32,
     [("<sese:IBAN>FR7630006000011234567890189</sese:IBAN>", "<sese:IBAN>FR7630006000011234567890189</sese:IBAN><sese:Prtry>30001-EUR</sese:Prtry>")],
     "XML_ELEMENT_UNEXPECTED", f"{I023}/QtyAndAcctDtls/CshAcct"),
    (48, "cash-owner-lei-check-digits", 34, [("<LEI>MP6I5ZYZBEU3UXPYFY54</LEI>", "<LEI>MP6I5ZYZBEU3UXPYFY55</LEI>")],
     "LEI_CHECK_DIGITS", f"{I023}/CshPties/Cdtr/LEI"),
    (49, "securities-market-not-a-mic", 38,
     [("  </SctiesSttlmTxInstr>", "    <SplmtryData><PlcAndNm>/Document/SctiesSttlmTxInstr</PlcAndNm><Envlp><IsmData xmlns=\"urn:isthmus:ism:1:splmtry\"><SctiesMkt>XSE</SctiesMkt></IsmData></Envlp></SplmtryData>\n  </SctiesSttlmTxInstr>")],
     "MIC_FORMAT", f"{I023}/SplmtryData[1]/Envlp/IsmData/SctiesMkt"),
    (50, "unknown-element-in-instruction-supplementary-data", 38,
     [("  </SctiesSttlmTxInstr>", "    <SplmtryData><PlcAndNm>/Document/SctiesSttlmTxInstr</PlcAndNm><Envlp><IsmData xmlns=\"urn:isthmus:ism:1:splmtry\"><CshMkt>XSES</CshMkt><Ldgr>CDP</Ldgr></IsmData></Envlp></SplmtryData>\n  </SctiesSttlmTxInstr>")],
     "XML_ELEMENT_UNEXPECTED", f"{I023}/SplmtryData[1]/Envlp/IsmData/Ldgr"),
    (51, "cash-servicer-bic-country", 40, [("<BICFI>SNBZCHZZ</BICFI>", "<BICFI>SNBZZZZZ</BICFI>")],
     "BIC_COUNTRY", f"{I023}/CshPties/CdtrAgt/Id/BICFI"),
    (52, "local-trade-time-out-of-range", 36, [("<DtTm>2026-11-25T09:12:30</DtTm>", "<DtTm>2026-11-25T25:12:30</DtTm>")],
     "TIMESTAMP_INVALID", f"{I023}/TradDtls/TradDt/Dt/DtTm"),
    # ISM-1 §6.1 rules in their order: settling before the trade (rule 1) is reported
    # before the missing counterparty's agent (rule 5).
    (53, "receive-without-delivering-agent-settling-before-trade", 30,
     lambda xml: re.sub(r"\n\s*<Pty1>.*?</Pty1>", "", xml, count=1, flags=re.S).replace("<Dt>2026-11-26</Dt>", "<Dt>2026-11-24</Dt>"),
     "SETTLEMENT_BEFORE_TRADE", f"{I023}/TradDtls/SttlmDt"),
    # Each chain at its own depository (a cross-CSD settlement): ISM/1 settles at one place.
    (54, "two-places-of-settlement-cross-csd", 10, [("<ns0:AnyBIC>MGTCBEBEECL</ns0:AnyBIC>", "<ns0:AnyBIC>DAKVDEFF</ns0:AnyBIC>")],
     "NOT_REPRESENTABLE", f"{I023}/RcvgSttlmPties/Dpstry/Id/AnyBIC"),
    # A trade time whose zone is an hour off the ±hh:mm form.
    (55, "trade-time-with-malformed-offset", 8, [("2026-11-24T10:15:00+03:00", "2026-11-24T10:15:00+3:00")],
     "TIMESTAMP_INVALID", f"{I023}/TradDtls/TradDt/Dt/DtTm"),
    # XML 1.0 §4.3.3: one byte order mark may open a UTF-8 document; a second
    # is a character before the root element (issue 10, finding 9).
    (56, "two-byte-order-marks", 1, lambda xml: "\ufeff\ufeff" + xml, "XML_MALFORMED", None),
    # Namespaces in XML 1.0 §3: a prefix's namespace name MUST NOT be empty;
    # xmlns:p="" is XML 1.1's undeclaration (issue 10, finding 9).
    (57, "prefix-undeclared", 1,
     [('<Document xmlns="urn:iso:std:iso:20022:tech:xsd:sese.023.001.11">',
       '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:sese.023.001.11" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'),
      ("  <SctiesSttlmTxInstr>", '  <SctiesSttlmTxInstr xmlns:xsi="">')],
     "XML_MALFORMED", None),
    # ISM-1 §4.1 item 3: a right check digit under a prefix that is no country
    # and no ISIN prefix.
    (58, "isin-prefix-unknown", 3, [(">JP3633400001<", ">QQ0000000000<")], "ISIN_PREFIX", f"{I023}/FinInstrmId/ISIN"),
]


def generate_invalid():
    target = OUT / "invalid"
    target.mkdir(parents=True, exist_ok=True)
    sources = {c["number"]: OUT / f"{c['number']:02d}-{c['name']}.xml" for c in CASES + PARTICIPANT_CASES}
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
    generate_participants()
    generate_invalid()
