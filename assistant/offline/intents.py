"""Intents by meaning: the utterance is compared with labelled example utterances in both languages,
embedded once per process by the shop's local embedding model (catalog.search.embeddings).

The examples are not a phrase list to match: they mark out each intent's region of meaning, so
"could you take the candle out" lands beside "remove the mug from my cart". When the embedding
backend is switched off or cannot load, `classify` answers None and the rules decide alone.
"""

import logging
import threading

import numpy as np

from catalog.search.embeddings import EmbeddingsUnavailable, embed_query, get_backend

logger = logging.getLogger(__name__)

EXAMPLES = {
    "search": [
        "do you have green tea", "show me running shoes", "I'm looking for a yoga mat", "any headphones?",
        "I need something to keep my coffee hot", "what kind of coffee beans do you sell", "find me a tent",
        "recommend a gift for a tea lover", "有没有龙井", "我想买耳机", "给我看看跑鞋", "有什么好喝的茶",
        "推荐一款机械键盘", "找一下保温杯", "想买个台灯", "有卖帐篷的吗",
    ],
    "refine": [
        "something cheaper", "anything less expensive?", "show me cheaper ones", "only the green ones",
        "just the cheaper options please", "a bit more affordable", "便宜一点的", "有没有更便宜的", "只要绿茶",
        "再便宜点", "只看便宜的", "价格低一点的",
    ],
    "details": [
        "tell me more about the second one", "what is the first one like", "describe it", "more details on that",
        "how big is it", "第二个详细介绍一下", "这个怎么样", "介绍一下这款", "说说第一个", "它有什么特点",
    ],
    "add": [
        "add it to my cart", "I'll take two of those", "put the first one in my basket", "add 3 mugs to the cart",
        "I want to buy this one", "give me one of those", "add the longjing", "yes I'll get that one",
        "加入购物车", "这个来两件", "我要买这个", "把第一个加到购物车", "给我来一个", "要两件龙井", "这款我要了",
    ],
    "set_quantity": [
        "make it 3", "change the quantity to 2", "I want 4 of them instead", "set the mug to 5", "just one is enough",
        "bump it up to 4", "改成3件", "数量改为两个", "帮我把数量调成5", "换成一件就行", "改为四个",
    ],
    "remove": [
        "remove the mug from my cart", "take the tea out", "delete that item", "I don't want the shoes anymore",
        "get rid of the candle", "drop the second one", "删掉茶叶", "不要这个了", "把杯子从购物车里拿掉",
        "去掉第二个", "把鞋删了",
    ],
    "clear_cart": [
        "clear my cart", "empty the basket", "remove everything from my cart", "start over with an empty cart",
        "清空购物车", "购物车全部删掉", "把购物车里的东西都去掉", "全部不要了",
    ],
    "view_cart": [
        "what's in my cart", "show my basket", "can I see my cart", "how much is my cart", "check my cart",
        "购物车里有什么", "看看购物车", "我的购物车", "购物车多少钱", "我都买了什么",
    ],
    "checkout": [
        "place the order", "check out", "I'm ready to pay", "buy everything in my cart", "let's complete the purchase",
        "I want to order now", "下单", "结账", "帮我下单", "我要付款", "提交订单", "就这些，买单",
    ],
    "orders": [
        "where is my order", "track my package", "has my parcel shipped", "show my orders", "what's my order status",
        "when will my order arrive", "is my parcel on its way", "我的订单到哪了", "查一下订单", "我的快递发货了吗",
        "看看我的订单", "订单状态", "我买的东西寄出了吗", "包裹什么时候到",
    ],
    "cancel_order": [
        "cancel my order", "cancel it", "I don't want that order anymore", "please cancel the order I just made",
        "call off my purchase", "I changed my mind about the order", "取消订单", "取消它", "我不想要这个订单了",
        "帮我把订单取消", "撤销刚才的订单", "刚下的单不要了",
    ],
    "categories": [
        "what categories do you have", "what do you sell", "what kinds of products are there", "show me departments",
        "有哪些分类", "你们都卖什么", "有什么种类的商品", "商品分类",
    ],
    "help": [
        "help", "what can you do", "how does this work", "how do I use you", "帮助", "你能做什么", "怎么用", "你会什么",
    ],
    "greet": ["hello", "hi there", "good morning", "hey", "你好", "您好", "嗨", "早上好"],
    "thanks": ["thanks", "thank you so much", "great, thanks", "cheers", "谢谢", "多谢", "太好了谢谢", "感谢"],
    "chitchat": [
        "what's the weather like", "tell me a joke", "who won the game yesterday", "what time is it",
        "今天天气怎么样", "讲个笑话", "你是谁", "现在几点了",
    ],
}  # fmt: skip

# A nearest example closer than this counts; below it the utterance is not like any example
# (gibberish, another topic) and the rules decide. Measured: matches score 0.88-0.95, noise 0.78-0.85.
CONFIDENT = 0.875


class _Index:
    """The examples' vectors, built once per backend (an embedding per example, ~11 ms each)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._model: str | None = None
        self.labels: list[str] = []
        self.matrix: np.ndarray | None = None

    def get(self) -> tuple[list[str], np.ndarray]:
        backend = get_backend()
        with self._lock:
            if self._model != backend.model or self.matrix is None:
                texts = [text for examples in EXAMPLES.values() for text in examples]
                self.labels = [label for label, examples in EXAMPLES.items() for _ in examples]
                self.matrix = np.stack([embed_query(text) for text in texts])
                self._model = backend.model
            return self.labels, self.matrix


_index = _Index()


def classify(text: str) -> tuple[str, float] | None:
    """Return the intent of the closest examples and how close they are, or None when unsure or unable."""
    try:
        labels, matrix = _index.get()
        scores = matrix @ embed_query(text)
    except EmbeddingsUnavailable:
        return None
    except Exception:  # a model failure must not take the assistant down with it
        logger.exception("intent classification failed")
        return None
    best: dict[str, float] = {}
    for label, score in zip(labels, scores.tolist(), strict=True):
        best[label] = max(best.get(label, 0.0), score)
    ranked = sorted(best.items(), key=lambda item: item[1], reverse=True)
    label, score = ranked[0]
    if score < CONFIDENT:
        return None
    return label, score
