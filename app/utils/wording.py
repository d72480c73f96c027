"""Punctuation that follows the page's language (issue 20): what joins a list of names, what sets a label
before its value, what brackets an aside. Chinese pages write 、 ； ： （） full-width; English ones ", ",
"; ", ": " and " (…)". A text with words of its own puts its punctuation inside its msgid instead
(``_('数量：%(n)s')``); these are for the joints between texts that are data or already translated."""
from __future__ import annotations

from flask import has_request_context
from flask_babel import get_locale

SEPARATORS = {"list": ("、", ", "), "clauses": ("；", "; "), "words": ("，", ", ")}


def chinese() -> bool:
    """Whether the current language writes full-width punctuation (outside a request: the default, Chinese)."""
    if not has_request_context():
        return True
    locale = get_locale()
    return locale is None or locale.language == "zh"


def join_list(items, kind: str = "list") -> str:
    """Names as one text: 甲、乙、丙 in Chinese, "A, B, C" in English; ``kind="clauses"`` joins sentences (；)."""
    zh, en = SEPARATORS[kind]
    return (zh if chinese() else en).join(str(item) for item in items if item is not None and item != "")


def with_colon(label) -> str:
    """A label before its value: 数量： / Quantity: ."""
    return f"{label}：" if chinese() else f"{label}: "


def aside(text) -> str:
    """An aside after a name: （编码） / " (code)"; empty when there is nothing to say."""
    if text is None or text == "":
        return ""
    return f"（{text}）" if chinese() else f" ({text})"


def named(name, detail) -> str:
    """A name with its code or detail: 铜版纸（M001） / "Coated paper (M001)"."""
    return f"{name}{aside(detail)}"


def separator(kind: str = "list") -> str:
    """The joint ``join_list`` puts between items, for a template that writes its items one by one."""
    zh, en = SEPARATORS[kind]
    return zh if chinese() else en


def tree_indent(depth: int) -> str:
    """What sets a tree's item in by ``depth`` levels in a select: ideographic spaces in Chinese, no-break spaces
    (two a level, about as wide) in English."""
    return ("\u3000" if chinese() else "\u00a0\u00a0") * max(depth, 0)
