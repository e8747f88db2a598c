"""Rules for the parts of an utterance that are better read than guessed: numbers, positions, prices,
phone numbers and delivery details, in Chinese and English.

Each reader takes the normalised text and returns what it found and the text without it, so the
readers can run one after the other and leave the product words behind.
"""

import re
import unicodedata

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
CN_NUMBER = r"[\d一二两俩三四五六七八九十百千万]+"
EN_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "a couple of": 2, "a couple": 2, "a pair of": 2, "a dozen": 12, "single": 1,
}  # fmt: skip
EN_NUMBER = r"\d{1,3}|" + "|".join(sorted(EN_NUMBERS, key=len, reverse=True))
EN_ORDINALS = {
    "first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3, "fifth": 4, "5th": 4,
    "sixth": 5, "6th": 5, "seventh": 6, "eighth": 7, "ninth": 8, "tenth": 9, "last": -1, "top": 0,
}  # fmt: skip
CLASSIFIERS = "件个盒包瓶双只份罐袋支台本杯斤套把听条块片款顶副根"
YUAN = r"(?:\s*(?:yuan|rmb|cny|kuai|bucks|元|块钱|块))"
AMOUNT = r"(\d+(?:\.\d+)?|[一二两三四五六七八九十百千万]+)"
EN_AT_MOST = r"under|below|less than|cheaper than|up to|at most|no more than|max(?:imum)?|within|<=?"
MOBILE = r"(?<!\d)(?:\+?86[\s-]?)?(1[3-9]\d[\s-]?\d{4}[\s-]?\d{4})(?!\d)"


def normalize(text: str) -> str:
    """Return the text in NFKC form (full-width punctuation and digits made plain), lower-cased."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def is_chinese(text: str) -> bool:
    return bool(CJK.search(text))


def cn_number(text: str) -> int | None:
    """Return the value of "3", "两", "十二", "一百五十" and the like, or None."""
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        return int(text)
    total, current = 0, 0
    for char in text:
        if char in CN_DIGITS:
            current = CN_DIGITS[char]
        elif char in CN_UNITS:
            total += (current or 1) * CN_UNITS[char]
            current = 0
        else:
            return None
    return total + current


def number(text: str) -> int | None:
    text = text.strip().lower()
    return EN_NUMBERS[text] if text in EN_NUMBERS else cn_number(text)


def singular(word: str) -> str:
    if len(word) > 3 and word.endswith(("sses", "shes", "ches")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us")):
        return word[:-1]
    return word


def cut(pattern: str, text: str) -> tuple[re.Match | None, str]:
    """Find `pattern` in `text`; return the match and the text without it."""
    match = re.search(pattern, text)
    if match is None:
        return None, text
    return match, (text[: match.start()] + " " + text[match.end() :]).strip()


def prices(text: str) -> tuple[int | None, int | None, str]:
    """Take price limits out of the text; return (min_cents, max_cents, rest). Amounts are in yuan."""
    low = high = None

    def cents(value: str) -> int | None:
        amount = float(value) if re.fullmatch(r"\d+(?:\.\d+)?", value) else cn_number(value)
        return None if amount is None else round(amount * 100)

    rules = [
        (rf"between\s*¥?{AMOUNT}{YUAN}?\s*(?:and|to|-)\s*¥?{AMOUNT}{YUAN}?", "range"),
        (rf"¥?{AMOUNT}{YUAN}?\s*(?:-|~|到|至)\s*¥?{AMOUNT}{YUAN}", "range"),
        (rf"(?:{EN_AT_MOST})\s*¥?{AMOUNT}{YUAN}?", "max"),
        (rf"(?:不超过|不到|低于|少于|小于|最多|便宜于|在)\s*{AMOUNT}{YUAN}?\s*(?:以内|以下|之内|内)?", "max"),
        (rf"{AMOUNT}{YUAN}?\s*(?:以内|以下|之内|内)", "max"),
        (rf"(?:over|above|more than|at least|min(?:imum)?|>=?)\s*¥?{AMOUNT}{YUAN}", "min"),
        (rf"(?:高于|超过|多于|大于|至少)\s*{AMOUNT}{YUAN}?\s*(?:以上)?", "min"),
        (rf"{AMOUNT}{YUAN}?\s*(?:以上|起)", "min"),
    ]
    for pattern, kind in rules:
        match, rest = cut(pattern, text)
        if match is None:
            continue
        values = [cents(group) for group in match.groups()]
        if None in values:
            continue
        text = rest
        if kind == "range":
            low, high = sorted(values)
        elif kind == "max":
            high = values[0]
        else:
            low = values[0]
    return low, high, text


def ordinal(text: str) -> tuple[int | None, str]:
    """Take a position out of the text ("the second one", "第二个", "#3"); 0 is the first, -1 the last."""
    match, rest = cut(r"第\s*(" + CN_NUMBER + r")\s*(?:个|款|件|种|样|项|行|条)?", text)
    if match and cn_number(match.group(1)):
        return cn_number(match.group(1)) - 1, rest
    match, rest = cut(r"最后(?:一|那)?(?:个|款|件|种|样|项)", text)
    if match:
        return -1, rest
    match, rest = cut(r"(?:头|前面)(?:一|那)?(?:个|款|件)", text)
    if match:
        return 0, rest
    words = "|".join(EN_ORDINALS)
    match, rest = cut(rf"\b(?:the\s+)?({words})(?:\s+(?:one|item|product|line|option))?\b", text)
    if match:
        return EN_ORDINALS[match.group(1)], rest
    small = r"\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten"
    match, rest = cut(rf"(?:\bnumber|\bno\.|#|\bitem|\boption)\s*({small})\b", text)
    if match and (number(match.group(1)) or 0) >= 1:
        return number(match.group(1)) - 1, rest
    return None, text


def quantity(text: str) -> tuple[int | None, str]:
    """Take a quantity out of the text ("2 of those", "两件", "x3", "a couple of")."""
    match, rest = cut(rf"({CN_NUMBER})\s*[{CLASSIFIERS}]", text)
    if match and cn_number(match.group(1)):
        return cn_number(match.group(1)), rest
    match, rest = cut(rf"(?:加|来|要|买|拿)\s*({CN_NUMBER})(?![\d元块])", text)
    if match and cn_number(match.group(1)):
        return cn_number(match.group(1)), rest
    match, rest = cut(r"(?:\bx\s*(\d{1,3})\b|\b(\d{1,3})\s*x\b|×\s*(\d{1,3}))", text)
    if match:
        return int(next(group for group in match.groups() if group)), rest
    match, rest = cut(rf"\b({EN_NUMBER})\b(?!\s*(?:yuan|rmb|元|块|%|kg|g|ml|l|mm|cm)\b)", text)
    if match:
        return number(match.group(1)), rest
    return None, text


def new_quantity(text: str) -> tuple[int | None, str]:
    """Take the quantity a line should become ("make it 2", "change X to three", "改成3件")."""
    match, rest = cut(
        rf"(?:\b(?:to|=|at|it|that|this|them|those)\s*({EN_NUMBER})\b|(?:改成|改为|换成|变成|设为|调到|调成|调整为|改到|数量改|只要|还是|要)\s*"
        rf"({CN_NUMBER})\s*[{CLASSIFIERS}]?)",
        text,
    )
    if match:
        return number(match.group(1) or match.group(2)), rest
    return quantity(text)


REFER_ONE = r"\b(?:it|this one|that one|this|that|the one)\b|[这那]一?[个款件双只本种台把支条瓶盒包罐套]|它"
REFER_MANY = r"\b(?:those|these|them|all of them|both|all)\b|这些|那些|它们|这两个|那两个|这几个|全部|都"


def reference(text: str) -> tuple[str, str]:
    """Return "many" for "those / them / 这两个", "one" for "it / that / 这个", or ""; and the rest."""
    for kind, pattern in (("many", REFER_MANY), ("one", REFER_ONE)):
        if re.search(pattern, text):
            return kind, " ".join(re.sub(pattern, " ", text).split())
    return "", text


def phone(text: str) -> str:
    match = re.search(MOBILE, text)
    return re.sub(r"[\s-]", "", match.group(1)) if match else ""


ADDRESS_ZH = r"[省市区县镇乡村路街道号弄巷室楼栋幢座园苑]|单元"
ADDRESS_EN = (
    r"\b(?:road|rd|street|st|avenue|ave|lane|ln|district|city|province|building|bldg|floor|room|apt|"
    r"apartment|unit|block|village|town|county|shanghai|beijing|shenzhen|guangzhou|hangzhou)\b"
)
LEAD_IN = (
    r"^(?:and\s+)?(?:please\s+|pls\s+)?(?:(?:ship|send|deliver|mail)\s+(?:it|them|this|everything|the order)?\s*to|"
    r"the\s+address\s+is|my\s+address\s+is|address(?:\s+is)?|addr|recipient(?:\s+is)?|name(?:\s+is)?|"
    r"my\s+name\s+is|i\s*'?a?m|it'?s\s+for|for|to|收货地址是?|地址是?|送到|寄到|发到|寄给|送给|收货人是?|收件人是?|"
    r"姓名是?|名字是?|我叫|我是|请|麻烦)\s*[:：]?\s*"
)
NOT_A_NAME = re.compile(
    r"\d|\b(?:phone|tel|mobile|please|thanks?|order|cart|checkout|yes|no|ok)\b|谢谢|下单|结账|订单|购物车|电话|手机|"
    r"号码|确认|好的"
)


def contact(original: str) -> dict:
    """Pick the recipient's name, mobile number and address out of a free sentence, Chinese or English.

    Labelled parts ("phone: ...", "收货人张三") are read first; the rest is split at commas and each
    piece is judged by its look: 11 digits are a mobile number, street words or 省市区路号 an address,
    two to four Chinese characters or two or three capitalised words a name.
    """
    text = unicodedata.normalize("NFKC", original).strip()
    found: dict = {}
    number_ = phone(text)
    if number_:
        found["phone"] = number_
        text = re.sub(MOBILE, " ", text)
        text = re.sub(
            r"(?i)(?:my\s+)?(?:phone|tel|mobile|cell|number)(?:\s*(?:number|no\.?))?\s*(?:is)?\s*[:：]?|"
            r"(?:电话|手机号?|联系方式)(?:号码)?是?\s*[:：]?",
            " ",
            text,
        )
    labelled = {
        "name": r"(?i)(?:recipient|name|收货人|收件人|姓名|名字|我叫)\s*(?:is|是|为)?\s*[:：]?\s*([^,，;；\n]+)",
        "address": r"(?i)(?:address|地址|收货地址)\s*(?:is|是|为)?\s*[:：]?\s*([^;；\n]+)",
    }
    for key, pattern in labelled.items():
        match = re.search(pattern, text)
        if match:
            value = match.group(1).strip(" ,，;；:：.。")
            if key == "address":  # an address runs to the next label, if any
                value = re.split(r"(?i)[,，]\s*(?:recipient|name|收货人|收件人|姓名)", value)[0].strip(" ,，")
            if value:
                found[key] = value
                text = text.replace(match.group(0), " ")
    pieces = [piece.strip() for piece in re.split(r"[,，;；\n]|\s{2,}|\s+at\s+(?=\d)", text)]
    address_parts, names = [], []
    for piece in pieces:
        piece = re.sub(LEAD_IN, "", piece, flags=re.IGNORECASE).strip(" .。!！:：")
        if not piece:
            continue
        if looks_like_address(piece) or (address_parts and (names or not names_like(piece))):
            address_parts.append(piece)
        elif names_like(piece):
            names.append(piece)
    if "address" not in found and address_parts:
        found["address"] = (
            ", ".join(address_parts) if not is_chinese("".join(address_parts)) else "".join(address_parts)
        )
    if "name" not in found and names:
        found["name"] = names[0]
    return found


def looks_like_address(piece: str) -> bool:
    if is_chinese(piece):
        return len(piece) >= 5 and bool(re.search(ADDRESS_ZH, piece))
    return bool(re.search(ADDRESS_EN, piece.lower())) or bool(re.match(r"\d{1,5}[a-z]?\s+[A-Z]", piece))


def is_address(text: str) -> bool:
    """Return whether the whole text reads as an address (not a product request that has a number)."""
    if is_chinese(text):
        return len(set(re.findall(ADDRESS_ZH, text))) >= 2 and len(text) >= 6
    return bool(re.search(ADDRESS_EN, text.lower())) and bool(re.search(r"\d", text))


def names_like(piece: str) -> bool:
    """Return whether a piece of a sentence looks like a person's name."""
    if NOT_A_NAME.search(piece.lower()):
        return False
    if is_chinese(piece):
        return bool(re.fullmatch(r"[\u4e00-\u9fff·]{2,4}", piece)) and not re.search(ADDRESS_ZH + "|的|了|吗|吧", piece)
    words = piece.split()
    return (
        2 <= len(words) <= 3  # "Ann Buyer"; a single word is more often a place ("Pudong")
        and all(re.fullmatch(r"[A-Za-z][A-Za-z.'\-]*", word) for word in words)
        and any(word[0].isupper() for word in words)
    )
