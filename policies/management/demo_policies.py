"""The demo shop's policy pages (seed_demo): shipping, returns, terms and privacy in Chinese and English, published.

They describe what this shop does (the demo's shipping rates, cancelling before shipment, the payment deadline,
what is stored and for how long) and say that they are a starting point: the owner edits them in the admin
(Shop policies) before opening a real shop. Pages that exist are left as they are (staff edits survive).
"""

from django.conf import settings
from django.utils import translation

from mcpshop_site.countries import country_name
from mcpshop_site.money import money
from orders.management.demo_pricing import FREE_SHIPPING_OVER_CENTS, SHIPPING
from policies.models import Policy

REGIONS_EN = {"新疆": "Xinjiang", "西藏": "Tibet"}

NOTE = "这是 MCPshop 演示商店的示例文本。店主开店前请在管理后台（店铺政策）中核对并修改，补充经营者名称和联系方式。"
NOTE_EN = (
    "This is a starting text written for the MCPshop demo shop. Before opening a real shop, its owner reviews and "
    "adapts it in the admin (Shop policies), adding who runs the shop and how to reach them."
)


def _shipping_rates(language: str) -> str:
    """Return the demo's shipping methods with their rates, a paragraph of lines each, in `language`."""
    english = language == "en"
    blocks = []
    with translation.override(language):
        for name, name_en, _position, rates in SHIPPING:
            lines = [name_en if english else name]
            for country, region, price_cents, days in rates:
                place = country_name(country)
                if region:
                    place += " " + (REGIONS_EN.get(region, region) if english else region)
                if english:
                    lines.append(f"· {place}: {money(price_cents)}, about {days} day{'s' * (days > 1)}")
                else:
                    lines.append(f"· {place}：{money(price_cents)}，约 {days} 天")
            blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _text(*blocks) -> str:
    """Join blocks into a page's text: a heading ("# ..."), a paragraph, or a tuple of lines kept as lines."""
    return "\n\n".join("\n".join(block) if isinstance(block, tuple) else block for block in blocks)


def _texts() -> dict[str, tuple[str, str, str, str]]:
    """Return {kind: (title, text, English title, English text)}."""
    free = money(FREE_SHIPPING_OVER_CENTS)
    minutes = settings.ORDER_PAYMENT_MINUTES.normalize()
    shipping = _text(
        NOTE,
        "# 配送范围与运费",
        "我们通过以下方式发货。结账时会根据收货地址列出可选的配送方式和运费，付款前即可看到订单总额。"
        "以下未列出的地区暂不配送，结账时会提示。",
        _shipping_rates("zh-hans"),
        "# 包邮",
        f"订单商品金额（优惠前）满 {free}，所有配送方式免运费。",
        "# 时效",
        "所列天数为预计送达时间，从订单发货起计算。订单发货后，订单页面会显示“已发货”，我们也会发送邮件通知。",
    )
    shipping_en = _text(
        NOTE_EN,
        "# Where we ship and what it costs",
        "We ship with the methods below. At checkout the options and their prices for your address are listed, "
        "and you see the order's total before you pay. Places not listed are not served yet: checkout says so.",
        _shipping_rates("en"),
        "# Free shipping",
        f"Orders whose goods come to {free} or more (before discounts) ship free, whatever the method.",
        "# Delivery times",
        "The days given are estimates from the day the order ships. When it ships, the order's page says "
        "“Shipped” and we send you an email.",
    )
    returns = _text(
        NOTE,
        "# 发货前取消",
        "订单发货前，您可以随时在“订单”中打开该订单，点击“取消订单”，或让购物助手为您取消（需要您在店内确认）。"
        "取消后商品库存立即释放。",
        "# 退款",
        "已付款的订单在发货前取消，将全额退还已付金额（商品、运费和税费），原路退回到您付款时使用的支付方式。"
        "退款在取消时即发起，到账时间取决于支付机构。店铺也可以取消已付款订单中的单件商品，退还该商品的实付金额及对应税费。",
        "# 发货后",
        "订单发货后无法在线取消。如需退货，请联系我们：店主请在此说明退货地址、期限以及退货运费由谁承担。",
        "# 优惠码",
        "已取消订单所使用的优惠码不会退回，仍计为已使用。",
    )
    returns_en = _text(
        NOTE_EN,
        "# Cancelling before shipment",
        "Until your order ships you can cancel it: open it under Orders and press “Cancel order”, or ask the "
        "shopping assistant to (you confirm it in the shop). The items go back into stock at once.",
        "# Refunds",
        "A paid order cancelled before it ships is refunded in full (goods, shipping and tax) to the payment method "
        "you paid with. The refund is made when the order is cancelled; when it reaches you depends on your payment "
        "provider. The shop can also cancel single items of a paid order, refunding what you paid for them with "
        "their share of the tax.",
        "# After shipment",
        "A shipped order cannot be cancelled online. To return goods, contact us: the shop's owner describes here "
        "where to send them, within how long, and who pays for the return shipping.",
        "# Discount codes",
        "A discount code used on an order that is cancelled stays used.",
    )
    terms = _text(
        NOTE,
        "# 价格与付款",
        "结账时列出商品、优惠、运费、税费和总额，您付款的金额就是所列总额。下单时我们为您保留库存；"
        f"订单需在 {minutes} 分钟内付款，逾期未付款的订单自动失效，库存随即释放。"
        "付款通过我们的支付服务商完成，本店不会看到或保存您的银行卡信息。",
        "# 库存",
        "下单时若某件商品库存不足，整笔订单不会成立，您不会被扣款。",
        "# 购物助手与 AI 代理",
        "购物助手以及您连接到账户的应用（MCP 客户端）可以为您搜索商品、加入购物车和准备订单，"
        "但下单和取消订单都必须由您本人在本店页面上确认。"
        "通过 AI 购物平台（UCP、ACP）下单时，平台使用您在该平台授权的付款凭证完成支付。",
        "# 取消与退款",
        "见“退换货政策”。",
        "# 条款变更",
        "本页顶部显示最近更新日期。",
    )
    terms_en = _text(
        NOTE_EN,
        "# Prices and payment",
        "Checkout lists the goods, discounts, shipping, tax and the total, and the total is what you pay. Placing "
        f"an order holds its stock for you; it must be paid within {minutes} minutes, after which an unpaid order "
        "expires and the stock is released. Payments go through our payment provider: the shop never sees or "
        "stores your card details.",
        "# Stock",
        "If an item is short of stock when you place the order, the whole order is refused and nothing is charged.",
        "# The shopping assistant and AI agents",
        "The shopping assistant, and apps you connect to your account (MCP clients), can search, fill your cart "
        "and prepare an order, but placing or cancelling an order always needs your own confirmation on the "
        "shop's page. When you buy through an AI shopping platform (UCP, ACP), the platform pays with a payment "
        "credential you gave it.",
        "# Cancelling and refunds",
        "See the returns policy.",
        "# Changes",
        "The date at the top of this page says when these terms last changed.",
    )
    privacy = _text(
        NOTE,
        "# 我们保存的信息",
        (
            "账户：用户名、电子邮箱、界面语言；密码只保存不可逆的哈希值。",
            "地址簿：您保存的收件人、电话和地址（最多 20 个），可随时在账户页面修改或删除。",
            "订单：联系人、收货地址、商品、金额、付款和退款记录（支付服务商的参考号，不含银行卡信息），以及订单邮件。",
            "购物车：商品和数量；未登录时通过浏览器 Cookie 识别。",
            "与购物助手的对话：您的消息、助手的回复和它代您执行的操作，保存在您的账户下（账户 › 您的对话）。"
            "若本店配置了外部 AI 模型服务，您的消息和回答所需的商品信息会发送给该服务商。",
            "已连接的应用：您创建的 MCP 令牌（只保存哈希值）和您授权的应用，可在账户页面随时撤销。",
        ),
        "通过 AI 购物平台下单时，平台会向我们提供下单所需的姓名、邮箱和地址。"
        "某个平台提交的地址只会再提供给同一个平台。",
        "# Cookie",
        "我们只使用必要的 Cookie：登录会话、防跨站请求伪造、语言偏好和访客购物车。不使用分析或广告 Cookie。",
        "# 保存期限",
        "账户、地址、订单和对话在您的账户存续期间保存；如需删除账户及其数据，请联系我们。重置密码的链接一天内有效。"
        "AI 平台请求的幂等记录保存 48 小时。过期的授权令牌每天清理。后台任务（例如发送邮件）的记录在完成 14 天后删除。",
        "# 谁能看到",
        "本店工作人员（处理订单和客服）、支付服务商（付款和退款）、邮件服务商（订单邮件），"
        "以及上文提到的 AI 模型服务商。我们不出售您的个人信息。",
    )
    privacy_en = _text(
        NOTE_EN,
        "# What we keep",
        (
            "Your account: user name, email address and language; your password only as a one-way hash.",
            "Your address book: the recipients, phone numbers and addresses you save (at most 20); change or delete "
            "them any time on your account page.",
            "Your orders: contact, delivery address, items, amounts, payment and refund records (the payment "
            "provider's reference, never card details) and the order's emails.",
            "Your cart: the items and quantities; before you sign in, a browser cookie tells us which cart is yours.",
            "Your conversations with the shopping assistant: your messages, its replies and what it did for you, "
            "kept with your account (Account › Your conversations). If this shop uses an outside AI model service, "
            "your messages and the product details needed to answer them are sent to it.",
            "Connected apps: the MCP tokens you create (kept only as a hash) and the apps you authorised, revocable "
            "any time on your account page.",
        ),
        "When you buy through an AI shopping platform, it passes us the name, email address and address the order "
        "needs. An address one platform sends is offered again only to that platform.",
        "# Cookies",
        "Only the cookies the shop needs: your sign-in session, protection against cross-site request forgery, "
        "your language and a guest's cart. No analytics or advertising cookies.",
        "# How long",
        "Your account, addresses, orders and conversations are kept while your account exists; contact us to have "
        "your account and its data deleted. Password reset links work for one day. AI platforms' idempotency "
        "records are kept for 48 hours. Expired authorisation tokens are removed daily. Records of background jobs "
        "(such as sending an email) are deleted 14 days after they finish.",
        "# Who sees it",
        "The shop's staff (to handle orders and questions), the payment provider (payments and refunds), the email "
        "provider (order emails) and, as above, an AI model service. We do not sell your personal information.",
    )
    return {
        Policy.Kind.SHIPPING: ("配送政策", shipping, "Shipping policy", shipping_en),
        Policy.Kind.RETURNS: ("退换货政策", returns, "Returns and refunds", returns_en),
        Policy.Kind.TERMS: ("服务条款", terms, "Terms of service", terms_en),
        Policy.Kind.PRIVACY: ("隐私政策", privacy, "Privacy policy", privacy_en),
    }


def load_demo_policies() -> str:
    """Create the policy pages that are missing, published; say how many there are."""
    created = 0
    for kind, (title, body, title_en, body_en) in _texts().items():
        _page, made = Policy.objects.get_or_create(
            kind=kind,
            defaults={"title": title, "body": body, "title_en": title_en, "body_en": body_en, "is_published": True},
        )
        created += made
    return f"Policy pages: {len(Policy.Kind)} ({created} created), edit them in the admin under Shop policies."
