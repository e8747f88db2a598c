"""Understanding: one utterance in, an intent and its slots out.

Clear signals are read by rules (a verb of the cart, a position, a price, a phone number); what the
rules leave open is classified by meaning against labelled examples (`intents.classify`). The
slots are the product words, a quantity, a position, a reference ("it", "those"), price limits,
delivery details and an order number. What the previous turns left open (a question the engine
asked) is the planner's business, not this module's.
"""

import re
import unicodedata
from dataclasses import dataclass, field

from assistant.offline import intents, rules
from assistant.offline.rules import CLASSIFIERS, CN_NUMBER, EN_NUMBER, is_chinese, normalize

GREETING = r"^(?:hi|hello|hey|hiya|good (?:morning|afternoon|evening)|你好|您好|嗨|哈喽|早上好|晚上好)(?: there)?[\s!.。！~,，]*$"  # noqa: E501
THANKS = r"^(?:(?:ok|great|perfect|好的|太好了)[\s,，!！]*)?(?:thanks|thank you|thx|ty|cheers|谢谢|多谢|感谢)"
CONFIRM = r"^(?:yes|yeah|yep|ok|okay|confirm|sure|go ahead|确认|好的|是的|可以|行|没问题|对)[\s!.。！,，]*(?:please)?$"
DECLINE = r"^(?:no|nope|nah|never ?mind|forget it|不用了?|不要了|算了|没有了|不需要)[\s!.。！,，]*(?:thanks|谢谢)?$"
ASK_FOR = r"\b(?:can|could|may) (?:i|we) (?:get|have|buy|order|grab)\b|\bi'?d like to (?:buy|order|get)\b"
CLEAR = (
    r"\b(?:clear|empty|reset|wipe)\b.*\b(?:cart|basket|bag)\b|"
    r"\b(?:remove|delete|take out|throw away|throw out|get rid of)\b.*\b(?:everything|all)\b|"
    r"清空|全(?:部|都)?(?:删|去掉|不要|清)|都(?:删|不要|去掉)"
)
# The checkout's words: discount codes, shipping, the saved address, the payment deadline. They come before
# the cart's and the orders' rules ("remove the code" removes no product; "用顺丰" asks for no parcel's news).
CODE_WORD = (
    r"\b(?:discount|promo|promotion|coupon|voucher|gift)\s*codes?\b|\bcodes?\b|\bcoupons?\b|\bvouchers?\b|"
    r"优惠码|优惠券|折扣码|兑换码|券码|折扣券|代金券|优惠"
)
# A code as typed: 3 to 32 letters, digits, - or _, with a digit or in capitals ("WELCOME10", "SPRING").
CODE_SHAPE = (
    r"(?<![A-Za-z0-9_-])(?=[A-Za-z0-9_-]*\d|[A-Z0-9_-]{3,}(?![A-Za-z]))"
    r"([A-Za-z0-9][A-Za-z0-9_-]{2,31})(?![A-Za-z0-9_-])"
)
SHIPPING_ASK = (
    r"\b(?:shipping|delivery|postage)\s+(?:options?|methods?|costs?|fees?|charges?|rates?|prices?)\b|"
    r"\bhow much (?:is|does|for|will) (?:the )?(?:shipping|delivery|postage)\b|"
    r"\bhow (?:do|can|will) you (?:ship|deliver)\b|"
    r"\bwhat (?:are|is) (?:the |my )?(?:shipping|delivery)\b|\bhow much to (?:ship|deliver)\b|"
    r"运费|邮费|快递费|配送费|配送方式|快递方式|怎么寄|怎么配送|发什么快递|有(?:哪些|什么)快递|包邮吗"
)
SHIP_FAST = r"\b(?:fastest|quickest|express|speediest)\b|最快|特快|加急"
SHIP_CHEAP = r"\b(?:cheapest|cheaper|standard|economy|normal|regular)\b|最便宜|便宜|普通|标准"
SHIP_CHOICE = (
    r"\b(?:express|standard|economy|fastest|quickest|cheapest|regular)\s+(?:shipping|delivery|post)\b|"
    r"^(?:express|standard|economy)\b|\b(?:ship|send|deliver)\b[\w ]{0,20}\b(?:by|with|via|using)\s+\w+|"
    r"\b(?:use|choose|pick|go with|switch to|take)\s+(?:the\s+)?(?:express|standard|economy|fastest|sf)\b|"
    r"(?:用|选|走|发|换成?|改成?|要)(?:个)?\s*(?:顺丰|快递|特快|标准|普通快递|最快的|最便宜的|加急)|顺丰|特快|加急"
)
SHIP_WORDS = (
    r"\b(?:please|pls|i'?d like|i would like|i want|i'?ll take|use|choose|pick|go with|switch to|take|the|"
    r"shipping|delivery|ship|send|"
    r"deliver|it|them|everything|by|with|via|using|one|post|option|method|instead|then|and|ok|okay)\b|"
    r"请|用|选|走|发|换成?|改成?|要|个|吧|寄|送|配送|的方式|方式|快递吧|好了|就"
)
DEFAULT_ADDRESS = (
    r"\b(?:default|saved|usual|home)\s+address\b|\baddress (?:on file|i saved)\b|"
    r"默认地址|常用地址|保存的地址|家里的地址|默认的地址"
)
PAY_BY = (
    r"\bpay by when\b|\bwhen (?:do|should|must|shall) i (?:have to |need to )?pay\b|\bpayment (?:deadline|due)\b|"
    r"\bdeadline\b|\bhow long (?:do i have|until|before) (?:to |i must |i have to )?pay|"
    r"\bwhen is (?:the |my )?payment due\b|"
    r"\bpay by\b|\buntil when\b.*\bpay\b|什么时候(?:之前)?(?:要|需要|得|必须|该)?(?:付款|支付|付钱|付)|"
    r"付款(?:截止|期限|时间|时限)|支付(?:截止|期限|时限)|最晚(?:什么时候|几点)|多久(?:内|之内)?(?:要|得|必须)?(?:付款|支付)"
)
CANCEL = (
    r"\bcancel\b|\bcall (?:it |that |this )?off\b|取消|撤销|撤回|退(?:掉|了)?(?:这个|那个|刚才的)?订?单|"
    r"不要(?:这个|那个)?订单|不想要(?:这个|那个)?订单"
)
CHECKOUT = (
    r"\bplace (?:my |the |an |this )?order\b|\bcheck ?out\b|\bbuy (?:it |them |everything )?now\b|\bready to pay\b|"
    r"\bsubmit (?:my |the )?order\b|\bcomplete (?:my |the )?(?:order|purchase)\b|\border (?:it|them|everything)\b|"
    r"\bpay(?: now)?$|\band pay\b|下单|结账|结算|买单|提交订单|付款|支付|确认订单"
)
VIEW_CART = (
    r"\b(?:what'?s|what is|anything) in (?:my|the) (?:shopping )?(?:cart|basket|bag)\b|\b(?:show|view|see|check|open|"
    r"look at)\b.*\b(?:cart|basket)\b|\bmy (?:cart|basket)\b|^(?:the )?(?:cart|basket)$|"
    r"购物车(?:里|中)?(?:有什么|有啥|都有)|"
    r"(?:看|查|打开).{0,3}购物车|^(?:我的)?购物车$|购物车多少钱"
)
ORDERS = (
    r"\bwhere(?:'s| is| are)? my (?:order|package|parcel|stuff)s?\b|\bmy orders?\b|\border status\b|\btrack\b|"
    r"\border\s*#?\s*\d+|\border\s*#?\s*[2-9a-hjkmnp-z]{12}\b|\bshipped\b|\bdeliver(?:ed|y)\b|我的订单|订单|物流|快递|发货|到哪"
)
UPDATE = (
    r"\b(?:change|set|update|make|adjust|bump|increase|decrease|reduce|lower)\b.*?\b(?:to|it|that|this|them|those)\s*(?:"
    + EN_NUMBER
    + r")\b|"
    r"(?:改成|改为|换成|变成|设为|调到|调成|调整为|改到|数量改)\s*"
    + CN_NUMBER
    + r"|\b(?:only|just)(?: (?:need|want))? (?:"
    + EN_NUMBER
    + r")\b(?!\s*(?:yuan|rmb|元|块))|(?:只要|还是)\s*"
    + CN_NUMBER
    + r"\s*["
    + CLASSIFIERS
    + r"]"
)
REMOVE = (
    r"\b(?:remove|delete|take out|take off|drop|get rid of|throw out|don'?t want|no longer want|take away)\b|"
    r"\b(?:take|pull|leave)\b.{0,30}\b(?:out|off|away)\b|"
    r"删除|删掉|删了|去掉|移除|拿掉|拿出|拿走|扔掉|不要了|(?<!要)不要|别要|不想要|不需要"
)
# Cues of putting into the cart: an utterance with one is never read as a removal, whatever it resembles.
ADD_CUE = r"\b(?:add|put|throw in|toss in)\b|加进|加上|加入|加到|放进|放入|放到|装进|加购"
# A word of removing under a negation ("don't cancel it", "别删茶叶") asks to keep things as they are.
NEGATED = (
    r"\b(?:don'?t|do not|never|no need to|not)\s+(?:\w+\s+){0,2}?(?:remove|delete|cancel|clear|empty|drop|take|"
    r"throw|get rid)\b|"
    r"(?:不要|别|不用|不必|无需|不)(?:再|先|帮我|给我)?(?:删|取消|清空|去掉|移除|拿掉|拿出|撤销|撤回|退)"
)
# Removing, emptying the cart and cancelling are done on the rules' word only, never on a resemblance.
DESTRUCTIVE = ("remove", "clear_cart", "cancel_order")
ADD = (
    r"\b(?:add|put|i'?ll take|i will take|throw in|i'?ll get|i'?ll have)\b|加入|加到|加进|加上|放进|放入|装进|加购|"
    r"放(?:到|在)?购物车|"
    r"加\s*" + CN_NUMBER + r"|(?:来|要|买|拿)\s*" + CN_NUMBER + r"\s*[" + CLASSIFIERS + r"]|我要了|要了"
)
EXTREME = (
    r"\b(?:cheapest|least expensive|most expensive|priciest)\b|最便宜|最贵|最实惠|"
    r"\b(?:cheaper|less expensive|more expensive|pricier|dearer)\s+(?:one|option|of the two)\b|"
    r"(?:更|较|比较)?(?:便宜|贵|实惠)(?:一点|点|些)?的那(?:一)?[个款件双只台本]"
)
COMPARED_ONE = (
    r"\b(?:cheaper|pricier|dearer|more expensive|less expensive)\s+(?:one|option|of the two)\b|的那一?[个款件双只台本]"
)
CONTACT_LABEL = r"\b(?:recipient|address|ship(?:ping)? to|deliver to)\b|收货人|收件人|地址|寄到|送到"
CART_PHRASE = r"\b(?:to|into|in|from|out of|too)\s+(?:my|the|ma)\s+(?:shopping\s+)?(?:cart|card|chart|basket|bag)s?\b"
WEIGHING = r"要不要|买不买|值不值|\bshould i (?:buy|get|take)\b|\bis (?:it|this|that) worth\b"
WEAK_ADD = r"\b(?:buy|take|get|want|order|grab)\b|买|要|来"
CATEGORIES = (
    r"\bcategor(?:y|ies)\b|\bwhat (?:do|else do) you (?:sell|have)\b|\bwhat kinds?\b|\bdepartments?\b|分类|类别|类目|"
    r"都卖什么|卖什么|有哪些种类|有什么种类"
)
HELP = r"\b(?:help|what can you do|how does this work|what do you do)\b|帮助|你能做什么|你会什么|怎么用|能干什么"
MORE = (
    r"^(?:show (?:me )?|any )?more(?: please| options| of them)?$"
    r"|\bshow me more\b|^更多|还有(?:别的|其他的?)?吗|再多看看"
)
REFINE = (
    r"\bcheaper\b|\bless expensive\b|\bmore affordable\b|\blower price\b|便宜一?点|更便宜|再便宜|\bonly\b|只要|只看"
)
DETAILS = (
    r"\btell me (?:more )?about\b|\bdetails?\b|\bdescribe\b|\bmore (?:info|information)\b|\bwhat is (?:it|that)\b|"
    r"\bwhat(?:'s| is) (?:in|inside) (?:the|this|that)\b|介绍|详情|详细"
)
DETAILS_OF_IT = r"怎么样|什么样|好不好|\bany good\b|\bhow is\b"
SEARCH = (
    r"\b(?:show|find|search|looking for|look for|do you have|do you sell|have you got|any|recommend|suggest|"
    r"i want|i need|i'd like|browse|cheap|cheapest|budget|expensive|need|needs|something (?:to|for|that))\b|"
    r"有没有|有什么|有哪些|想买|想要|我要|找|搜|推荐|看看|便宜|实惠|贵|有卖"
)
EN_FILLER = (
    r"\b(?:show me|show|do you have|do you sell|have you got|is there|are there|any|some|i want to buy|"
    r"i want|i'd like|i would like|i need|i'm looking for|im looking for|looking for|look for|find me|find|"
    r"search for|search|get me|please|pls|can you|could you|recommend|suggest|me|a|an|the|for|with|what|which|"
    r"is|are|there|products?|items?|something|stuff|things?|in stock|available|cheap(?:est)?|cheaper|inexpensive|"
    r"budget|affordable|expensive|premium|high-end|priced|price|prices|of|to|buy|you|got|have|sell|good|nice|only|just|"
    r"ones?|hi|hello|hey|thanks|um|uh|well|so|maybe|also|too|kind|sort|type|instead|really|actually|yuan|rmb|"
    r"do|does|guys|you guys|can i get|can i have|can i|could i|get|we|i|pls|plz|need|needs|that|will|would|could)\b"
)
ZH_FILLER = (
    r"有没有|有什么|有哪些|我想买|我想要|我要买|我要|想买|想要|给我看看|给我看|看看|帮我找|帮我搜|找一下|搜一下|"
    r"推荐一下|推荐|一些|一下|搜索|有货|现货|有库存|最便宜|更便宜|便宜一?点|便宜|实惠|划算|最贵|高端|价格|商品|东西|产品|卖|"
    r"你们|这里|请|吗|呢|吧|呀|啊|么|的|先|优先|排前面|靠前|我需要|需要|有啥|啥|好用|好看|好喝|不错|买点|来点|一点|找|搜|买|什么|哪些|只要|只看|就要|[一两几][个款件双只台套本把条瓶盒包顶副]|款|你好|谢谢|嗯"
)
ACTION_WORDS = (
    r"\b(?:please|pls|can you|could you|i'?ll take|i will take|i'?ll get|i'?ll have|add|put|throw in|remove|delete|"
    r"take|pull|leave|off|away|"
    r"take out|take off|take away|drop|get rid of|throw out|don'?t want|no longer want|anymore|change|set|update|make|"
    r"adjust|bump|increase|decrease|reduce|lower|the|a|an|of|to|from|in|into|out|my|cart|basket|quantity|qty|"
    r"ones?|pieces?|units?|items?|more|another|also|and|buy|get|want|i|would|like|order|instead|just|up|down|"
    r"too|as well|tell|me|about|details?|describe|info|information|what|is|how|many|much|are|there|some|any|both|"
    r"all|all of|"
    r"only|need|yes|ok|okay|hey|hi|thanks|then|now|actually|let'?s|go|with|can|could|may|guys|do|does|pls|plz|"
    r"great|cool|nice|sure|awesome|perfect|alright|fine|good|oops|sorry|u|hmm|too many|too much|that'?s|"
    r"we|you|never ?mind|please)\b"
)
ZH_ACTION_WORDS = (
    r"加入购物车|加到购物车|放进购物车|放入购物车|[加放装拿]进去|拿出去|[在往向到]?购物车(?:里|中)?的?|从购物车|加购|请|帮我|给我|把|将|加入|加到|放进|放入|"
    r"删除|删掉|删了|去掉|移除|拿掉|拿出|拿走|扔掉|不想要|不需要|进去|进来|出去|出来|不要了|不要|别要|改成|改为|换成|变成|设为|调到|调成|调整为|改到|数量|我想|我要|需要|我|想|"
    r"一下|介绍|详细|详情|怎么样|什么样|说说|算了|算啦|还是|搞错了|错了|不对|吧|了|的|吗|呢|啊|嗯"
)
ZH_EDGE_WORDS = (
    r"^[加来要买拿再也还就好请把将都给那]+[个只件]?(?=..)|[加来要买拿再也还就好里中那]+$"  # verbs at a phrase's edge
)


@dataclass
class Utterance:
    """What the shopper said, in the engine's terms."""

    text: str
    intent: str
    lang: str | None  # "zh-hans", "en", or None when the text says nothing about it (a number)
    words: str = ""  # the product words ("green tea", "龙井"), requests and numbers taken out
    quantity: int | None = None
    ordinal: int | None = None  # a position in the list last shown; -1 is the last one
    refers: str = ""  # "one" (it, that), "many" (those, 这两个) or ""
    min_price: int | None = None
    max_price: int | None = None
    sort: str = "relevance"
    in_stock: bool = False
    cheaper: bool = False
    more: bool = False  # "show me more": the same search, a longer list
    contact: dict = field(default_factory=dict)
    order_id: int | str | None = None  # the order's number as the shopper saw it, or its id
    code: str = ""  # a discount code ("use code WELCOME10")
    shipping: str = ""  # the words naming a shipping option ("express", "顺丰"), or "fastest" / "cheapest"
    default_address: bool = False  # "ship to my default address"
    guessed: bool = False  # no rule and no example fitted: a search is only a guess
    then: str = ""  # "checkout" when the shopper asks to check out after the cart action ("add X and pay")
    extreme: str = ""  # "cheapest" or "priciest": the one of the list shown ("the cheapest one", "最贵的")


def language(text: str) -> str | None:
    if is_chinese(text):
        return "zh-hans"
    return "en" if re.search(r"[a-zA-Z]{2}", text) else None


def search_terms(text: str) -> str:
    """Return the keywords left once the request words are gone: "show me cheap mugs" -> "mug"."""
    if is_chinese(text):
        text = re.sub(ZH_FILLER, " ", text)
        text = re.sub(r"^\s*有", " ", text)
    text = re.sub(EN_FILLER, " ", text)
    text = re.sub(r"[^\w\s\-]", " ", text)
    words = [
        rules.singular(word) if not is_chinese(word) else re.sub(r"^[再还也又另在个]+(?=..)", "", word)
        for word in text.split()
        if _meaningful(word) and not re.fullmatch(r"[再还也又另在个]+", word)
    ]
    return " ".join(words[:6])


def _meaningful(word: str) -> bool:
    """Leave out the scraps of contractions and fillers ("ll" of "I'll", "s" of "that's")."""
    return is_chinese(word) or len(word) > 2 or any(char.isdigit() for char in word)


def product_words(text: str) -> str:
    """Return what is left of a request once verbs, numbers and cart words are gone: the product."""
    text = re.sub(CART_PHRASE, " ", text)
    text = re.sub(ACTION_WORDS, " ", text)
    text = re.sub(ZH_ACTION_WORDS, " ", text)
    text = re.sub(r"[^\w\s\-]", " ", text)
    words = [re.sub(ZH_EDGE_WORDS, "", word) if is_chinese(word) else rules.singular(word) for word in text.split()]
    return " ".join(word for word in words if word and not word.isdigit() and _meaningful(word))


ORDER_NUMBER = r"(?<![a-z0-9])#?((?=[a-z]*\d)[2-9a-hjkmnp-z]{12})(?![a-z0-9])"


def _order_id(t: str) -> int | str | None:
    """Return the order the text names: its number (what the shopper sees, upper-cased) or its id."""
    number = re.search(ORDER_NUMBER, t)
    if number:
        return number.group(1).upper()
    match = re.search(
        r"(?:\border|订单|单号)\s*(?:number|no\.?|号)?\s*#?\s*(\d{1,9})(?!\d)|#\s*(\d{1,9})(?!\d)|(?<!\d)(\d{1,9})\s*号?订单",
        t,
    )
    if match:
        return int(next(group for group in match.groups() if group))
    return None


def _rule_intent(t: str, contact: dict) -> str | None:
    """Return the intent the rules are sure of, or None."""
    for intent, pattern in (("greet", GREETING), ("thanks", THANKS), ("confirm", CONFIRM), ("decline", DECLINE)):
        if re.search(pattern, t):
            return intent
    checkout_intent = _checkout_intent(t)
    if checkout_intent:
        return checkout_intent
    if re.search(NEGATED, t):
        return "keep"
    if re.search(CLEAR, t) and not re.search(CANCEL, t):
        return "clear_cart"
    if re.search(CANCEL, t):
        return "cancel_order"
    whole_address = len(contact.get("address", "")) >= 0.8 * len(t) and rules.is_address(t)
    if contact.get("phone") or len(contact) >= 2 or (contact and re.search(CONTACT_LABEL, t)) or whole_address:
        return "contact"
    checkout, adding = re.search(CHECKOUT, t), re.search(ADD, t)
    if checkout and not (adding and adding.start() < checkout.start()):
        return "checkout"
    for intent, pattern in (("set_quantity", UPDATE), ("remove", REMOVE), ("add", ADD), ("view_cart", VIEW_CART)):
        if re.search(pattern, t) and not (intent == "remove" and re.search(ADD_CUE, t)):
            return intent
    if re.search(ORDERS, t):
        return "orders"
    for intent, pattern in (("categories", CATEGORIES), ("help", HELP), ("refine", REFINE), ("refine", MORE)):
        if re.search(pattern, t):
            return intent
    return None


def _checkout_intent(t: str) -> str | None:
    """Return the checkout intent the text asks for, if any: a code, shipping, the saved address, the deadline."""
    if re.search(CODE_WORD, t) and not re.search(r"\bpostal code\b|\bzip code\b|邮编|邮政编码", t):
        return "remove_code" if re.search(REMOVE + "|" + CANCEL + r"|不用|别用", t) else "apply_code"
    if re.search(r"^(?:please )?(?:apply|redeem|use)\b", t) and code_in(t):  # "apply welcome10"
        return "apply_code"
    if re.search(PAY_BY, t):
        return "pay_by"
    if re.search(DEFAULT_ADDRESS, t):
        return "checkout"
    if re.search(SHIPPING_ASK, t):
        return "shipping"
    if re.search(SHIP_CHOICE, t):
        return "choose_shipping"
    return None


def code_in(text: str) -> str:
    """Return the discount code in the text as typed ("WELCOME10"), or ""."""
    for match in re.finditer(CODE_SHAPE, unicodedata.normalize("NFKC", text)):
        if not re.fullmatch(CODE_WORD + r"|apply|use|redeem|enter|try|please|remove|delete", match.group(1).lower()):
            return match.group(1).upper()
    return ""


def shipping_words(t: str) -> str:
    """Return how the shopper names a shipping option: "fastest", "cheapest", or the words of its name."""
    words = " ".join(re.sub(r"[^\w\s]", " ", re.sub(SHIP_WORDS, " ", t)).split())
    if re.fullmatch(r"(?:express|特快|加急|最快的?|fastest|quickest)?", words) and re.search(SHIP_FAST, t):
        return "fastest"
    if re.fullmatch(r"(?:cheapest|最便宜的?|economy|regular|normal)?", words) and re.search(SHIP_CHEAP, t):
        return "cheapest"
    return words


def understand(text: str, *, by_meaning: bool = True) -> Utterance:
    """Return what the shopper asks for. `by_meaning=False` uses the rules alone."""
    t = normalize(text).strip(" ?？!！.。")
    lang = language(text)
    if not t:
        return Utterance(text, "unknown", lang)
    contact = rules.contact(text)
    intent = _rule_intent(t, contact)
    low, high, rest = rules.prices(t)
    position, rest = rules.ordinal(rest)
    refers, rest = rules.reference(rest)
    guessed = False
    if intent is None:
        counted = rules.quantity(rest)[0] is not None
        wants = (re.search(WEAK_ADD, t) and (position is not None or refers or counted)) or re.search(ASK_FOR, t)
        wants = wants and not re.search(WEIGHING, t)  # "这个要不要买": a question, not an order
        if wants:
            intent = "add"
        elif re.search(DETAILS, t) or ((position is not None or refers) and re.search(DETAILS_OF_IT, t)):
            intent = "details"
        elif re.search(SEARCH, t) or low is not None or high is not None:
            intent = "search"
        elif (position is not None or refers) and not product_words(rest):
            intent = "details"  # "the second one", "那个": a pointer and nothing else
    bare = len(t.split()) <= 2 if not is_chinese(t) else len(t) <= 4  # a bare name ("mug", "跑鞋") is a search
    if intent is None and by_meaning and not bare:
        found = intents.classify(text)
        if found is not None and found[0] not in DESTRUCTIVE:
            intent = found[0] if found[0] != "chitchat" else "unknown"
    if intent is None and (position is not None or refers):
        intent = "details"
    if intent is None:
        short = len(t.split()) <= 4 if not is_chinese(t) else len(t) <= 8
        intent, guessed = ("search", True) if short else ("unknown", False)
    utterance = Utterance(
        text, intent, lang, ordinal=position, refers=refers, min_price=low, max_price=high, guessed=guessed
    )
    if intent == "set_quantity":
        utterance.quantity, rest = rules.new_quantity(rest)
    elif intent in ("add", "remove", "details"):
        utterance.quantity, rest = rules.quantity(rest)
    if intent in ("search", "refine"):
        utterance.more = bool(re.search(MORE, t))
        utterance.words = "" if utterance.more else search_terms(rest)  # "more": the same search, longer
        utterance.cheaper = bool(re.search(r"\bcheaper\b|less expensive|more affordable|更便宜|便宜一?点|再便宜", t))
        if re.search(r"\b(?:cheap|cheapest|inexpensive|budget|affordable|lowest price)\b|便宜|实惠|划算", t):
            utterance.sort = "price_asc"
        elif re.search(r"\b(?:expensive|premium|high-end|priciest)\b|最贵|高端|贵的", t):
            utterance.sort = "price_desc"
        utterance.in_stock = bool(re.search(r"\bin stock\b|\bavailable\b|有货|现货|有库存", t))
    else:
        utterance.words = product_words(rest)
    if intent in ("refine", "search") and re.search(EXTREME, t) and re.search(COMPARED_ONE, t):
        intent = utterance.intent = "details"  # "the cheaper one": one of the list shown, not a new search
    if intent in ("add", "remove", "details", "set_quantity", "unknown"):
        match = re.search(EXTREME, t)
        if match:
            cheap = re.search(r"cheap|least|less|便宜|实惠", match.group())
            utterance.extreme = "cheapest" if cheap else "priciest"
            scraps = r"|\bones?\b|\b(?:cheaper|pricier|dearer|expensive|less|more)\b|更|较|便宜|贵|实惠"
            utterance.words = " ".join(re.sub(EXTREME + scraps, " ", utterance.words).split())
            utterance.intent = "details" if intent == "unknown" else intent
    if intent in ("contact", "checkout"):
        utterance.contact = contact
    if intent == "add" and re.search(CHECKOUT, t):
        utterance.then, utterance.contact = "checkout", contact
        rest = re.sub(CHECKOUT + r"|然后|接着|\b(?:and|then|take|go)\b", " ", rest)
        utterance.words = product_words(rest)
    if intent in ("orders", "cancel_order", "pay_by"):
        utterance.order_id = _order_id(t)
    if intent in ("apply_code", "remove_code"):
        utterance.code = code_in(text)
    if intent == "choose_shipping":
        utterance.shipping = shipping_words(t)
    utterance.default_address = intent == "checkout" and bool(re.search(DEFAULT_ADDRESS, t))
    return utterance
