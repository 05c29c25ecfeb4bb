"""Languages: interface strings and number formats for Danish and English.

Danish uses a decimal comma and a thousands point (``1.942``, ``79,4 %``);
English a decimal point and a thousands comma (``1,942``, ``79.4%``).
Interface strings live in ``data/report/i18n.yaml``, one entry per key with
``da`` and ``en``.
"""

from __future__ import annotations

import functools
import math

from .errors import InputError
from . import yamlio

from .paths import DATA_DIR

LANGS = ("da", "en")
NBSP = "\u00a0"


class LanguageError(InputError):
    pass


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise LanguageError(f"unknown language {lang!r}: choose one of {', '.join(LANGS)}")
    return lang


@functools.cache
def strings() -> dict:
    return yamlio.load_file(DATA_DIR / "report" / "i18n.yaml")


def t(key: str, lang: str, **values) -> str:
    """The interface string ``key`` in ``lang``, with ``{placeholders}`` filled."""
    try:
        text = strings()[key][check_lang(lang)]
    except KeyError:
        raise KeyError(f"no text {key!r} in data/report/i18n.yaml") from None
    return text.format(**values) if values else text


def number(x: float, lang: str, decimals: int = 0) -> str:
    """``1942`` -> ``1.942`` (da) / ``1,942`` (en); decimals with the local mark."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    s = f"{x:,.{decimals}f}"
    if check_lang(lang) == "da":
        s = s.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return s


def pct(x: float, lang: str, decimals: int = 0) -> str:
    """A percentage: ``79 %`` in Danish (with a no-break space), ``79%`` in English."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return number(x, lang, decimals) + (f"{NBSP}%" if lang == "da" else "%")


def p_value(p: float, lang: str) -> str:
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    if p < 0.001:
        return "< " + number(0.001, lang, 3)
    return number(p, lang, 3)


def edition_name(edition: str, number: int | None, lang: str) -> str:
    """``2. udgave (2018)`` / ``2nd edition (2018)``; the year alone without a number."""
    if not number:
        return edition
    if lang == "en":
        suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
        return t("edition_name", lang, number=f"{number}{suffix}", edition=edition)
    return t("edition_name", lang, number=f"{number}.", edition=edition)
