"""City names: the spelling-insensitive keys they are looked up by, and their Russian form.

A key folds case, diacritics, ё/й and separators away, so "Санкт-Петербург" and
"санкт петербург" find the same city. geonames lists a city's names in every language without
saying which is the Russian one; `russian_name` picks it among the Cyrillic spellings.
"""

from __future__ import annotations

import re
import unicodedata

NON_WORD = re.compile(r"[\W_]+")
_SEPARATORS = (" ", "-", ".", "'", "’", ",", "(", ")")
_COMBINING = re.compile("[\u0300-\u036f]")
_CITY_PREFIX = re.compile(r"^\s*(?:г\.|гор\.|г\s|город\s)\s*")
_RUSSIAN_LETTERS = frozenset("абвгдеёжзийклмнопрстуфхцчшщъыьэюя")
_TRANSLIT = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
        "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
        "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
        "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
        "я": "ya",
    }
)  # fmt: skip
_TRANSLIT_SOFT_SIGN = str.maketrans({"ь": "'"})
_APOSTROPHES = str.maketrans({"’": "'", "ʹ": "'", "ʼ": "'", "`": "'"})
_IOTATED_E = re.compile(r"(^|[\s\-аеёиоуыэюяъь])е")
_YO = re.compile("ё")
_ADJECTIVE_ENDING = re.compile(r"[ыио]й\b")
# Spellings that Russian does not use but its neighbours do: Ukrainian "Омськ", "Череповець",
# Bulgarian "Москъва", pre-1918 "Новосибирьскъ", phonetic "Череповетс", "Брацк".
_NOT_RUSSIAN = re.compile(r"[сцз]ьк|ць\b|ъ(?![еёюя])|тс(?!к)|[ая]цк")
# Letters and endings that Russian has and those neighbours lack: "Грозный", "Казань".
_RUSSIAN_MARKS = re.compile(r"[ыэ]|ь\b")


def fold_lines(text: str) -> list[str]:
    """The lines of `text` with case, diacritics, ё/й and common separators folded away.

    Folding a whole newline-joined list in one call keeps building the index quick; `spelling_key`
    finishes a line off.
    """
    folded = _COMBINING.sub("", unicodedata.normalize("NFKD", text.casefold()))
    # Plain replaces take the usual separators at a fraction of a Unicode-aware regex's cost.
    for separator in _SEPARATORS:
        folded = folded.replace(separator, "")
    return folded.split("\n")


def _finish(folded: str) -> str:
    return folded if folded.isalnum() else NON_WORD.sub("", folded)


def spelling_key(text: str) -> str:
    """Spelling-insensitive form of a name, the same for "Санкт-Петербург" and "санкт петербург"."""
    return _finish(fold_lines(text.replace("\n", " "))[0])


def query_key(text: str) -> str:
    return spelling_key(_CITY_PREFIX.sub("", text.casefold(), count=1))


def is_russian(name: str) -> bool:
    letters = set(name.casefold())
    letters.difference_update(" -")
    return bool(letters) and letters <= _RUSSIAN_LETTERS


def _transliterations(russian: str) -> set[str]:
    """Keys of the Latin spellings geonames tends to use for a Russian name."""
    lower = russian.casefold()
    iotated = _IOTATED_E.sub(r"\1ye", lower)
    forms = {lower, iotated, _YO.sub("yo", iotated)}
    forms |= {_ADJECTIVE_ENDING.sub("y", form) for form in forms}
    return {spelling_key(form.translate(_TRANSLIT)) for form in forms}


def _soft_sign_forms(lower: str) -> set[str]:
    iotated = _IOTATED_E.sub(r"\1ye", lower)
    return {form.translate(_TRANSLIT_SOFT_SIGN).translate(_TRANSLIT) for form in (lower, iotated)}


def _one_edit_apart(a: str, b: str) -> bool:
    if len(a) > len(b):
        a, b = b, a
    if len(b) - len(a) > 1:
        return False
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i + 1 :] == b[i + 1 :] if len(a) == len(b) else a[i:] == b[i + 1 :]


def russian_name(own: list[str]) -> str | None:
    """The Russian name among a city's spellings (its geonames name first), or None.

    geonames romanises the Russian name of a Russian city, so a Cyrillic spelling that
    transliterates to the city's own name wins; for exonyms and foreign cities the Russian form
    is the one most other languages' spellings lie one edit away from.
    """
    spellings = [name for name in own if is_russian(name)]
    name_key = spelling_key(own[0])
    latin_names = [n for n in own if n and n[0] < "\u0250" and not n[0].islower()]
    latin = [spelling_key(name) for name in latin_names]
    latin_set = set(latin)
    latin_raw = {name.casefold().translate(_APOSTROPHES) for name in latin_names}

    def score(spelling: str) -> tuple[bool, bool, int, int, int, bool, int, int]:
        forms = _transliterations(spelling)
        lower = spelling.casefold()
        # geonames romanises the Russian name of a Russian city, so a match is decisive;
        romanised = name_key in forms
        marks = len(_RUSSIAN_MARKS.findall(lower))
        # for exonyms (Moscow) and foreign cities, the Russian form is the one most other
        # languages' spellings lie one edit away from.
        neighbours = sum(_one_edit_apart(f, k) for f in forms for k in latin)
        return (
            romanised,
            bool(forms & latin_set),
            -len(_NOT_RUSSIAN.findall(lower)),
            # Spellings of the romanised name differ in orthography ("Грозный", "Грозний");
            # for an exonym the closeness to other languages says more.
            marks if romanised else neighbours,
            neighbours if romanised else marks,
            # a soft sign that a romanisation kept as an apostrophe ("Ul'yanovsk");
            "ь" in lower and bool(_soft_sign_forms(lower) & latin_raw),
            # then hyphens over spaces, then brevity.
            -lower.count(" "),
            -len(lower),
        )

    return max(spellings, key=score) if spellings else None
