"""Script-based language identification for English, Vietnamese and Chinese, and text folding."""

from __future__ import annotations

import re
import unicodedata

HAN = "\u3400-\u9fff\uf900-\ufaff"  # CJK ideographs (with extension A and compatibility ideographs), for [...] classes
DATE_MARK = re.compile(r"^\s*date\s+\d{4}-\d{2}-\d{2}\s*")  # the "date yyyy-mm-dd" line some documents open with
_CJK = re.compile(f"[{HAN}]")
_LATIN = re.compile(r"[A-Za-zÀ-ỹ]")
# Letters that occur in Vietnamese but not in plain English text.
_VIETNAMESE = re.compile(r"[ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ]", re.IGNORECASE)


def detect_language(text: str) -> str:
    """Return 'zh', 'vi' or 'en' from the characters of `text` ('en' when unsure)."""
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    if cjk and cjk >= latin / 4:
        return "zh"
    words = re.findall(r"[^\W\d_]+", text)
    if words and sum(bool(_VIETNAMESE.search(w)) for w in words) / len(words) >= 0.15:
        return "vi"
    return "en"


# A code-like token, written alike in every language: RateLimitBurst, journald.conf, Ed25519, Storage=, /run/log
_CODE = re.compile(f"[^\\s{HAN}]*(?:[a-z][A-Z]|[\\d_./=])[^\\s{HAN}]*")


def question_language(text: str) -> str:
    """The language of a question, judged on its words less the code-like tokens that keep their spelling in every
    language: "RateLimitIntervalSec 和 RateLimitBurst 的默认值是多少？" is Chinese."""
    words = _CODE.sub(" ", text)
    return detect_language(words if re.search(r"[^\W\d_]", words) else text)


def fold(text: str) -> str:
    """Lower-case, strip diacritics (đ→d), NFKC, dashes as spaces, single spaces: for loose matching."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("đ", "d")
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    text = re.sub(r"[\-\u2010-\u2015\u2212]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


_WORD = re.compile(r"[^\W\d_][\w'’.-]*")


def without_names(text: str) -> str:
    """`text` less its proper names: capitalized Latin-script words ("Đặng Hoàng Giang", "ASEAN"), which keep
    their own spelling whatever the language around them."""
    return _WORD.sub(lambda word: " " if word.group(0)[0].isupper() else word.group(0), text)


def written_in(text: str, language: str, names: bool = False) -> bool:
    """`text` reads as `language`, proper names left out unless `names`, and holds no Vietnamese words left
    untranslated (see `foreign_words`); text without letters fits any language."""
    words = text if names else without_names(text)
    if foreign_words(text, language):
        return False
    return not re.search(r"[^\W\d_]", words) or detect_language(words) == language


_LATIN_WORD = re.compile(r"[A-Za-zÀ-ỹ]+")


def foreign_words(text: str, language: str) -> list[str]:
    """The Vietnamese words an English or Chinese text holds ("kinh tế số" in a Chinese list of fields): left
    untranslated. In English a capitalized one is a name and keeps its spelling ("Phạm Minh Chính"); Chinese writes
    names in its own script (范明政), so there every one counts."""
    if language == "vi":
        return []
    words = _LATIN_WORD.findall(text)
    return [w for w in words if _VIETNAMESE.search(w) and (language == "zh" or not w[0].isupper())]
