"""Reading YAML that a person wrote or a stranger sent: line numbers kept for every value,
duplicate keys, anchors/aliases ("billion laughs") and oversized files refused.
Values come back as LDict / LList / scalars, each container knowing the line of each item."""

from __future__ import annotations

import re
from typing import Any

import yaml

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_BYTES = 64 * 1024 * 1024


class YamlProblem(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class LDict(dict):  # type: ignore[type-arg]
    line: int = 0
    lines: dict[str, int]


class LList(list):  # type: ignore[type-arg]
    line: int = 0
    lines: list[int]


_scalar_loader = yaml.SafeLoader("")

_INT_TAG, _FLOAT_TAG = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_PLAIN_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_PLAIN_FLOAT = re.compile(r"[-+]?([0-9]+\.[0-9]*|\.[0-9]+)")


def _number_problem(node: yaml.ScalarNode) -> str | None:
    """YAML 1.1 reads `1:30` as 90, `0x10` as 16, `010` as 8, `0b11` as 3, `1_000` as 1000 and
    `.inf` as infinity: a person meant none of these.  Only plain decimals are numbers here."""
    if node.style or node.tag not in (_INT_TAG, _FLOAT_TAG):
        return None  # quoted, or not resolved as a number
    raw = node.value
    if (_PLAIN_INT if node.tag == _INT_TAG else _PLAIN_FLOAT).fullmatch(raw):
        return None
    body = raw.lstrip("+-").lower()
    what = ("a sexagesimal (base 60) number" if ":" in body else
            "a hexadecimal number" if body.startswith("0x") else
            "a binary number" if body.startswith("0b") else
            "a number with underscores" if "_" in body else
            "an octal number" if node.tag == _INT_TAG and body.startswith("0") else
            "not a plain decimal number")
    return (f"'{raw}' is {what} in YAML 1.1; write plain decimal digits "
            "(or quote it if it is text)")


def _convert(node: yaml.Node, seen: set[int]) -> Any:
    if id(node) in seen:
        raise YamlProblem(node.start_mark.line + 1,
                          "anchors and aliases (*name) are not allowed in an s2s file")
    seen.add(id(node))
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out = LDict()
        out.line = line
        out.lines = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlProblem(key_node.start_mark.line + 1,
                                  "merge keys (<<) are not allowed in an s2s file")
            key = _convert(key_node, seen)
            if not isinstance(key, str | int):
                raise YamlProblem(key_node.start_mark.line + 1, "keys must be plain text")
            key = str(key)
            if key in out:
                raise YamlProblem(key_node.start_mark.line + 1,
                                  f"duplicate key '{key}' (first on line {out.lines[key]})")
            out.lines[key] = key_node.start_mark.line + 1
            out[key] = _convert(value_node, seen)
        return out
    if isinstance(node, yaml.SequenceNode):
        seq = LList()
        seq.line = line
        seq.lines = []
        for item in node.value:
            seq.lines.append(item.start_mark.line + 1)
            seq.append(_convert(item, seen))
        return seq
    problem = _number_problem(node) if isinstance(node, yaml.ScalarNode) else None
    if problem:
        raise YamlProblem(line, problem)
    constructor = _scalar_loader.yaml_constructors.get(node.tag)
    if constructor is None:
        raise YamlProblem(line, f"unsupported YAML tag {node.tag}")
    try:
        return constructor(_scalar_loader, node)
    except (yaml.YAMLError, ValueError) as exc:
        raise YamlProblem(line, f"cannot read value: {exc}") from exc


def load(data: bytes) -> Any:
    """Parse YAML bytes into LDict/LList; raises YamlProblem with a line number."""
    if len(data) > MAX_BYTES:
        raise YamlProblem(1, f"file is {len(data):,} bytes; the limit is {MAX_BYTES:,}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise YamlProblem(line, f"not UTF-8 text (byte 0x{data[exc.start]:02x})") from exc
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.reader.ReaderError as exc:  # a NUL or other control character: its own line
        pos = exc.position if isinstance(exc.position, int) else 0
        line = text[:pos].count("\n") + 1
        char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1]
                                                                         or "\0")
        raise YamlProblem(line, f"control character U+{char:04X} is not allowed in an s2s "
                                "file") from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlProblem(line, f"malformed YAML: {exc.problem or exc.context}") from exc
    except yaml.YAMLError as exc:
        raise YamlProblem(1, f"malformed YAML: {exc}") from exc
    if node is None:
        return None
    return _convert(node, set())
