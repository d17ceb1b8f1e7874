"""Loads the python-iso20022 dataclass models Isthmus translates, and helpers to read
their xsdata field metadata. Shared by the schema check, the table generator and the
corpus generator.

python-iso20022 0.3.0's `head` package does not import (its `AppHdr` classes name a
base class that the module never defines), so the business application header
models are loaded from their source with that one name corrected.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import importlib.util
import sys
import types
import typing
from pathlib import Path

#: message id -> (python module, root class, building block element)
MESSAGES = {
    "sese.023.001.11": ("python_iso20022.sese.sese_023_001_11.models", "Sese02300111", "SctiesSttlmTxInstr"),
    "sese.024.001.12": ("python_iso20022.sese.sese_024_001_12.models", "Sese02400112", "SctiesSttlmTxStsAdvc"),
    "sese.025.001.11": ("python_iso20022.sese.sese_025_001_11.models", "Sese02500111", "SctiesSttlmTxConf"),
    "semt.002.001.11": ("python_iso20022.semt.semt_002_001_11.models", "Semt00200111", "SctiesBalCtdyRpt"),
}

NAMESPACE_PREFIX = "urn:iso:std:iso:20022:tech:xsd:"


def namespace(message_id: str) -> str:
    return NAMESPACE_PREFIX + message_id


def suffix(message_id: str) -> str:
    """The suffix python-iso20022 appends to every class name of a message."""
    area, a, b, c = message_id.split(".")
    return area.capitalize() + a + b + c


def message_module(message_id: str):
    module, _, _ = MESSAGES[message_id]
    return importlib.import_module(module)


def root_class(message_id: str):
    module, root, _ = MESSAGES[message_id]
    return getattr(importlib.import_module(module), root)


def load_head(version: str):
    """The head.001.001.<version> models, with python-iso20022 0.3.0's broken base
    class name (`BusinessApplicationHeaderV02`) corrected in memory."""
    name = f"isthmus_head_001_001_{version}"
    if name in sys.modules:
        return sys.modules[name]
    import python_iso20022  # noqa: F401  (locates the installed package)

    spec = importlib.util.find_spec("python_iso20022")
    base = Path(next(iter(spec.submodule_search_locations)))
    path = base / "head" / f"head_001_001_{version}" / "models.py"
    source = path.read_text(encoding="utf-8")
    broken = f"(BusinessApplicationHeaderV{version}, ISO20022MessageElement)"
    fixed = f"(BusinessApplicationHeaderV{version}Head001001{version})"
    source = source.replace(broken, fixed)
    module = types.ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module
    exec(compile(source, str(path), "exec"), module.__dict__)
    return module


def inner_type(annotation):
    """`Optional[X]` / `list[X]` -> X."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if args:
        return inner_type(args[0])
    return annotation


def is_list(annotation) -> bool:
    return typing.get_origin(annotation) is list


def type_hints(cls):
    return typing.get_type_hints(cls, vars(sys.modules[cls.__module__]))


def element_fields(cls):
    """(xml name, field, inner type, is_list) for each child element, in XSD order."""
    hints = type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        if f.metadata.get("type") != "Element":
            continue
        out.append((f.metadata.get("name", f.name), f, inner_type(hints[f.name]), is_list(hints[f.name])))
    return out


def has_wildcard(cls) -> bool:
    """Whether a type's content is an `xs:any` wildcard (e.g. SupplementaryDataEnvelope1)."""
    return any(f.metadata.get("type") == "Wildcard" for f in dataclasses.fields(cls))


def is_enum(tp) -> bool:
    return isinstance(tp, type) and issubclass(tp, enum.Enum)


def is_complex(tp) -> bool:
    return dataclasses.is_dataclass(tp)


def is_choice(cls) -> bool:
    """ISO 20022 names every `xs:choice` type `...Choice`; xsdata flattens a choice
    into optional fields, so "exactly one" is known from the name."""
    return "Choice" in cls.__name__


def occurs(f, listed: bool):
    """(min, max) occurrences of a child element; max None = unbounded."""
    md = f.metadata
    if listed:
        return md.get("min_occurs", 0), md.get("max_occurs")
    return (1 if md.get("required") else 0), 1


def base_name(cls) -> str:
    """The ISO 20022 type name: the class name without python-iso20022's message suffix."""
    name = cls.__name__
    for message_id in MESSAGES:
        s = suffix(message_id)
        if name.endswith(s) and name != s:
            return name[: -len(s)]
    for version in ("02", "04"):
        s = f"Head001001{version}"
        if name.endswith(s):
            return name[: -len(s)]
    return name
