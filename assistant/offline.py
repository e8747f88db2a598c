"""The offline engine: a deterministic brain for Chinese and English shopping requests.

It plugs into the same loop as a real model. Each step it reads the shopper's latest message, the
tool results of this turn so far and the conversation's memory (the products last shown), and
either asks for the next tool call or phrases the reply from the results. It understands a fixed
set of requests (search with price limits, "add two of the first one", "remove the mug", the cart,
checkout, orders, cancelling, categories, greetings) and says plainly when it does not understand.
"""

import json
import re
import unicodedata
import uuid
from dataclasses import dataclass, field

from assistant.llm import BrainReply, OnText, ToolCall
from mcpshop_site.money import money

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
CN_NUMBER = r"[\d一二两俩三四五六七八九十百千万]+"
EN_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "a couple of": 2, "a pair of": 2, "a dozen": 12, "single": 1,
}  # fmt: skip
EN_NUMBER = r"\d{1,3}|" + "|".join(sorted(EN_NUMBERS, key=len, reverse=True))
EN_ORDINALS = {
    "first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3, "fifth": 4, "5th": 4,
    "sixth": 5, "6th": 5, "seventh": 6, "eighth": 7, "ninth": 8, "tenth": 9, "last": -1,
}  # fmt: skip
CLASSIFIERS = "件个盒包瓶双只份罐袋支台本杯斤套把听条块片"
YUAN = r"(?:\s*(?:yuan|rmb|cny|kuai|元|块钱|块))"
AMOUNT = r"(\d+(?:\.\d+)?|[一二两三四五六七八九十百千万]+)"
CART_WORDS = r"(?:to|into|in|from|out of)\s+(?:my|the)?\s*(?:shopping\s+)?(?:cart|basket|bag)"
EN_AT_MOST = r"under|below|less than|cheaper than|up to|at most|no more than|max(?:imum)?|within|<=?"


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
            unit = CN_UNITS[char]
            total += (current or 1) * unit
            current = 0
        else:
            return None
    return total + current


def number(text: str) -> int | None:
    text = text.strip().lower()
    if text in EN_NUMBERS:
        return EN_NUMBERS[text]
    return cn_number(text)


def normalize(text: str) -> str:
    """Return the text in NFKC form (full-width punctuation and digits made plain), lower-cased."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def is_chinese(text: str) -> bool:
    return bool(CJK.search(text))


def singular(word: str) -> str:
    if len(word) > 3 and word.endswith("sses"):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


# Understanding the shopper ------------------------------------------------------------------------


@dataclass
class Intent:
    kind: str
    query: str = ""
    min_price: int | None = None
    max_price: int | None = None
    sort: str = "relevance"
    in_stock: bool = False
    quantity: int | None = None
    ordinal: int | None = None  # index into the products last shown; -1 is the last one
    it: bool = False  # "it", "this one": the product just shown
    guessed: bool = False  # a search tried only because nothing else fitted
    name: str = ""  # a product named in the request ("the mug", "龙井")
    order_id: int | None = None
    contact: dict = field(default_factory=dict)


def _cut(pattern: str, text: str) -> tuple[re.Match | None, str]:
    """Find `pattern` in `text`; return the match and the text without it."""
    match = re.search(pattern, text)
    if match is None:
        return None, text
    return match, (text[: match.start()] + " " + text[match.end() :]).strip()


def _prices(text: str) -> tuple[int | None, int | None, str]:
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
        (rf"(?:over|above|more than|at least|min(?:imum)?|>=?)\s*¥?{AMOUNT}{YUAN}?", "min"),
        (rf"(?:高于|超过|多于|大于|至少)\s*{AMOUNT}{YUAN}?\s*(?:以上)?", "min"),
        (rf"{AMOUNT}{YUAN}?\s*(?:以上|起)", "min"),
    ]
    for pattern, kind in rules:
        match, rest = _cut(pattern, text)
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


EN_SEARCH_FILLER = (
    r"\b(?:show me|show|do you have|do you sell|have you got|is there|are there|any|some|i want to buy|"
    r"i want|i'd like|i would like|i need|i'm looking for|im looking for|looking for|look for|find me|find|"
    r"search for|search|get me|please|can you|could you|recommend|suggest|me|a|an|the|for|with|what|which|"
    r"is|are|there|products?|items?|something|things?|in stock|available|cheap(?:est)?|inexpensive|budget|"
    r"affordable|expensive|premium|high-end|priced|price|prices|of|to|buy|you|got|have|sell|good)\b"
)
ZH_SEARCH_FILLER = (
    r"有没有|有什么|有哪些|我想买|我想要|我要买|我要|想买|想要|给我看看|给我看|看看|帮我找|帮我搜|找一下|搜一下|"
    r"推荐一下|推荐|一些|一下|搜索|有货|现货|有库存|最便宜|便宜|实惠|划算|最贵|高端|价格|商品|东西|产品|卖|"
    r"你们|这里|请|吗|呢|吧|呀|啊|么|的|买点|来点|一点|找|搜|买|什么|哪些|[一两几][个款件双只台套本把条瓶盒包]|款"
)


def _search_terms(text: str) -> str:
    """Return the keywords left once the request words are gone: "show me cheap mugs" -> "mug"."""
    if is_chinese(text):
        text = re.sub(ZH_SEARCH_FILLER, " ", text)
        text = re.sub(r"^\s*有", " ", text)
    text = re.sub(EN_SEARCH_FILLER, " ", text)
    text = re.sub(r"[^\w\s\-]", " ", text)
    words = [singular(word) if not is_chinese(word) else word for word in text.split()]
    return " ".join(words[:6])


def _fallback_terms(query: str) -> str:
    """Return a shorter query to try when the full one found nothing: the head noun."""
    words = query.split()
    if len(words) > 1:
        return words[-1]
    if is_chinese(query) and len(query) > 2:
        return query[-2:]
    return ""


def _ordinal(text: str) -> tuple[int | None, str]:
    match, rest = _cut(r"第\s*(" + CN_NUMBER + r")\s*(?:个|款|件|种|样|项|行)?", text)
    if match and cn_number(match.group(1)):
        return cn_number(match.group(1)) - 1, rest
    match, rest = _cut(r"最后一(?:个|款|件|种|样|项)", text)
    if match:
        return -1, rest
    words = "|".join(EN_ORDINALS)
    match, rest = _cut(rf"\b(?:the\s+)?({words})(?:\s+(?:one|item|product|line))?\b", text)
    if match:
        return EN_ORDINALS[match.group(1)], rest
    match, rest = _cut(r"(?:\bnumber|\bno\.|#|\bitem)\s*(\d{1,2})\b", text)
    if match and int(match.group(1)) >= 1:
        return int(match.group(1)) - 1, rest
    return None, text


def _quantity(text: str) -> tuple[int | None, str]:
    match, rest = _cut(rf"({CN_NUMBER})\s*[{CLASSIFIERS}]", text)
    if match and cn_number(match.group(1)):
        return cn_number(match.group(1)), rest
    match, rest = _cut(rf"(?:加|来|要|买)\s*({CN_NUMBER})(?![\d元块])", text)
    if match and cn_number(match.group(1)):
        return cn_number(match.group(1)), rest
    match, rest = _cut(r"(?:\bx\s*(\d{1,3})\b|\b(\d{1,3})\s*x\b|×\s*(\d{1,3}))", text)
    if match:
        return int(next(group for group in match.groups() if group)), rest
    match, rest = _cut(rf"\b({EN_NUMBER})\b(?!\s*(?:yuan|rmb|元|块|%))", text)
    if match:
        return number(match.group(1)), rest
    return None, text


def _it(text: str) -> tuple[bool, str]:
    match, rest = _cut(r"\b(?:it|this one|that one|this|that|them)\b|这个|那个|这款|那款|它", text)
    return match is not None, rest


def _contact(text: str) -> dict:
    """Pick recipient name, phone and address out of free text, in English or Chinese."""
    contact = {}
    patterns = {
        "phone": [r"(?:phone|tel|mobile|电话|手机号?|联系方式)\s*(?:number)?\s*(?:is|是|为|:)?\s*"
                  r"(\+?\d[\d\- ]{4,19}\d)",
                  r"(?<!\d)(1\d{10})(?!\d)"],
        "name": [r"(?:recipient|name|收货人|收件人|姓名|名字)\s*(?:is|是|为|:)?\s*([^,;\n]+?)\s*(?=,|;|$|phone|tel|mobile|address|电话|手机|地址)"],  # noqa: E501
        "address": [r"(?:address|地址|收货地址|送到|寄到)\s*(?:is|是|为|:)?\s*([^;\n]+?)\s*(?=;|$|,\s*(?:name|phone|tel|收货人|收件人|姓名|电话|手机))"],  # noqa: E501
    }  # fmt: skip
    for key, options in patterns.items():
        for pattern in options:
            match = re.search(pattern, text, re.IGNORECASE)
            if match:
                value = match.group(1).strip(" ,;:")
                if value:
                    contact[key] = value
                break
    return contact


GREETING = r"^(?:hi|hello|hey|hiya|good (?:morning|afternoon|evening)|你好|您好|嗨|哈喽|早上好|晚上好)[\s!.。！~]*$"
HELP = r"\b(?:help|what can you do|how does this work|what do you do)\b|帮助|你能做什么|你会什么|怎么用|能干什么"
THANKS = r"^(?:thanks|thank you|thx|cheers|谢谢|多谢|感谢)"
CONFIRM = r"^(?:yes|yeah|yep|ok|okay|confirm|sure|go ahead|确认|好的|是的|可以|行|没问题)[\s!.。！]*$"
CANCEL_ORDER = r"(?:\bcancel\b|取消|撤销|撤回).*?(?:\border\b|订单)|(?:取消|撤销)\s*#?\d+"
CHECKOUT = (
    r"\bplace (?:my |the |an |this )?order\b|\bcheck ?out\b|\bbuy (?:it |them |everything )?now\b|"
    r"\bsubmit (?:my |the )?order\b|\bcomplete (?:my |the )?(?:order|purchase)\b|\border (?:it|them|everything)\b|"
    r"下单|结账|结算|买单|提交订单|付款|支付|确认订单"
)
ORDERS = (
    r"\bwhere(?:'s| is| are)? my (?:order|package|parcel)s?\b|\bmy orders?\b|\border status\b|\btrack\b|"
    r"\border\s*#?\s*\d+|我的订单|订单|物流|快递|发货|到哪"
)
REMOVE = r"\b(?:remove|delete|take out|drop|get rid of|throw out)\b|删除|删掉|删了|去掉|移除|拿掉|拿出|不要了|不要"
UPDATE = (
    r"\b(?:change|set|update|make|adjust)\b.*?\b(?:to|=)\s*(?:" + EN_NUMBER + r")\b|"
    r"(?:改成|改为|换成|变成|设为|调到|调整为|改到|数量改)\s*" + CN_NUMBER
)
ADD = (
    r"\b(?:add|put|i'?ll take|i will take|throw in)\b|加入|加到|放进|放入|加购|"
    r"加\s*" + CN_NUMBER + r"|(?:来|要|买)\s*" + CN_NUMBER + r"\s*[" + CLASSIFIERS + r"]"
)
WEAK_ADD = r"\b(?:buy|take|get|want|order)\b|买|要|来"
CART = (
    r"\b(?:what'?s|what is) in (?:my|the) (?:shopping )?(?:cart|basket|bag)\b|\b(?:show|view|see|check|open)\b.*"
    r"\b(?:cart|basket)\b|\bmy (?:cart|basket)\b|^(?:the )?(?:cart|basket)\??$|购物车"
)
CATEGORIES = r"\bcategor(?:y|ies)\b|\bwhat (?:do|else do) you sell\b|\bwhat kinds?\b|\bdepartments?\b|分类|类别|类目|都卖什么|卖什么|有哪些种类|有什么种类"  # noqa: E501
DETAILS = r"\btell me (?:more )?about\b|\bdetails?\b|\bdescribe\b|\bmore (?:info|information)\b|介绍|详情|详细|怎么样"
SEARCH = (
    r"\b(?:show|find|search|looking for|look for|do you have|do you sell|have you got|any|recommend|suggest|"
    r"i want|i need|i'd like|browse|cheap|cheapest|budget|expensive|buy)\b|"
    r"有没有|有什么|有哪些|想买|想要|我要|找|搜|推荐|看看|便宜|实惠|贵"
)


def _product_phrase(text: str) -> str:
    """Return what is left of a cart request once verbs, numbers and cart words are gone: the product."""
    text = re.sub(CART_WORDS, " ", text)
    text = re.sub(
        r"\b(?:please|can you|could you|i'?ll take|i will take|add|put|remove|delete|take out|drop|get rid of|"
        r"change|set|update|make|adjust|the|a|an|of|to|from|my|cart|basket|quantity|qty|one|ones|pieces?|"
        r"units?|items?|more|another|also|and|please|buy|get|want|i|would|like|order)\b",
        " ",
        text,
    )
    text = re.sub(
        r"加入购物车|加到购物车|放进购物车|放入购物车|购物车里?的?|从购物车|加购|请|帮我|给我|把|将|加入|加到|放进|放入|"
        r"删除|删掉|删了|去掉|移除|拿掉|拿出|不要了|不要|改成|改为|换成|变成|设为|调到|调整为|改到|数量|我想|我要|需要|我|想|"
        r"加|来|要|买|吧|"
        r"了|的|里|中|一下|再",
        " ",
        text,
    )
    text = re.sub(r"[^\w\s\-]", " ", text)
    return " ".join(singular(word) for word in text.split())


def understand(text: str) -> Intent:
    """Return what the shopper asks for, in the engine's terms."""
    t = normalize(text).strip(" ?？!！.。")
    if not t:
        return Intent("unknown")
    if re.search(GREETING, t):
        return Intent("greet")
    if re.search(THANKS, t):
        return Intent("thanks")
    if re.search(CONFIRM, t):
        return Intent("confirm_hint")
    if re.search(CANCEL_ORDER, t):
        match = re.search(r"(\d+)", t)
        return Intent("cancel_order", order_id=int(match.group(1)) if match else None)
    contact = _contact(unicodedata.normalize("NFKC", text))
    if re.search(CHECKOUT, t) or len(contact) >= 2:
        return Intent("checkout", contact=contact)
    if re.search(HELP, t):
        return Intent("help")
    for kind, pattern in (("update", UPDATE), ("remove", REMOVE), ("add", ADD)):
        if re.search(pattern, t):
            return _cart_intent(kind, t)
    if re.search(CART, t):
        return Intent("cart")
    if re.search(ORDERS, t):
        match = re.search(r"(\d+)", t)
        return Intent("orders", order_id=int(match.group(1)) if match else None)
    if re.search(CATEGORIES, t):
        return Intent("categories")
    ordinal, rest = _ordinal(t)
    it, rest = _it(rest)
    if re.search(WEAK_ADD, t) and (ordinal is not None or it):
        return _cart_intent("add", t)
    if re.search(DETAILS, t) or ordinal is not None:
        name = _search_terms(re.sub(DETAILS, " ", rest))
        return Intent("details", ordinal=ordinal, it=it, name=name)
    low, high, rest = _prices(t)
    sort = "relevance"
    if re.search(r"\b(?:cheap|cheapest|inexpensive|budget|affordable|lowest price)\b|便宜|实惠|划算", t):
        sort = "price_asc"
    elif re.search(r"\b(?:expensive|premium|high-end|priciest|best)\b|最贵|高端|贵的", t):
        sort = "price_desc"
    in_stock = bool(re.search(r"\bin stock\b|\bavailable\b|有货|现货|有库存", t))
    query = _search_terms(rest)
    explicit = re.search(SEARCH, t) or low is not None or high is not None
    short = len(t.split()) <= 3 if not is_chinese(t) else len(t) <= 8
    if explicit or (short and query and "?" not in text):
        return Intent(
            "search", query=query, min_price=low, max_price=high, sort=sort, in_stock=in_stock, guessed=not explicit
        )
    return Intent("unknown")


def _cart_intent(kind: str, t: str) -> Intent:
    ordinal, rest = _ordinal(t)
    quantity = None
    if kind == "update":
        match, rest = _cut(
            rf"(?:\b(?:to|=)\s*({EN_NUMBER})\b|(?:改成|改为|换成|变成|设为|调到|调整为|改到|数量改)\s*({CN_NUMBER})\s*[{CLASSIFIERS}]?)",
            rest,
        )
        if match:
            quantity = number(match.group(1) or match.group(2))
    else:
        quantity, rest = _quantity(rest)
    it, rest = _it(rest)
    return Intent(kind, quantity=quantity, ordinal=ordinal, it=it, name=_product_phrase(rest))


# Finding the product meant -------------------------------------------------------------------------


def match_item(phrase: str, items: list[dict], *, loose: bool = False) -> dict | None:
    """Return the item whose name (either language) or SKU fits the phrase best.

    Every English word of the phrase must appear, and the Chinese part must appear whole or
    nearly so ("红色跑鞋" fits "红色入门跑鞋"); `loose` accepts the item sharing the most words.
    """
    phrase = phrase.lower().strip()
    if not phrase or not items:
        return None
    words = [singular(word) for word in re.findall(r"[a-z0-9\-]+", phrase) if len(word) > 1]
    cjk = "".join(CJK.findall(phrase))
    pairs = [cjk[i : i + 2] for i in range(len(cjk) - 1)] or ([cjk] if cjk else [])
    best, best_score = None, 0.0
    for item in items:
        hay = " ".join(str(item.get(key) or "") for key in ("name", "name_en", "sku")).lower()
        found = sum(word in hay for word in words)
        shared = 1.0 if cjk and cjk in hay else sum(pair in hay for pair in pairs) / len(pairs) if pairs else 0.0
        fits = (found == len(words)) and (not cjk or shared >= 0.6)
        score = found + 3 * shared
        if (fits or loose) and score > best_score:
            best, best_score = item, score
    return best


def _pick(items: list[dict], ordinal: int | None) -> dict | None:
    if ordinal is None or not items:
        return None
    if ordinal == -1:
        return items[-1]
    return items[ordinal] if 0 <= ordinal < len(items) else None


# Speaking --------------------------------------------------------------------------------------------

PHRASES = {
    "greet": ("你好！我是购物助手，可以帮你找商品、管理购物车和查询订单。试试“100元以内的茶叶”。",
              "Hi! I'm the shop assistant. I can find products, fill your cart and check your orders. "
              "Try \"tea under 100 yuan\"."),
    "help": ("我可以：搜索商品（如“100元以内的茶叶”）、加入购物车（“第一个加两件”）、修改或删除（“把马克杯改成3件”、"
             "“删除马克杯”）、查看购物车、下单（需要你点击确认）、查询或取消订单（“取消订单12”）。",
             "I can: search products (\"tea under 100 yuan\"), add to your cart (\"add two of the first one\"), "
             "change or remove items (\"change the mug to 3\", \"remove the mug\"), show your cart, prepare "
             "your order (you confirm it with a click), and check or cancel orders (\"cancel order 12\")."),
    "thanks": ("不客气！还需要什么随时告诉我。", "You're welcome! Anything else?"),
    "confirm_hint": ("请点击摘要卡片上的“确认”按钮——我不能替你确认。",
                     "Please press the Confirm button on the summary card: I can't confirm for you."),
    "unknown": ("抱歉，我没听懂“{text}”。我可以搜索商品、管理购物车、下单和查询订单，比如“有没有龙井”或“我的订单”。",
                "Sorry, I didn't understand \"{text}\". I can search products, manage your cart, prepare orders "
                "and check them, e.g. \"do you have green tea\" or \"where is my order\"."),
    "no_results": ("没有找到符合“{query}”的商品。换个说法试试？", "I found no products matching \"{query}\". Try other words?"),  # noqa: E501
    "no_results_guess": ("没有找到“{query}”相关的商品，也不太明白你的意思。可以试试“有没有龙井”或“我的订单”。",
                         "I found no products for \"{query}\" and I'm not sure what you mean. Try \"do you have "
                         "green tea\" or \"where is my order\"."),
    "results": ("找到这些商品：", "Here is what I found:"),
    "more": ("还有更多结果，可以说得更具体些。", "There are more; tell me more to narrow it down."),
    "pick_hint": ("说“第一个加两件”即可加入购物车。", "Say \"add two of the first one\" to put one in your cart."),
    "which": ("你指的是哪件商品？可以先搜索，再说“第一个”。", "Which product do you mean? Search first, then say \"the first one\"."),  # noqa: E501
    "no_such_item": ("购物车里没有“{name}”。", "There is no \"{name}\" in your cart."),
    "added": ("已把 {quantity} 件{name}加入购物车（购物车里共 {in_cart} 件）。",
              "Added {quantity} × {name} to your cart (now {in_cart} in the cart)."),
    "removed": ("已从购物车删除{name}。", "Removed {name} from your cart."),
    "updated": ("已把{name}的数量改为 {quantity}。", "Changed {name} to {quantity}."),
    "how_many": ("要改成几件？比如“把马克杯改成3件”。", "To how many? E.g. \"change the mug to 3\"."),
    "cart_empty": ("购物车是空的。", "Your cart is empty."),
    "cart": ("购物车里有：", "In your cart:"),
    "total": ("合计 {total}。", "Total: {total}."),
    "confirm_order": ("请核对订单：共 {total}，寄往 {address}（{name}，{phone}）。确认无误请点击“确认”，订单才会提交。",
                      "Please check your order: {total} in total, to {address} ({name}, {phone}). It is placed "
                      "only when you press Confirm."),
    "confirm_cancel": ("要取消订单 #{id}（{total}）吗？请点击“确认”完成取消。",
                       "Cancel order #{id} ({total})? Press Confirm to cancel it."),
    "no_orders": ("你还没有订单。", "You have no orders yet."),
    "orders": ("你最近的订单：", "Your recent orders:"),
    "order": ("订单 #{id}：{status}，合计 {total}，下单时间 {date}。",
              "Order #{id}: {status}, {total}, placed {date}."),
    "which_order": ("要取消哪个订单？请说“取消订单”加订单号，比如“取消订单12”。",
                    "Which order? Say \"cancel order\" and its number, e.g. \"cancel order 12\"."),
    "categories": ("我们有这些分类：", "We have these categories:"),
    "stopped": ("我先停在这里。", "I'll stop here."),
}  # fmt: skip

ERRORS = {
    "login_required": ("请先登录：订单需要账户。", "Please sign in first: orders belong to an account."),
    "unknown_sku": ("没有找到这件商品。", "I couldn't find that product."),
    "insufficient_stock": (
        "库存不足：{sku} 只剩 {available} 件。",
        "Not enough stock: only {available} left of {sku}.",
    ),
    "invalid_quantity": ("数量需在 1 到 {max} 之间。", "Quantities go from 1 to {max}."),
    "cart_item_not_found": ("这件商品不在购物车里。", "That product isn't in your cart."),
    "empty_cart": ("购物车是空的，先加点商品吧。", "Your cart is empty: add something first."),
    "address_required": (
        "下单前需要收货信息。请告诉我收货人、电话和地址，例如：“收货人张三，电话13800000000，地址上海市南京东路1号”。",
        "To prepare the order I need the recipient's name, phone and address, e.g. \"name: Li Lei, phone: "
        '13800000000, address: 1 Nanjing Road, Shanghai".',
    ),
    "order_not_found": ("没有找到这个订单。", "I couldn't find that order."),
    "illegal_transition": (
        "这个订单现在不能取消（状态：{status}）。",
        "That order can't be cancelled now (status: {status}).",
    ),
}


STATUSES = {
    "PENDING": ("待支付", "Pending payment"),
    "PAID": ("已付款", "Paid"),
    "SHIPPED": ("已发货", "Shipped"),
    "DELIVERED": ("已送达", "Delivered"),
    "CANCELLED": ("已取消", "Cancelled"),
}


class _Formatter(dict):
    def __missing__(self, key):
        return "?"


def say(key: str, zh: bool, **values) -> str:
    chinese, english = PHRASES.get(key) or ERRORS[key]
    return (chinese if zh else english).format_map(_Formatter(values))


def say_error(error: dict, zh: bool) -> str:
    code = error.get("code", "")
    if code in ERRORS:
        details = dict(error.get("details") or {})
        if "status" in details:
            details["status"] = STATUSES.get(details["status"], (details["status"],) * 2)[0 if zh else 1]
        return say(code, zh, **details)
    return error.get("message") or ("出了点问题。" if zh else "Something went wrong.")


def _name(row: dict, zh: bool) -> str:
    return row.get("name") if zh or not row.get("name_en") else row["name_en"]


# Deciding the next step ----------------------------------------------------------------------------


@dataclass
class Step:
    name: str
    arguments: dict
    result: dict

    @property
    def error(self) -> dict | None:
        return self.result.get("error") if isinstance(self.result, dict) else None


def _this_turn(messages: list[dict]) -> tuple[str, list[Step]]:
    """Return the shopper's latest message and the tool steps taken since, in order."""
    last_user = max((i for i, message in enumerate(messages) if message.get("role") == "user"), default=-1)
    text = messages[last_user]["content"] if last_user >= 0 else ""
    calls: dict[str, tuple[str, dict]] = {}
    steps: list[Step] = []
    for message in messages[last_user + 1 :]:
        if message.get("role") == "assistant":
            for call in message.get("tool_calls") or []:
                try:
                    arguments = json.loads(call["function"]["arguments"] or "{}")
                except ValueError:
                    arguments = {}
                calls[call["id"]] = (call["function"]["name"], arguments)
        elif message.get("role") == "tool":
            name, arguments = calls.get(message.get("tool_call_id"), ("", {}))
            try:
                result = json.loads(message.get("content") or "{}")
            except ValueError:
                result = {}
            steps.append(Step(name, arguments, result))
    return text, steps


class Planner:
    """Decide, for one request, the next tool call or the reply."""

    def __init__(self, text: str, steps: list[Step], state: dict):
        self.text, self.steps, self.state = text, steps, state
        self.zh = is_chinese(text)
        self.intent = understand(text)
        self.shown = list(state.get("last_items") or [])

    def next(self) -> tuple[str, dict] | str:
        if self.steps and self.steps[-1].error:
            return say_error(self.steps[-1].error, self.zh)
        handler = getattr(self, f"plan_{self.intent.kind}", None)
        if handler is None:
            return say(self.intent.kind if self.intent.kind in PHRASES else "unknown", self.zh, text=self._quoted())
        return handler()

    def _quoted(self) -> str:
        text = " ".join(self.text.split())
        return text if len(text) <= 40 else text[:39] + "…"

    def _done(self, name: str) -> Step | None:
        for step in reversed(self.steps):
            if step.name == name:
                return step
        return None

    # Searching and showing

    def plan_search(self) -> tuple[str, dict] | str:
        intent = self.intent
        searches = [step for step in self.steps if step.name == "search_products"]
        if not searches:
            return "search_products", self._search_arguments(intent.query)
        last = searches[-1]
        if last.error:
            return say_error(last.error, self.zh)
        if not last.result.get("products"):
            fallback = _fallback_terms(intent.query)
            if len(searches) == 1 and fallback and fallback != intent.query:
                return "search_products", self._search_arguments(fallback)
            if intent.guessed:
                return say("no_results_guess", self.zh, query=intent.query or self._quoted())
            return say("no_results", self.zh, query=intent.query or self._quoted())
        return self._list_products(last.result)

    def _search_arguments(self, query: str) -> dict:
        intent = self.intent
        arguments = {"query": query, "limit": 5}
        for key in ("min_price", "max_price"):
            if getattr(intent, key) is not None:
                arguments[key] = getattr(intent, key)
        if intent.sort != "relevance":
            arguments["sort"] = intent.sort
        if intent.in_stock:
            arguments["in_stock"] = True
        return arguments

    def _list_products(self, result: dict) -> str:
        lines = [say("results", self.zh)]
        for number_, row in enumerate(result["products"], 1):
            stock = (f"库存 {row['stock']}" if row["stock"] else "缺货") if self.zh else (
                f"{row['stock']} in stock" if row["stock"] else "out of stock"
            )  # fmt: skip
            lines.append(f"{number_}. {_name(row, self.zh)} ({row['sku']}) {money(row['price_cents'])}, {stock}")
        if result.get("more_available"):
            lines.append(say("more", self.zh))
        lines.append(say("pick_hint", self.zh))
        return "\n".join(lines)

    def plan_details(self) -> tuple[str, dict] | str:
        shown = self._done("get_product")
        if shown is not None:
            row = shown.result["product"]
            description = row.get("description_en") if not self.zh and row.get("description_en") else row["description"]
            stock = f"库存 {row['stock']}" if self.zh else f"{row['stock']} in stock"
            return f"{_name(row, self.zh)} ({row['sku']}): {money(row['price_cents'])}, {stock}.\n{description}"
        item = self._referenced()
        if item is not None:
            return "get_product", {"sku": item["sku"]}
        if self.intent.name:
            self.intent.query, self.intent.guessed = self.intent.name, True
            return self.plan_search()
        return say("which", self.zh)

    def _referenced(self) -> dict | None:
        """Return the shown product the request points at: by position, "it", or by name."""
        intent = self.intent
        if intent.ordinal is not None:
            return _pick(self.shown, intent.ordinal)
        if intent.name:
            found = match_item(intent.name, self.shown)
            if found is not None:
                return found
        if intent.it or not intent.name:
            return self.shown[0] if len(self.shown) == 1 or intent.it else None
        return None

    def plan_categories(self) -> tuple[str, dict] | str:
        step = self._done("list_categories")
        if step is None:
            return "list_categories", {}
        names = [
            f"{row['name'] if self.zh or not row['name_en'] else row['name_en']} ({row['product_count']})"
            for row in step.result["categories"]
        ]
        return say("categories", self.zh) + " " + ("、" if self.zh else ", ").join(names)

    # The cart

    def plan_add(self) -> tuple[str, dict] | str:
        intent = self.intent
        added = self._done("add_to_cart")
        if added is not None:
            row = added.result["added"]
            name = row["name"] if self.zh else self._english_name(row)
            return say("added", self.zh, quantity=row["quantity_added"], name=name, in_cart=row["quantity_in_cart"])
        quantity = intent.quantity or 1
        if intent.ordinal is not None:
            item = _pick(self.shown, intent.ordinal)
            if item is None:
                return say("which", self.zh)
            return "add_to_cart", {"sku": item["sku"], "quantity": quantity}
        item = self._referenced()
        if item is not None:
            return "add_to_cart", {"sku": item["sku"], "quantity": quantity}
        if not intent.name:
            return say("which", self.zh)
        searched = self._done("search_products")
        if searched is None:
            return "search_products", {"query": intent.name, "limit": 3}
        products = searched.result.get("products") or []
        if not products:
            fallback = _fallback_terms(intent.name)
            searches = [step for step in self.steps if step.name == "search_products"]
            if len(searches) == 1 and fallback:
                return "search_products", {"query": fallback, "limit": 3}
            return say("no_results", self.zh, query=intent.name)
        best = match_item(intent.name, products, loose=True) or products[0]
        return "add_to_cart", {"sku": best["sku"], "quantity": quantity}

    def _english_name(self, row: dict) -> str:
        known = {item["sku"]: item for item in self.shown}
        for step in self.steps:
            for product in step.result.get("products", []) if isinstance(step.result, dict) else []:
                known[product["sku"]] = product
        item = known.get(row.get("sku"), {})
        return item.get("name_en") or row.get("name", "")

    def _cart_target(self) -> tuple[str, dict] | dict | str:
        """Return the cart line the request means, or the tool call needed to find it, or a reply."""
        intent = self.intent
        if intent.ordinal is not None:
            item = _pick(self.shown, intent.ordinal)
            return item if item is not None else say("which", self.zh)
        viewed = self._done("view_cart")
        if viewed is None:
            return "view_cart", {}
        lines = viewed.result.get("items") or []
        if not lines:
            return say("cart_empty", self.zh)
        if intent.name:
            item = match_item(intent.name, lines)
            return item if item is not None else say("no_such_item", self.zh, name=intent.name)
        if len(lines) == 1:
            return lines[0]
        return say("which", self.zh)

    def plan_remove(self) -> tuple[str, dict] | str:
        removed = self._done("remove_from_cart") or self._done("update_cart_item")
        if removed is not None:
            row = removed.result.get("removed") or removed.result.get("updated")
            return say("removed", self.zh, name=self._display(row))
        target = self._cart_target()
        if not isinstance(target, dict):
            return target
        return "remove_from_cart", {"sku": target["sku"]}

    def plan_update(self) -> tuple[str, dict] | str:
        updated = self._done("update_cart_item")
        if updated is not None:
            if "removed" in updated.result:
                return say("removed", self.zh, name=self._display(updated.result["removed"]))
            row = updated.result["updated"]
            return say("updated", self.zh, name=self._display(row), quantity=row["quantity"])
        if self.intent.quantity is None:
            return say("how_many", self.zh)
        target = self._cart_target()
        if not isinstance(target, dict):
            return target
        return "update_cart_item", {"sku": target["sku"], "quantity": self.intent.quantity}

    def _display(self, row: dict) -> str:
        return row.get("name", "") if self.zh else self._english_name(row)

    def plan_cart(self) -> tuple[str, dict] | str:
        viewed = self._done("view_cart")
        if viewed is None:
            return "view_cart", {}
        lines = viewed.result.get("items") or []
        if not lines:
            return say("cart_empty", self.zh)
        text = [say("cart", self.zh)]
        for number_, line in enumerate(lines, 1):
            name = _name(line, self.zh)
            text.append(f"{number_}. {name} × {line['quantity']}: {money(line['line_total_cents'])}")
        text.append(say("total", self.zh, total=money(viewed.result["total_cents"])))
        return "\n".join(text)

    # Orders

    def plan_checkout(self) -> tuple[str, dict] | str:
        prepared = self._done("place_order")
        if prepared is not None:
            summary = prepared.result["summary"]
            return say("confirm_order", self.zh, total=money(summary["total_cents"]), **summary["address"])
        return "place_order", dict(self.intent.contact)

    def plan_orders(self) -> tuple[str, dict] | str:
        if self.intent.order_id:
            step = self._done("get_order")
            if step is None:
                return "get_order", {"order_id": self.intent.order_id}
            return self._order_line(step.result["order"])
        step = self._done("list_orders")
        if step is None:
            return "list_orders", {"limit": 5}
        orders = step.result.get("orders") or []
        if not orders:
            return say("no_orders", self.zh)
        return "\n".join([say("orders", self.zh), *(self._order_line(order) for order in orders)])

    def _order_line(self, order: dict) -> str:
        return say(
            "order",
            self.zh,
            id=order["id"],
            status=STATUSES.get(order["status"], (order["status_display"],) * 2)[0 if self.zh else 1],
            total=money(order["total_cents"]),
            date=order["created_at"][:10],
        )

    def plan_cancel_order(self) -> tuple[str, dict] | str:
        prepared = self._done("cancel_order")
        if prepared is not None:
            summary = prepared.result["summary"]
            return say("confirm_cancel", self.zh, id=summary["order_id"], total=money(summary["total_cents"]))
        if self.intent.order_id:
            return "cancel_order", {"order_id": self.intent.order_id}
        listed = self._done("list_orders")
        if listed is None:
            return "list_orders", {"limit": 5}
        return "\n".join([say("which_order", self.zh), *(self._order_line(o) for o in listed.result["orders"])])


class OfflineBrain:
    """The deterministic brain used when no model is configured (see the module docstring)."""

    name = "offline"

    async def complete(
        self, *, messages: list[dict], tools: list[dict] | None, state: dict, on_text: OnText, final: bool = False
    ) -> BrainReply:
        text, steps = _this_turn(messages)
        planner = Planner(text, steps, state or {})
        decision = planner.next()
        if isinstance(decision, tuple) and not final:
            name, arguments = decision
            call = ToolCall(id=f"call_{uuid.uuid4().hex[:12]}", name=name, arguments=json.dumps(arguments))
            return BrainReply(tool_calls=[call])
        reply = decision if isinstance(decision, str) else say("stopped", planner.zh)
        for piece in re.findall(r"[^\n]*\n|[^\n]+$", reply):
            await on_text(piece)
        return BrainReply(text=reply)
