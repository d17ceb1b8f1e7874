#!/usr/bin/env python3
"""Strict external check of every ISO 20022 document the Isthmus ISO 20022 adapter writes.

Code that Isthmus did not write judges Isthmus's output: each document is parsed
with the python-iso20022 model class of its message (xsdata dataclasses generated
from the official XSDs) by xsdata's XmlParser configured strictly, and the parsed
dataclass tree is then walked to enforce the field metadata xsdata does not check
on parse. A second walk over the raw XML checks what a dataclass tree no longer
shows. Enforced:

  parse (xsdata, strict)  unknown elements (in any namespace), unknown attributes of
                          complex elements, values that do not convert (code lists,
                          xs:decimal, xs:date, xs:dateTime, xs:boolean)
  dataclass walk          every `required` element and attribute present;
                          min_occurs / max_occurs; `pattern` (full match);
                          min_length / max_length; total_digits / fraction_digits;
                          min_inclusive / max_inclusive / min_exclusive /
                          max_exclusive; exactly one alternative in every
                          ISO 20022 `...Choice` type (xsdata flattens xs:choice)
  raw XML walk            root is `Document` in the namespace of a supported message
                          (sese.023.001.11, sese.024.001.12, sese.025.001.11,
                          semt.002.001.11); children in XSD sequence order; no
                          repeated single element; no attribute on a simple element
                          other than those its type declares; no text in
                          element-only content; Isthmus supplementary data
                          (`SplmtryData/Envlp/IsmData`) has its documented shape

Documents checked:
  1. `$ISTHMUS_BIN translate --from ism --to iso20022 FILE` (default
     ISTHMUS_BIN=target/debug/isthmus) for every `*.ism.json` in
     adapters/tests/data/iso20022/ and adapters/tests/data/mt/ whose kind the
     dialect writes, and every valid ISM/1 test vector (specs/vectors/valid/) of those
     kinds;
  2. the round trip of every corpus document: `translate --from iso20022 --to ism`,
     then back `--from ism --to iso20022`;
  3. every valid corpus input `adapters/tests/data/iso20022/*.xml` itself (its
     `Document`, unwrapped from any AppHdr envelope), so the corpus is valid ISO 20022;
  4. any XML files named on the command line (`--xml FILE...`).
Before that, a self-test mutates a good document in many ways (drop a required
element, break a pattern, add an unknown element, ...) and fails unless the check
catches every mutation; `--tables` also verifies that the Rust schema tables
(adapters/src/iso20022/schema_tables.rs) match what the generator derives from the
installed models.

Output: one line per problem (`FAIL label: path: problem`), one `ok label` line per
clean document, then `N passed, M failed`. Exit status 1 if anything failed.

    python3 adapters/tests/iso20022_schema_check.py            # all of the above
    python3 adapters/tests/iso20022_schema_check.py --self-test
    python3 adapters/tests/iso20022_schema_check.py --xml some.xml other.xml

Requires: python-iso20022==0.3.0 (which installs xsdata).
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import decimal
import json
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE / "python"))

import iso20022_models as models  # noqa: E402
from xsdata.formats.dataclass.models.generics import AnyElement  # noqa: E402
from xsdata.formats.dataclass.parsers import XmlParser  # noqa: E402
from xsdata.formats.dataclass.parsers.config import ParserConfig  # noqa: E402

CORPUS = REPO / "adapters" / "tests" / "data" / "iso20022"
MT_CORPUS = REPO / "adapters" / "tests" / "data" / "mt"
VECTORS = REPO / "specs" / "vectors" / "valid"
TABLES = REPO / "adapters" / "src" / "iso20022" / "schema_tables.rs"
WRITTEN_KINDS = {
    "SettlementInstruction": "sese.023.001.11",
    "InstructionStatus": "sese.024.001.12",
    "SettlementConfirmation": "sese.025.001.11",
    "HoldingsStatement": "semt.002.001.11",
}
ISM_SUPPLEMENTARY_NS = "urn:isthmus:ism:1:splmtry"
# The shape of Isthmus supplementary data (adapters/src/iso20022/supplementary.rs).
ISM_DATA = {
    "sese.023.001.11": ["SctiesMkt", "CshMkt"],
    "sese.024.001.12": ["RltdMsgId", "Rsn"],
    "sese.025.001.11": ["SctiesJrnl", "CshJrnl"],
}
ISM_DATA_CHILDREN = {
    "Rsn": ["Cd", "Txt", "Issr", "SchmeNm"],
    "SctiesJrnl": ["Mkt", "Seq", "NtryHash"],
    "CshJrnl": ["Mkt", "Seq", "NtryHash"],
}
# Members of the above that may be absent (a reason's issuer and scheme).
ISM_DATA_OPTIONAL = {"Issr", "SchmeNm"}

STRICT = ParserConfig(
    fail_on_unknown_properties=True,
    fail_on_unknown_attributes=True,
    fail_on_converter_warnings=True,
)


def local(tag: str) -> tuple[str | None, str]:
    if tag.startswith("{"):
        namespace, name = tag[1:].split("}", 1)
        return namespace, name
    return None, tag


def decimal_digits(value: decimal.Decimal) -> tuple[int, int]:
    """(total digits, fraction digits) of a decimal's value, as XSD counts them:
    no leading zeros, no trailing zeros after the point."""
    text = format(abs(value), "f")
    integer, _, fraction = text.partition(".")
    integer = integer.lstrip("0")
    fraction = fraction.rstrip("0")
    return max(1, len(integer) + len(fraction)), len(fraction)


class Checker:
    """Collects the problems of one document."""

    def __init__(self):
        self.problems: list[str] = []

    def problem(self, path: str, text: str):
        self.problems.append(f"{path}: {text}")

    # ---- facets of one simple value -------------------------------------------------
    def facets(self, path: str, value, md):
        if isinstance(value, AnyElement) or value is None:
            return
        if hasattr(value, "value") and models.is_enum(type(value)):
            value = value.value
        if isinstance(value, str):
            pattern = md.get("pattern")
            if pattern is not None and re.fullmatch(pattern, value) is None:
                self.problem(path, f"{value!r} does not match pattern {pattern}")
            if "min_length" in md and len(value) < md["min_length"]:
                self.problem(path, f"{value!r} is shorter than min_length {md['min_length']}")
            if "max_length" in md and len(value) > md["max_length"]:
                self.problem(path, f"{value!r} ({len(value)} chars) is longer than max_length {md['max_length']}")
            if "length" in md and len(value) != md["length"]:
                self.problem(path, f"{value!r} does not have length {md['length']}")
        if isinstance(value, decimal.Decimal):
            total, fraction = decimal_digits(value)
            if "total_digits" in md and total > md["total_digits"]:
                self.problem(path, f"{value} has {total} digits; total_digits is {md['total_digits']}")
            if "fraction_digits" in md and fraction > md["fraction_digits"]:
                self.problem(path, f"{value} has {fraction} fraction digits; fraction_digits is {md['fraction_digits']}")
        if isinstance(value, (decimal.Decimal, int)) and not isinstance(value, bool):
            bounds = [
                ("min_inclusive", lambda v, b: v >= b, ">="),
                ("max_inclusive", lambda v, b: v <= b, "<="),
                ("min_exclusive", lambda v, b: v > b, ">"),
                ("max_exclusive", lambda v, b: v < b, "<"),
            ]
            for key, holds, sign in bounds:
                if key in md and not holds(value, decimal.Decimal(str(md[key]))):
                    self.problem(path, f"{value} is not {sign} {md[key]} ({key})")

    # ---- the parsed dataclass tree ----------------------------------------------------
    def walk(self, obj, path: str):
        cls = type(obj)
        hints = models.type_hints(cls)
        present = 0
        for f in dataclasses.fields(cls):
            md = dict(f.metadata)
            kind = md.get("type")
            name = md.get("name", f.name)
            value = getattr(obj, f.name)
            listed = models.is_list(hints[f.name])
            if kind == "Wildcard":
                continue
            here = f"{path}/@{name}" if kind == "Attribute" else (
                f"{path}/{name}" if kind == "Element" else path
            )
            if listed:
                count = len(value)
                lo = md.get("min_occurs", 0)
                hi = md.get("max_occurs")
                if count < lo:
                    self.problem(here, f"occurs {count} times; min_occurs is {lo}")
                if hi is not None and count > hi:
                    self.problem(here, f"occurs {count} times; max_occurs is {hi}")
                if count:
                    present += 1
                items = [(f"{here}[{i + 1}]", item) for i, item in enumerate(value)]
            else:
                if value is None:
                    if md.get("required"):
                        what = "attribute" if kind == "Attribute" else ("value" if kind is None else "element")
                        self.problem(here, f"required {what} is missing")
                    continue
                present += 1
                items = [(here, value)]
            for item_path, item in items:
                if dataclasses.is_dataclass(item):
                    self.walk(item, item_path)
                else:
                    self.facets(item_path, item, md)
        if models.is_choice(cls) and present != 1:
            self.problem(path, f"{models.base_name(cls)} is a choice: exactly one alternative must be present, found {present}")

    # ---- the raw XML tree -------------------------------------------------------------
    def raw(self, element, cls, path: str, namespace: str, message_id: str):
        if (element.text or "").strip():
            self.problem(path, f"text {element.text.strip()!r} in element-only content")
        fields = models.element_fields(cls)
        order = {name: index for index, (name, _, _, _) in enumerate(fields)}
        by_name = {name: (f, tp, listed) for name, f, tp, listed in fields}
        attributes = {f.metadata.get("name", f.name) for f in dataclasses.fields(cls) if f.metadata.get("type") == "Attribute"}
        for attribute in element.attrib:
            if local(attribute)[1] not in attributes:
                self.problem(path, f"attribute {attribute} is not declared")
        last = -1
        counts: dict[str, int] = {}
        for child in element:
            if not isinstance(child.tag, str):
                continue  # comments, processing instructions
            if (child.tail or "").strip():
                self.problem(path, f"text {child.tail.strip()!r} in element-only content")
            child_ns, name = local(child.tag)
            child_path = f"{path}/{name}"
            if child_ns != namespace or name not in order:
                self.problem(child_path, f"element {child.tag} is not allowed in {models.base_name(cls)}")
                continue
            if order[name] < last:
                self.problem(child_path, f"out of XSD sequence order in {models.base_name(cls)}")
            last = max(last, order[name])
            counts[name] = counts.get(name, 0) + 1
            f, tp, listed = by_name[name]
            if not listed and counts[name] > 1:
                self.problem(child_path, "repeated, but occurs at most once")
            if models.is_complex(tp) and models.has_wildcard(tp):
                self.raw_envelope(child, child_path, message_id)
            elif models.is_complex(tp) and models.element_fields(tp):
                self.raw(child, tp, child_path, namespace, message_id)
            else:
                declared = set()
                if models.is_complex(tp):
                    declared = {g.metadata.get("name", g.name) for g in dataclasses.fields(tp) if g.metadata.get("type") == "Attribute"}
                for attribute in child.attrib:
                    if local(attribute)[1] not in declared:
                        self.problem(child_path, f"attribute {attribute} is not declared")
                if len(child):
                    self.problem(child_path, "a simple element holds child elements")

    def raw_envelope(self, envelope, path: str, message_id: str):
        children = [c for c in envelope if isinstance(c.tag, str)]
        if len(children) != 1:
            self.problem(path, f"an envelope holds exactly one element, found {len(children)}")
            return
        content = children[0]
        namespace, name = local(content.tag)
        if namespace != ISM_SUPPLEMENTARY_NS:
            return
        allowed = ISM_DATA.get(message_id, [])
        content_path = f"{path}/{name}"
        if name != "IsmData":
            self.problem(content_path, "Isthmus supplementary data is IsmData")
            return
        self.raw_simple_sequence(content, content_path, allowed, namespace, nested=ISM_DATA_CHILDREN)

    def raw_simple_sequence(self, element, path, allowed, namespace, nested=None):
        last = -1
        seen = set()
        for child in element:
            if not isinstance(child.tag, str):
                continue
            child_ns, name = local(child.tag)
            child_path = f"{path}/{name}"
            if child_ns != namespace or name not in allowed:
                self.problem(child_path, f"not allowed here (expected {', '.join(allowed)})")
                continue
            if allowed.index(name) < last or name in seen:
                self.problem(child_path, "out of order or repeated")
            last = allowed.index(name)
            seen.add(name)
            if nested and name in nested:
                self.raw_simple_sequence(child, child_path, nested[name], namespace)
                required = [n for n in nested[name] if n not in ISM_DATA_OPTIONAL]
                missing = [n for n in required if child.find(f"{{{namespace}}}{n}") is None]
                for n in missing:
                    self.problem(f"{child_path}/{n}", "required element is missing")
            elif not (child.text or "").strip():
                self.problem(child_path, "empty value")


def check_document(data: bytes) -> list[str]:
    """Every problem of one ISO 20022 document; empty if it passes."""
    checker = Checker()
    try:
        root = ET.fromstring(data)
    except ET.ParseError as error:
        return [f"/: not well-formed XML: {error}"]
    namespace, name = local(root.tag)
    message_id = None
    for candidate in models.MESSAGES:
        if models.namespace(candidate) == namespace:
            message_id = candidate
    if name != "Document" or message_id is None:
        return [f"/{name}: root must be Document in the namespace of {', '.join(models.MESSAGES)}; found {root.tag}"]
    cls = models.root_class(message_id)
    try:
        parsed = XmlParser(config=STRICT).from_bytes(data, cls)
    except Exception as error:  # xsdata raises ParserError, ConverterError, ...
        first_line = str(error).strip().splitlines()
        return [f"/Document: strict xsdata parse failed: {' '.join(first_line)}"]
    checker.walk(parsed, "/Document")
    checker.raw(root, cls, "/Document", namespace, message_id)
    return checker.problems


def unwrap_document(data: bytes) -> bytes:
    """The Document of a corpus input, taken out of an AppHdr envelope if there is one."""
    root = ET.fromstring(data)
    if local(root.tag)[1] == "Document":
        return data
    for child in root:
        if isinstance(child.tag, str) and local(child.tag)[1] == "Document":
            namespace = local(child.tag)[0]
            ET.register_namespace("", namespace)
            return ET.tostring(child, encoding="utf-8", xml_declaration=True)
    raise ValueError("no Document in the corpus input")


# ---- the self-test: a check without teeth passes everything ---------------------------

GOOD_SESE023 = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:sese.023.001.11">
  <SctiesSttlmTxInstr>
    <TxId>SEME-XNYS-000001</TxId>
    <SttlmTpAndAddtlParams>
      <SctiesMvmntTp>DELI</SctiesMvmntTp>
      <Pmt>APMT</Pmt>
      <CmonId>TRADE-2026-11-25-7781</CmonId>
    </SttlmTpAndAddtlParams>
    <TradDtls>
      <TradDt><Dt><Dt>2026-11-25</Dt></Dt></TradDt>
      <SttlmDt><Dt><Dt>2026-11-27</Dt></Dt></SttlmDt>
    </TradDtls>
    <FinInstrmId><ISIN>US0378331005</ISIN></FinInstrmId>
    <QtyAndAcctDtls>
      <SttlmQty><Qty><Unit>1000</Unit></Qty></SttlmQty>
      <AcctOwnr><Id><AnyBIC>CHASUS33</AnyBIC></Id></AcctOwnr>
      <SfkpgAcct><Id>SAFE-SELLER-01</Id></SfkpgAcct>
    </QtyAndAcctDtls>
    <SttlmParams><SctiesTxTp><Cd>TRAD</Cd></SctiesTxTp></SttlmParams>
    <DlvrgSttlmPties>
      <Dpstry><Id><AnyBIC>DTCYUS33</AnyBIC></Id></Dpstry>
      <Pty1><Id><AnyBIC>CHASUS33</AnyBIC></Id></Pty1>
    </DlvrgSttlmPties>
    <RcvgSttlmPties>
      <Dpstry><Id><AnyBIC>DTCYUS33</AnyBIC></Id></Dpstry>
      <Pty1><Id><AnyBIC>DEUTDEFF</AnyBIC></Id><LEI>7LTWFZYICNSX8D621K86</LEI></Pty1>
    </RcvgSttlmPties>
    <SttlmAmt><Amt Ccy="USD">231450.00</Amt><CdtDbtInd>CRDT</CdtDbtInd></SttlmAmt>
  </SctiesSttlmTxInstr>
</Document>
"""

NS023 = "{urn:iso:std:iso:20022:tech:xsd:sese.023.001.11}"


def _mutate(transform):
    ET.register_namespace("", NS023[1:-1])
    root = ET.fromstring(GOOD_SESE023.encode())
    transform(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _find(root, path):
    return root.find("/".join(NS023 + step for step in path.split("/")))


def _remove(path):
    def transform(root):
        parent_path, _, name = path.rpartition("/")
        parent = _find(root, parent_path)
        parent.remove(_find(root, path))
    return transform


def _set(path, text):
    def transform(root):
        _find(root, path).text = text
    return transform


def _add(parent_path, name, text, index=None):
    def transform(root):
        parent = _find(root, parent_path)
        element = ET.Element(NS023 + name)
        element.text = text
        if index is None:
            parent.append(element)
        else:
            parent.insert(index, element)
    return transform


def _swap_first_two(parent_path, first, second):
    def transform(root):
        parent = _find(root, parent_path)
        a, b = _find(root, f"{parent_path}/{first}"), _find(root, f"{parent_path}/{second}")
        ia, ib = list(parent).index(a), list(parent).index(b)
        parent.remove(b)
        parent.insert(ia, b)
    return transform


def _duplicate(path):
    def transform(root):
        parent_path, _, _ = path.rpartition("/")
        parent = _find(root, parent_path)
        element = _find(root, path)
        parent.insert(list(parent).index(element) + 1, copy.deepcopy(element))
    return transform


def _second_alternative(root):
    identifier = _find(root, "SctiesSttlmTxInstr/DlvrgSttlmPties/Pty1/Id")
    proprietary = ET.SubElement(identifier, NS023 + "PrtryId")
    ET.SubElement(proprietary, NS023 + "Id").text = "X1"
    ET.SubElement(proprietary, NS023 + "Issr").text = "ME"


def _empty_choice(root):
    identifier = _find(root, "SctiesSttlmTxInstr/DlvrgSttlmPties/Pty1/Id")
    for child in list(identifier):
        identifier.remove(child)


def _attribute(path, name, value):
    def transform(root):
        _find(root, path).set(name, value)
    return transform


def _text_in_complex(root):
    _find(root, "SctiesSttlmTxInstr/TradDtls").text = "stray text"


def _rename_root(root):
    root.tag = NS023 + "Doc"


def _foreign_element(root):
    parent = _find(root, "SctiesSttlmTxInstr")
    parent.insert(1, ET.Element("{urn:example:other}TxId"))


# (what is broken, how, a phrase the report of that breakage must contain)
MUTATIONS = [
    ("drop required TxId", _remove("SctiesSttlmTxInstr/TxId"), "TxId: required element is missing"),
    ("drop required TradDtls/SttlmDt", _remove("SctiesSttlmTxInstr/TradDtls/SttlmDt"), "SttlmDt: required element is missing"),
    ("drop required SttlmAmt/CdtDbtInd", _remove("SctiesSttlmTxInstr/SttlmAmt/CdtDbtInd"), "CdtDbtInd: required element is missing"),
    ("drop required Amt/@Ccy", lambda r: _find(r, "SctiesSttlmTxInstr/SttlmAmt/Amt").attrib.pop("Ccy"), "@Ccy: required attribute is missing"),
    ("break ISIN pattern", _set("SctiesSttlmTxInstr/FinInstrmId/ISIN", "us0378331005"), "ISIN: 'us0378331005' does not match pattern"),
    ("break BIC pattern", _set("SctiesSttlmTxInstr/DlvrgSttlmPties/Pty1/Id/AnyBIC", "CHAS-US33"), "AnyBIC: 'CHAS-US33' does not match pattern"),
    ("break LEI pattern", _set("SctiesSttlmTxInstr/RcvgSttlmPties/Pty1/LEI", "7LTWFZYICNSX8D621K8X"), "LEI: '7LTWFZYICNSX8D621K8X' does not match pattern"),
    ("break Ccy pattern", _attribute("SctiesSttlmTxInstr/SttlmAmt/Amt", "Ccy", "usd"), "@Ccy: 'usd' does not match pattern"),
    ("exceed max_length (Max35Text)", _set("SctiesSttlmTxInstr/TxId", "X" * 36), "is longer than max_length 35"),
    ("empty Max35Text (min_length)", _set("SctiesSttlmTxInstr/SttlmTpAndAddtlParams/CmonId", ""), "shorter than min_length 1"),
    ("exceed fraction_digits", _set("SctiesSttlmTxInstr/SttlmAmt/Amt", "1.123456"), "fraction_digits is 5"),
    ("exceed total_digits", _set("SctiesSttlmTxInstr/QtyAndAcctDtls/SttlmQty/Qty/Unit", "1234567890123456789"), "total_digits is 18"),
    ("break min_inclusive", _set("SctiesSttlmTxInstr/SttlmAmt/Amt", "-5"), "(min_inclusive)"),
    ("code outside its list", _set("SctiesSttlmTxInstr/SttlmTpAndAddtlParams/SctiesMvmntTp", "XXXX"), "is not a valid `ReceiveDelivery1Code`"),
    ("not a date", _set("SctiesSttlmTxInstr/TradDtls/SttlmDt/Dt/Dt", "2026-13-27"), "is not a valid `XmlDate`"),
    ("not a decimal", _set("SctiesSttlmTxInstr/QtyAndAcctDtls/SttlmQty/Qty/Unit", "1,5"), "is not a valid `Decimal`"),
    ("unknown element", _add("SctiesSttlmTxInstr", "Foo", "bar", 1), "Unknown property"),
    ("element of another namespace", _foreign_element, "{urn:example:other}TxId"),
    ("unknown attribute on a simple element", _attribute("SctiesSttlmTxInstr/TxId", "x", "1"), "attribute x is not declared"),
    ("unknown attribute on a complex element", _attribute("SctiesSttlmTxInstr/TradDtls", "x", "1"), "Unknown attribute"),
    ("out of sequence order", _swap_first_two("SctiesSttlmTxInstr", "TradDtls", "FinInstrmId"), "out of XSD sequence order"),
    ("single element repeated", _duplicate("SctiesSttlmTxInstr/TxId"), "TxId"),
    ("two alternatives of a choice", _second_alternative, "exactly one alternative must be present, found 2"),
    ("no alternative of a choice", _empty_choice, "exactly one alternative must be present, found 0"),
    ("text in element-only content", _text_in_complex, "in element-only content"),
    ("wrong root element", _rename_root, "root must be Document"),
]


GOOD_SESE024 = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:sese.024.001.12">
  <SctiesSttlmTxStsAdvc>
    <TxId><AcctOwnrTxId>SEME-1</AcctOwnrTxId></TxId>
    <MtchgSts><Umtchd><Rsn><Cd><Cd>OTHR</Cd></Cd><AddtlRsnInf>UNMATCHED_QUANTITY: 5 vs 6</AddtlRsnInf></Rsn></Umtchd></MtchgSts>
    <SplmtryData>
      <PlcAndNm>/Document/SctiesSttlmTxStsAdvc</PlcAndNm>
      <Envlp>
        <IsmData xmlns="urn:isthmus:ism:1:splmtry"><Rsn><Cd>UNMATCHED_QUANTITY</Cd><Txt>5 vs 6</Txt></Rsn></IsmData>
      </Envlp>
    </SplmtryData>
  </SctiesSttlmTxStsAdvc>
</Document>
"""

# Breakages of Isthmus's own supplementary data, with the phrase that must report them.
SUPPLEMENTARY_MUTATIONS = [
    ("unknown element in IsmData", lambda x: x.replace("<Rsn><Cd>UNM", "<Foo>1</Foo><Rsn><Cd>UNM"), "IsmData/Foo: not allowed here"),
    ("IsmData reason without its text", lambda x: x.replace("<Txt>5 vs 6</Txt>", ""), "Rsn/Txt: required element is missing"),
    ("two elements in an envelope", lambda x: x.replace("</IsmData>", "</IsmData><Other xmlns='urn:x'/>"), "an envelope holds exactly one element"),
    ("choice with no reason and a reason", lambda x: x.replace("<Umtchd><Rsn>", "<Umtchd><NoSpcfdRsn>NORE</NoSpcfdRsn><Rsn>"), "exactly one alternative must be present, found 2"),
    ("Max210Text exceeded", lambda x: x.replace("5 vs 6</AddtlRsnInf>", "x" * 300 + "</AddtlRsnInf>"), "longer than max_length 210"),
]


def self_test(report) -> bool:
    ok = True
    problems = check_document(GOOD_SESE023.encode())
    if problems:
        ok = False
        for problem in problems:
            report(False, "self-test good document", problem)
    else:
        report(True, "self-test good document passes", None)
    for label, transform, phrase in MUTATIONS:
        data = _mutate(transform)
        problems = check_document(data)
        caught = [problem for problem in problems if phrase in problem]
        if caught:
            report(True, f"self-test catches: {label} ({caught[0]})", None)
        elif problems:
            ok = False
            report(False, f"self-test {label}", f"reported, but not as expected ({phrase!r}): {problems[0]}")
        else:
            ok = False
            report(False, f"self-test {label}", "the mutated document passed the check")
    good = check_document(GOOD_SESE024.encode())
    if good:
        ok = False
        report(False, "self-test good status document", good[0])
    else:
        report(True, "self-test good status document passes", None)
    for label, transform, phrase in SUPPLEMENTARY_MUTATIONS:
        problems = check_document(transform(GOOD_SESE024).encode())
        caught = [problem for problem in problems if phrase in problem]
        if caught:
            report(True, f"self-test catches: {label} ({caught[0]})", None)
        else:
            ok = False
            report(False, f"self-test {label}", f"not reported as expected ({phrase!r}): {problems[:1]}")
    return ok


# ---- documents from the Isthmus binary -------------------------------------------------


def binary() -> Path:
    path = Path(os.environ.get("ISTHMUS_BIN", "target/debug/isthmus"))
    return path if path.is_absolute() else REPO / path


def translate(source: str, target: str, path: Path) -> tuple[int, bytes, str]:
    run = subprocess.run(
        [str(binary()), "translate", "--from", source, "--to", target, str(path)],
        capture_output=True,
        timeout=60,
    )
    return run.returncode, run.stdout, run.stderr.decode("utf-8", "replace").strip()


def ism_inputs() -> list[Path]:
    files = sorted(CORPUS.glob("*.ism.json"))
    if MT_CORPUS.is_dir():
        files += sorted(MT_CORPUS.rglob("*.ism.json"))
    return files


def as_kind_and_body(output: bytes, kind: str):
    """The CLI's ISM output as {"kind", "body"}: it may print an envelope, a
    {"kind", "body"} object or a bare body."""
    value = json.loads(output)
    if isinstance(value, dict) and "body" in value and ("kind" in value or "version" in value):
        return {"kind": value.get("kind", kind), "body": value["body"]}
    return {"kind": kind, "body": value}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--self-test", action="store_true", help="only run the self-test")
    parser.add_argument("--tables", action="store_true", help="only check the Rust schema tables")
    parser.add_argument("--xml", nargs="*", default=[], help="only check these XML files")
    args = parser.parse_args()

    passed = failed = 0

    def report(ok: bool, label: str, problem: str | None):
        nonlocal passed, failed
        if ok:
            passed += 1
            print(f"ok {label}")
        else:
            failed += 1
            print(f"FAIL {label}: {problem}")

    def check(label: str, data: bytes):
        """One document counts once; each of its problems gets its own line."""
        nonlocal passed, failed
        problems = check_document(data)
        if not problems:
            report(True, label, None)
            return
        failed += 1
        for problem in problems:
            print(f"FAIL {label}: {problem}")

    only = args.self_test or args.tables or args.xml
    if args.self_test or not only:
        self_test(report)
    if args.tables or not only:
        sys.path.insert(0, str(HERE / "python"))
        import iso20022_schema_tables as generator

        expected = generator.generate()
        actual = TABLES.read_text(encoding="utf-8") if TABLES.exists() else ""
        if expected == actual:
            report(True, "Rust schema tables match python-iso20022's models", None)
        else:
            report(False, "Rust schema tables", f"{TABLES.relative_to(REPO)} differs from what iso20022_schema_tables.py generates; regenerate it")
    for name in args.xml:
        check(name, Path(name).read_bytes())
    if not only:
        if not binary().exists():
            report(False, "isthmus binary", f"{binary()} does not exist; run cargo build first or set ISTHMUS_BIN")
        else:
            for path in ism_inputs():
                label = str(path.relative_to(REPO))
                kind = json.loads(path.read_text(encoding="utf-8")).get("kind")
                if kind not in WRITTEN_KINDS:
                    continue  # the ISO 20022 dialect writes only four kinds
                status, output, error = translate("ism", "iso20022", path)
                if status != 0:
                    report(False, label, f"translate --from ism --to iso20022 exited {status}: {error}")
                    continue
                check(f"{label} -> iso20022", output)
            with tempfile.TemporaryDirectory() as scratch:
                for vector in sorted(VECTORS.glob("*.json")):
                    message = json.loads(vector.read_text(encoding="utf-8")).get("input", {})
                    if message.get("kind") not in WRITTEN_KINDS:
                        continue
                    label = str(vector.relative_to(REPO))
                    ism = Path(scratch) / vector.name
                    ism.write_text(json.dumps({"kind": message["kind"], "body": message["body"]}), encoding="utf-8")
                    status, output, error = translate("ism", "iso20022", ism)
                    if status != 0:
                        report(False, label, f"translate --from ism --to iso20022 exited {status}: {error}")
                        continue
                    check(f"{label} -> iso20022", output)
                for xml_path in sorted(CORPUS.glob("*.xml")):
                    label = str(xml_path.relative_to(REPO))
                    check(f"{label} (corpus input Document)", unwrap_document(xml_path.read_bytes()))
                    expected = xml_path.with_name(xml_path.name[: -len(".xml")] + ".ism.json")
                    kind = json.loads(expected.read_text(encoding="utf-8"))["kind"] if expected.exists() else None
                    status, output, error = translate("iso20022", "ism", xml_path)
                    if status != 0:
                        report(False, label, f"translate --from iso20022 --to ism exited {status}: {error}")
                        continue
                    ism = Path(scratch) / (xml_path.stem + ".ism.json")
                    ism.write_text(json.dumps(as_kind_and_body(output, kind)), encoding="utf-8")
                    status, output, error = translate("ism", "iso20022", ism)
                    if status != 0:
                        report(False, label, f"round trip: translate --from ism --to iso20022 exited {status}: {error}")
                        continue
                    check(f"{label} -> ism -> iso20022", output)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
