# ruff: noqa: E501  (data: one bilingual description per line reads better than split strings)
"""The demo catalog loaded by `manage.py seed_demo`: categories and products in Chinese and English.

Prices are CNY cents. A few products are sold out or nearly so, a few are featured.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoCategory:
    slug: str
    name: str
    name_en: str
    colour: str  # the base colour of its product images
    icon: str  # the shape drawn on them (see demo_images.ICONS)
    parent: str | None = None


@dataclass(frozen=True)
class DemoProduct:
    sku: str
    category: str
    name: str
    name_en: str
    price_cents: int
    stock: int
    description: str
    description_en: str
    featured: bool = False


CATEGORIES = [
    DemoCategory("tea", "茶叶", "Tea", "#6FA56B", "tea"),
    DemoCategory("coffee", "咖啡", "Coffee", "#9C6B4E", "coffee"),
    DemoCategory("kitchen", "厨房", "Kitchen", "#D9734E", "kitchen"),
    DemoCategory("sports", "运动", "Sports", "#3F86C9", "sports"),
    DemoCategory("running-shoes", "跑鞋", "Running shoes", "#E0584F", "shoe", parent="sports"),
    DemoCategory("electronics", "数码", "Electronics", "#5A67A8", "electronics"),
    DemoCategory("stationery", "文具", "Stationery", "#D9A233", "stationery"),
    DemoCategory("home", "家居", "Home", "#B77BA8", "home"),
    DemoCategory("outdoor", "户外", "Outdoor", "#3D8C7A", "outdoor"),
]

P = DemoProduct

PRODUCTS = [
    # 茶叶 Tea
    P(
        "TEA-001",
        "tea",
        "西湖龙井 明前特级 250g",
        "West Lake Longjing, Pre-Qingming Grade, 250 g",
        58800,
        36,
        "杭州西湖产区明前采摘的一芽一叶，手工炒制，扁平挺直、色泽嫩绿。豆香清雅，回甘持久，建议用80℃的水在玻璃杯中冲泡。铁罐密封，净含量250克。",
        "One bud and one leaf picked before Qingming in Hangzhou's West Lake area and pan-fired by hand: flat, "
        "straight, jade-green leaves. A clean chestnut aroma and a long sweet finish; brew in a glass at 80 °C. "
        "Sealed tin, 250 g.",
        featured=True,
    ),
    P(
        "TEA-002",
        "tea",
        "安溪铁观音 清香型 500g",
        "Anxi Tieguanyin Oolong, Light Roast, 500 g",
        16800,
        120,
        "福建安溪核心产区的秋茶，清香型轻焙火，颗粒紧结呈砂绿色。兰花香明显，汤色金黄透亮，可冲泡七次以上。内含真空小包，每包7克，方便出差携带。",
        "Autumn-harvest oolong from the heart of Anxi, Fujian, lightly roasted and rolled into tight sand-green "
        "pearls. A clear orchid aroma and a bright golden liquor that lasts seven infusions or more. Packed in "
        "7 g vacuum sachets, handy for travel.",
    ),
    P(
        "TEA-003",
        "tea",
        "武夷山大红袍 岩茶 200g",
        "Wuyi Da Hong Pao Rock Oolong, 200 g",
        26800,
        48,
        "武夷山正岩产区，传统炭焙工艺，条索紧实乌润。入口醇厚，带有岩韵和桂皮香，适合用紫砂壶以沸水快出汤。牛皮纸礼盒装，200克。",
        "Grown among the cliffs of the Wuyi Mountains and finished over charcoal in the traditional way: dark, "
        "tightly twisted leaves. A rich, mineral 'rock' taste with a hint of cinnamon; brew with boiling water in "
        "a clay pot and pour quickly. Kraft-paper gift box, 200 g.",
    ),
    P(
        "TEA-004",
        "tea",
        "云南普洱熟茶饼 357g",
        "Yunnan Ripe Pu-erh Tea Cake, 357 g",
        19800,
        64,
        "勐海大叶种晒青毛茶渥堆发酵后压制成饼，2019年生产，干仓存放。汤色红浓，口感顺滑带枣香，暖胃耐泡。棉纸包装，附赠普洱茶刀。",
        "Sun-dried Menghai large-leaf tea, wet-piled, fermented and pressed into a traditional cake in 2019, "
        "stored dry since. A deep red, smooth cup with notes of dried dates, gentle on the stomach and good for "
        "many infusions. Wrapped in cotton paper, with a pu-erh pick included.",
    ),
    P(
        "TEA-005",
        "tea",
        "福鼎白茶 白毫银针 100g",
        "Fuding White Tea, Silver Needle, 100 g",
        32800,
        2,
        "福鼎大白茶的头春单芽，自然萎凋、不炒不揉，满披白毫。毫香蜜韵，滋味清甜，用90℃的水焖泡或煮饮皆宜。限量采摘，每年仅供应一批。",
        "First-flush single buds of the Fuding Da Bai cultivar, simply withered and dried, never rolled, covered "
        "in silver down. Honeyed and delicate; steep at 90 °C or simmer in a kettle. A small harvest, offered "
        "once a year.",
    ),
    P(
        "TEA-006",
        "tea",
        "祁门红茶 特级 150g",
        "Keemun Black Tea, Special Grade, 150 g",
        9800,
        150,
        "安徽祁门的工夫红茶，条索细秀，带有独特的“祁门香”，似花似果又带蜜糖香。可清饮，也适合加奶调成奶茶。铝箔内袋锁香，150克罐装。",
        "Congou black tea from Qimen, Anhui, with fine twisted leaves and the famous 'Keemun aroma' of flowers, "
        "fruit and honey. Lovely on its own and sturdy enough for milk tea. Foil-lined tin, 150 g.",
    ),
    P(
        "TEA-007",
        "tea",
        "茉莉花茶 飘雪 250g",
        "Jasmine Green Tea 'Piaoxue', 250 g",
        6800,
        200,
        "四川蒙顶山绿茶坯与当季茉莉鲜花窨制五次，冲泡时花瓣如雪片漂浮。花香鲜灵不闷，茶汤清爽，冷泡同样好喝。250克家庭装，性价比之选。",
        "Green tea from Mengding Mountain, Sichuan, scented five times with fresh summer jasmine; the petals "
        "float like snowflakes when brewed. Fresh and floral rather than heavy, and excellent cold-brewed. "
        "A 250 g family pack at an everyday price.",
    ),
    P(
        "TEA-008",
        "tea",
        "便携旅行茶具套装",
        "Portable Travel Tea Set",
        15900,
        3,
        "一壶四杯收纳在硬壳布包中，壶身为高硼硅玻璃，内置不锈钢滤网。适合露营、出差和办公室，整套重量仅480克。杯子为白瓷，可放入洗碗机。",
        "One teapot and four cups packed into a padded hard-shell case. The pot is borosilicate glass with a "
        "stainless-steel strainer, and the white porcelain cups are dishwasher-safe. Made for camping, business "
        "trips and the office; the whole set weighs just 480 g.",
    ),
    # 咖啡 Coffee
    P(
        "COF-001",
        "coffee",
        "云南保山小粒咖啡豆 中烘 500g",
        "Yunnan Baoshan Arabica Beans, Medium Roast, 500 g",
        8800,
        90,
        "产自云南保山海拔1400米的卡蒂姆种，水洗处理，中度烘焙。坚果与焦糖风味明显，酸度柔和，适合意式和手冲。每周新鲜烘焙，包装带单向排气阀。",
        "Catimor grown at 1,400 m in Baoshan, Yunnan, washed and medium roasted. Nutty and caramel-sweet with "
        "soft acidity, equally good as espresso or pour-over. Roasted fresh every week; the bag has a one-way "
        "valve.",
        featured=True,
    ),
    P(
        "COF-002",
        "coffee",
        "埃塞俄比亚耶加雪菲 浅烘 227g",
        "Ethiopia Yirgacheffe, Light Roast, 227 g",
        11800,
        40,
        "耶加雪菲产区的原生种，水洗处理，浅度烘焙保留花果香。柑橘、茉莉和红茶般的尾韵，推荐用V60以92℃的水手冲。227克，整豆。",
        "Heirloom Ethiopian coffee from Yirgacheffe, washed and lightly roasted to keep its floral side. Citrus, "
        "jasmine and a black-tea finish; we brew it in a V60 at 92 °C. 227 g, whole bean.",
    ),
    P(
        "COF-003",
        "coffee",
        "哥伦比亚慧兰咖啡豆 454g",
        "Colombia Huila Coffee Beans, 454 g",
        9900,
        75,
        "哥伦比亚慧兰省小农庄园的卡杜拉种，中深烘焙。红糖、可可和红苹果的风味，醇厚度高，做拿铁也不会被牛奶盖住。454克整豆。",
        "Caturra from smallholder farms in Huila, Colombia, roasted medium-dark. Brown sugar, cocoa and red "
        "apple with a full body that still shines through milk in a latte. 454 g, whole bean.",
    ),
    P(
        "COF-004",
        "coffee",
        "挂耳咖啡 混合装 30包",
        "Drip Bag Coffee, Assorted, 30 Bags",
        8900,
        260,
        "三种单品各10包：云南、巴西和埃塞俄比亚，每包10克研磨咖啡。挂在杯口注入180毫升热水即可，办公室和旅行都方便。独立充氮包装，保质12个月。",
        "Ten bags each of three single origins, Yunnan, Brazil and Ethiopia, 10 g of ground coffee per bag. "
        "Hang one on a cup and pour in 180 ml of hot water; perfect for the office or travel. Each bag is "
        "nitrogen-flushed and keeps for 12 months.",
        featured=True,
    ),
    P(
        "COF-005",
        "coffee",
        "手冲咖啡壶 细口 600ml",
        "Gooseneck Pour-Over Kettle, 600 ml",
        15900,
        30,
        "304不锈钢壶身，鹅颈细嘴出水稳定，便于控制注水速度。壶盖带温度计，可用于燃气灶和电磁炉。容量600毫升，适合一至两人份。",
        "A 304 stainless-steel kettle with a narrow gooseneck spout for a slow, steady pour, and a thermometer "
        "in the lid. Works on gas and induction hobs. 600 ml, enough for one or two cups.",
    ),
    P(
        "COF-006",
        "coffee",
        "V60 陶瓷滤杯 02号",
        "Ceramic V60 Dripper, Size 02",
        8900,
        55,
        "日本有田烧陶瓷，锥形设计配螺旋导流槽，萃取均匀。保温性好，适合一至四杯。附赠40张原木色滤纸。",
        "Arita porcelain from Japan in the classic cone shape with spiral ribs for an even extraction. Holds "
        "heat well and brews one to four cups. Comes with 40 unbleached paper filters.",
    ),
    P(
        "COF-007",
        "coffee",
        "手摇磨豆机 不锈钢磨芯",
        "Hand Coffee Grinder, Stainless-Steel Burrs",
        19900,
        0,
        "五角不锈钢锥形磨芯，30档刻度可调，从意式细粉到法压粗粉都能胜任。铝合金机身，单手可握，一次可装25克咖啡豆。研磨均匀，细粉少。",
        "Conical stainless-steel burrs with 30 click settings, from espresso-fine to French-press-coarse. "
        "An aluminium body that fits in one hand and holds 25 g of beans. Even grounds with few fines.",
    ),
    P(
        "COF-008",
        "coffee",
        "冷萃咖啡壶 1L",
        "Cold Brew Pitcher, 1 L",
        9900,
        70,
        "耐热玻璃壶身搭配细密不锈钢滤芯，放入咖啡粉和冷水，冷藏12小时即可饮用。密封盖可横放入冰箱门。容量1升，可拆洗。",
        "A heat-resistant glass pitcher with a fine stainless-steel filter: add ground coffee and cold water, "
        "refrigerate for 12 hours, done. The sealed lid lets it lie in the fridge door. 1 L, comes apart for "
        "cleaning.",
    ),
    # 厨房 Kitchen
    P(
        "KIT-001",
        "kitchen",
        "铸铁珐琅锅 24cm",
        "Enamelled Cast-Iron Casserole, 24 cm",
        59900,
        18,
        "厚重铸铁锅身外覆珐琅，受热均匀、锁水保温，炖汤、焖饭、烤面包都适用。容量4.2升，适合三至五人。可用于燃气灶、电磁炉和烤箱。",
        "Heavy cast iron coated in enamel: even heat and a tight lid for stews, braised rice and even bread. "
        "4.2 litres, right for three to five people. Works on gas, induction and in the oven.",
        featured=True,
    ),
    P(
        "KIT-002",
        "kitchen",
        "德式不锈钢主厨刀 20cm",
        "German Stainless-Steel Chef's Knife, 20 cm",
        29900,
        25,
        "X50CrMoV15德国钢一体锻造，硬度56HRC，刃口锋利耐用。全龙骨设计，握感平衡，切肉、切菜、拍蒜都顺手。附赠刀鞘。",
        "Forged in one piece from German X50CrMoV15 steel, hardened to 56 HRC for a sharp, lasting edge. "
        "A full tang for balance: slices meat, dices vegetables, crushes garlic. Blade guard included.",
    ),
    P(
        "KIT-003",
        "kitchen",
        "竹制砧板 大号",
        "Bamboo Cutting Board, Large",
        8900,
        110,
        "整块楠竹拼接压制，尺寸45×30×2厘米，不易开裂、不伤刀刃。一面带导流槽，切水果和熟食时汁水不流到台面。",
        "Pressed from solid moso bamboo, 45 × 30 × 2 cm; resists cracking and is kind to knife edges. One side "
        "has a juice groove so fruit and roast meat do not run onto the counter.",
    ),
    P(
        "KIT-004",
        "kitchen",
        "不粘炒锅 32cm",
        "Non-Stick Wok, 32 cm",
        19900,
        60,
        "铝合金锅身加三层不粘涂层，少油也不粘，翻炒轻松。复合锅底，适用于燃气灶和电磁炉，配可立玻璃锅盖。锅重仅1.4公斤。",
        "An aluminium wok with a three-layer non-stick coating: little oil, nothing sticks, easy tossing. "
        "A bonded base for gas and induction and a glass lid that stands on its rim. Weighs only 1.4 kg.",
    ),
    P(
        "KIT-005",
        "kitchen",
        "IH 电磁加热电饭煲 3L",
        "IH Rice Cooker, 3 L",
        69900,
        3,
        "IH电磁环绕加热，米饭受热均匀、颗粒饱满。3升容量适合二至六人，有精煮、快煮、煲粥和蒸煮等12种功能。内胆为2毫米厚釜，可预约24小时。",
        "Induction heating wraps the whole pot so every grain cooks evenly. 3 litres for two to six people, "
        "with 12 programmes including quick cook, congee and steaming. A 2 mm thick inner pot and a 24-hour "
        "delay timer.",
    ),
    P(
        "KIT-006",
        "kitchen",
        "玻璃保鲜盒 五件套",
        "Glass Food Containers, Set of 5",
        12900,
        140,
        "高硼硅玻璃盒身，可进微波炉、烤箱和冰箱，耐温差120℃。五个尺寸从320毫升到1520毫升，卡扣盖带硅胶密封圈，汤汁不外漏。",
        "Borosilicate glass that goes from freezer to microwave or oven and survives a 120 °C swing. Five "
        "sizes from 320 ml to 1,520 ml with clip-on lids and silicone seals, so soups stay inside.",
    ),
    P(
        "KIT-007",
        "kitchen",
        "硅胶厨具 六件套",
        "Silicone Kitchen Utensils, 6 Pieces",
        7900,
        95,
        "食品级硅胶头包裹不锈钢芯，耐热230℃，不刮伤不粘锅。包含锅铲、汤勺、漏勺、意面勺、刮刀和夹子，附收纳筒。",
        "Food-grade silicone over a stainless-steel core, heat-resistant to 230 °C and safe for non-stick pans. "
        "A turner, ladle, skimmer, pasta server, spatula and tongs, with a holder.",
    ),
    P(
        "KIT-008",
        "kitchen",
        "数字厨房秤 5kg",
        "Digital Kitchen Scale, 5 kg",
        5900,
        180,
        "最大称重5公斤，精度1克，钢化玻璃台面易清洁。支持去皮和克/盎司/毫升切换，烘焙称面粉、冲咖啡称豆子都很准。两节AAA电池供电。",
        "Weighs up to 5 kg in 1 g steps on an easy-to-wipe tempered-glass top. Tare plus g/oz/ml modes for "
        "baking or weighing coffee beans. Runs on two AAA batteries.",
    ),
    # 运动 Sports
    P(
        "SPT-001",
        "sports",
        "TPE 瑜伽垫 6mm",
        "TPE Yoga Mat, 6 mm",
        12900,
        80,
        "双层TPE材质，厚6毫米，回弹好、不易变形，无橡胶异味。尺寸183×61厘米，双面防滑纹理，附背带，重量约900克。",
        "Two-layer TPE, 6 mm thick: springy, keeps its shape and has no rubber smell. 183 × 61 cm with a "
        "non-slip texture on both sides, a carrying strap included; about 900 g.",
    ),
    P(
        "SPT-002",
        "sports",
        "可调节哑铃 2-24kg（单只）",
        "Adjustable Dumbbell, 2–24 kg (single)",
        99900,
        0,
        "旋转手柄即可在2到24公斤之间15档切换，一只顶十五只，节省空间。带底座，钢制配重片外覆防护层。家庭力量训练的好帮手。",
        "Turn the handle to choose one of 15 weights from 2 to 24 kg: fifteen dumbbells in the space of one. "
        "Comes with a stand; the steel plates are coated. A great start for strength training at home.",
    ),
    P(
        "SPT-003",
        "sports",
        "男款速干运动T恤",
        "Men's Quick-Dry Training T-Shirt",
        7900,
        150,
        "轻薄网眼面料，吸湿速干，跑步和健身时后背不闷热。平缝工艺减少摩擦，反光logo便于夜跑。尺码S至XXL，深海蓝色。",
        "A light mesh fabric that wicks sweat and dries fast, so your back stays cool during runs and workouts. "
        "Flat seams to avoid chafing and a reflective logo for night runs. Sizes S to XXL, navy.",
    ),
    P(
        "SPT-004",
        "sports",
        "钢丝轴承跳绳",
        "Speed Jump Rope with Ball Bearings",
        3900,
        220,
        "包胶钢丝绳配双轴承手柄，转速快、不打结，适合双摇和有氧训练。绳长可调至3米，手柄内有配重，节奏更稳。",
        "A coated steel cable with ball-bearing handles: fast, tangle-free and ready for double-unders and "
        "cardio. Adjustable up to 3 m, with weighted handles for a steady rhythm.",
    ),
    # 跑鞋 Running shoes
    P(
        "RUN-001",
        "running-shoes",
        "男款轻量缓震跑鞋",
        "Men's Lightweight Cushioned Running Shoe",
        59900,
        45,
        "超临界发泡中底，轻至245克（42码），缓震回弹兼顾，适合日常训练和半程马拉松。工程网面透气，鞋跟TPU稳定片防止侧翻。",
        "A supercritical-foam midsole, just 245 g in size 42, soft yet springy for daily training and half "
        "marathons. Breathable engineered mesh and a TPU heel clip against rolling over.",
        featured=True,
    ),
    P(
        "RUN-002",
        "running-shoes",
        "女款透气跑鞋",
        "Women's Breathable Running Shoe",
        52900,
        38,
        "专为女性脚型设计的窄鞋跟和宽前掌，一体编织鞋面透气贴合。EVA中底加橡胶耐磨大底，适合每周三到五次的路跑。",
        "Built on a women's last with a narrower heel and roomy forefoot, and a knitted upper that breathes "
        "and hugs. EVA midsole and hard-wearing rubber outsole for three to five road runs a week.",
    ),
    P(
        "RUN-003",
        "running-shoes",
        "碳板竞速跑鞋",
        "Carbon-Plate Racing Shoe",
        129900,
        2,
        "全掌碳纤维板搭配PEBA中底，推进感强，为全程马拉松和比赛日打造。鞋重仅198克，鞋面为单层薄纱网布。建议在完成适应训练后上脚比赛。",
        "A full-length carbon plate in a PEBA midsole for a strong toe-off, built for marathons and race day. "
        "Only 198 g with a single-layer gauze upper. Best worn in races after some training runs to get used "
        "to it.",
    ),
    P(
        "RUN-004",
        "running-shoes",
        "越野跑鞋 防滑大底",
        "Trail Running Shoe with Grippy Outsole",
        69900,
        22,
        "5毫米深齿大底，湿滑岩石和泥地都抓得牢。防泼水鞋面配护趾，中底内置防刺片，适合山地越野和徒步。",
        "5 mm lugs that grip wet rock and mud, a water-repellent upper with a toe guard and a rock plate in the "
        "midsole. Made for mountain trails and fast hikes.",
    ),
    P(
        "RUN-005",
        "running-shoes",
        "红色入门跑鞋",
        "Red Running Shoe, Entry Level",
        29900,
        120,
        "醒目的中国红配色，轻便的EVA中底，适合刚开始跑步和日常健走。鞋面透气网布，鞋垫可拆洗，尺码36至45。",
        "A bold Chinese-red running shoe with a light EVA midsole, ideal for new runners and daily walks. "
        "Breathable mesh upper and a removable, washable insole. Sizes 36 to 45.",
        featured=True,
    ),
    # 数码 Electronics
    P(
        "ELC-001",
        "electronics",
        "主动降噪头戴式蓝牙耳机",
        "Noise-Cancelling Bluetooth Headphones",
        89900,
        28,
        "混合主动降噪，地铁和飞机上的低频噪音显著降低。续航30小时，充电10分钟可听5小时，支持蓝牙5.3和LDAC。蛋白皮耳罩，长时间佩戴也舒适。",
        "Hybrid active noise cancelling that quiets the rumble of trains and planes. 30 hours of playback, "
        "5 hours from a 10-minute charge, Bluetooth 5.3 with LDAC. Soft protein-leather cushions for long "
        "listening.",
        featured=True,
    ),
    P(
        "ELC-002",
        "electronics",
        "真无线蓝牙耳机",
        "True Wireless Earbuds",
        39900,
        65,
        "单耳仅4.5克，入耳稳固，IPX4防水防汗，适合通勤和运动。四麦克风通话降噪，配合充电盒总续航28小时，支持无线充电。",
        "Just 4.5 g per earbud with a secure fit and IPX4 sweat resistance for commuting and workouts. "
        "Four microphones for clear calls and 28 hours in total with the case, which charges wirelessly.",
    ),
    P(
        "ELC-003",
        "electronics",
        "65W 氮化镓快充充电器",
        "65 W GaN Fast Charger",
        14900,
        140,
        "氮化镓芯片让体积缩小一半，两个USB-C口和一个USB-A口，单口最高65瓦，可为笔记本电脑充电。折叠插脚，出差便携。",
        "Gallium-nitride inside makes it half the usual size. Two USB-C ports and one USB-A, up to 65 W from "
        "one port, enough for a laptop. Folding prongs for travel.",
    ),
    P(
        "ELC-004",
        "electronics",
        "移动电源 20000mAh",
        "Power Bank, 20,000 mAh",
        16900,
        85,
        "20000毫安时大容量，可为手机充电约四次。USB-C双向快充22.5瓦，数显电量，可登机携带。",
        "20,000 mAh, about four full phone charges. Two-way 22.5 W USB-C fast charging, a digital battery "
        "display, and allowed in cabin luggage.",
    ),
    P(
        "ELC-005",
        "electronics",
        "87键机械键盘 茶轴",
        "87-Key Mechanical Keyboard, Brown Switches",
        39900,
        33,
        "紧凑的87键布局，茶轴段落感轻柔，打字和游戏都适合。PBT双色注塑键帽不打油，支持有线和蓝牙三模连接，白色背光。",
        "A compact 87-key layout with tactile brown switches, comfortable for typing and gaming. Double-shot "
        "PBT keycaps that don't turn shiny, wired plus Bluetooth tri-mode, white backlight.",
    ),
    P(
        "ELC-006",
        "electronics",
        "静音无线鼠标",
        "Silent Wireless Mouse",
        9900,
        160,
        "静音微动，点击声降低90%，图书馆和深夜办公不打扰他人。2.4G接收器与蓝牙双模，一节五号电池可用12个月。",
        "Silent switches cut click noise by 90%, so libraries and late nights stay quiet. Dual-mode 2.4 GHz "
        "receiver and Bluetooth; one AA battery lasts 12 months.",
    ),
    P(
        "ELC-007",
        "electronics",
        "智能手环 心率血氧",
        "Fitness Band with Heart-Rate and SpO2",
        24900,
        0,
        "1.6英寸AMOLED彩屏，全天心率、血氧和睡眠监测，支持100多种运动模式。5ATM防水，续航14天，可在手机应用中查看数据。",
        "A 1.6-inch AMOLED screen, all-day heart-rate, SpO2 and sleep tracking, and over 100 workout modes. "
        "Water-resistant to 5 ATM with 14 days of battery; your data syncs to the phone app.",
    ),
    P(
        "ELC-008",
        "electronics",
        "USB-C 七合一扩展坞",
        "USB-C Hub, 7-in-1",
        19900,
        50,
        "一根线扩展出HDMI 4K@60Hz、两个USB-A 3.0、SD和TF读卡器、千兆网口和100瓦PD充电口。铝合金外壳散热好，适配笔记本和平板。",
        "One cable gives you HDMI 4K at 60 Hz, two USB-A 3.0 ports, SD and microSD readers, gigabit Ethernet "
        "and 100 W pass-through charging. An aluminium shell that stays cool; works with laptops and tablets.",
    ),
    # 文具 Stationery
    P(
        "STA-001",
        "stationery",
        "A5 点阵笔记本",
        "A5 Dot-Grid Notebook",
        4900,
        300,
        "100克道林纸不洇墨，钢笔书写也不透背。192页点阵内页，锁线装订可平摊，附书签带和松紧带。",
        "100 gsm paper that takes fountain-pen ink without bleeding or show-through. 192 dot-grid pages, "
        "lay-flat sewn binding, a ribbon marker and an elastic band.",
    ),
    P(
        "STA-002",
        "stationery",
        "钢笔 F尖",
        "Fountain Pen, Fine Nib",
        12800,
        45,
        "铱金F尖书写顺滑，适合中文小字。黄铜笔杆配磨砂黑漆，握感沉稳；可用墨囊，也可用附带的吸墨器上墨。",
        "An iridium-tipped fine nib that glides and suits small Chinese characters. A brass barrel in matte "
        "black with a reassuring weight; takes cartridges or the included converter.",
    ),
    P(
        "STA-003",
        "stationery",
        "中性笔 0.5mm 12支装",
        "Gel Pens, 0.5 mm, Pack of 12",
        2400,
        400,
        "0.5毫米子弹头，出墨顺畅，速干不蹭手，适合考试和记笔记。黑色墨水，每支书写长度约400米。",
        "0.5 mm bullet tips with a smooth, quick-drying flow that won't smudge: good for exams and notes. "
        "Black ink, about 400 m of writing per pen.",
    ),
    P(
        "STA-004",
        "stationery",
        "48色彩色铅笔",
        "Coloured Pencils, 48 Colours",
        8900,
        90,
        "油性笔芯，色彩饱和、叠色顺滑，适合素描、手账和涂色书。铁盒装，笔杆为椴木，容易削。",
        "Oil-based leads with rich colour that layer smoothly, for sketching, journaling and colouring books. "
        "In a tin, with basswood barrels that sharpen easily.",
    ),
    P(
        "STA-005",
        "stationery",
        "宣纸书法入门套装",
        "Calligraphy Starter Set with Rice Paper",
        16800,
        26,
        "包含兼毫毛笔三支、墨汁、砚台、镇纸、笔架和50张安徽半生熟宣纸。附楷书字帖，适合书法初学者和孩子练字。",
        "Three mixed-hair brushes, ink, an inkstone, a paperweight, a brush rest and 50 sheets of half-sized "
        "Anhui rice paper, plus a regular-script copybook. A good start for beginners and children.",
    ),
    P(
        "STA-006",
        "stationery",
        "黄铜书签",
        "Brass Bookmark",
        3900,
        130,
        "实心黄铜镂刻竹叶纹样，厚0.5毫米，会随使用慢慢氧化出温润光泽。附丝绸流苏和牛皮纸信封，适合送礼。",
        "Solid brass cut with a bamboo-leaf pattern, 0.5 mm thick, that darkens to a soft patina with use. "
        "With a silk tassel and a kraft envelope, ready to give.",
    ),
    P(
        "STA-007",
        "stationery",
        "植鞣皮笔袋",
        "Vegetable-Tanned Leather Pencil Case",
        6900,
        3,
        "意大利植鞣牛皮，手工缝线，越用越有光泽。可放8至10支笔，YKK拉链顺滑耐用。尺寸20×6厘米。",
        "Italian vegetable-tanned leather, hand stitched, that gains a shine with use. Holds 8 to 10 pens "
        "behind a smooth YKK zip. 20 × 6 cm.",
    ),
    P(
        "STA-008",
        "stationery",
        "竹制桌面收纳盒",
        "Bamboo Desk Organiser",
        5900,
        75,
        "天然竹材，四个分格可放笔、便签、手机和名片，底部带抽屉。尺寸24×14×12厘米，让书桌整洁有序。",
        "Natural bamboo with four compartments for pens, sticky notes, a phone and business cards, plus a "
        "drawer below. 24 × 14 × 12 cm to keep a desk tidy.",
    ),
    # 家居 Home
    P(
        "HOM-001",
        "home",
        "全棉床品四件套 1.8m床",
        "Cotton Bedding Set for a 1.8 m Bed",
        39900,
        40,
        "60支长绒棉贡缎面料，亲肤柔滑，越洗越软。包含被套220×240厘米、床单和两个枕套，燕麦色素雅百搭。",
        "60s long-staple cotton sateen, smooth on the skin and softer with every wash. A 220 × 240 cm duvet "
        "cover, a flat sheet and two pillowcases in an easy oatmeal colour.",
        featured=True,
    ),
    P(
        "HOM-002",
        "home",
        "记忆棉护颈枕",
        "Memory Foam Contour Pillow",
        19900,
        70,
        "慢回弹记忆棉贴合颈部曲线，仰睡侧睡都能承托。外套为可拆洗的天丝面料，枕高10/12厘米双高度设计。",
        "Slow-rebound memory foam that follows the curve of your neck, for back and side sleepers. A removable, "
        "washable Tencel cover and two heights, 10 and 12 cm.",
    ),
    P(
        "HOM-003",
        "home",
        "檀木香薰蜡烛",
        "Sandalwood Scented Candle",
        8900,
        110,
        "天然大豆蜡与檀木、雪松精油调香，棉芯燃烧无黑烟，可燃烧约45小时。磨砂玻璃杯可重复利用。",
        "Natural soy wax scented with sandalwood and cedar oils, with a cotton wick that burns cleanly for about "
        "45 hours. The frosted glass is yours to reuse.",
    ),
    P(
        "HOM-004",
        "home",
        "北欧风实木台灯",
        "Nordic Solid-Wood Table Lamp",
        25900,
        20,
        "榉木灯座配亚麻灯罩，暖黄光温和不刺眼。E27灯口，附赠4瓦LED灯泡，线上开关方便调光。高45厘米。",
        "A beech-wood base with a linen shade that gives a soft, warm light. E27 socket with a 4 W LED bulb "
        "included and an in-line dimmer switch. 45 cm tall.",
    ),
    P(
        "HOM-005",
        "home",
        "亚麻遮光窗帘",
        "Linen Blackout Curtains",
        29900,
        35,
        "亚麻混纺外层配遮光内衬，遮光率约85%，卧室午休也够暗。宽150×高270厘米一片，挂钩式安装，可机洗。",
        "A linen-blend face with a blackout lining that blocks about 85% of light, dark enough for an afternoon "
        "nap. One panel 150 cm wide and 270 cm long, hook-on, machine-washable.",
    ),
    P(
        "HOM-006",
        "home",
        "手工陶瓷花瓶",
        "Handmade Ceramic Vase",
        12900,
        15,
        "景德镇手工拉坯，哑光釉面，每一只纹理都略有不同。高22厘米，插干花或几枝鲜花都好看。",
        "Wheel-thrown by hand in Jingdezhen with a matte glaze, so every vase is slightly different. 22 cm tall, "
        "lovely with dried flowers or a few fresh stems.",
    ),
    P(
        "HOM-007",
        "home",
        "珊瑚绒毛毯",
        "Coral Fleece Blanket",
        12900,
        0,
        "细密珊瑚绒不掉毛，轻薄保暖，午睡和看电视时盖正好。尺寸150×200厘米，可机洗，雾霾蓝色。",
        "Dense coral fleece that doesn't shed, light but warm for naps and evenings on the sofa. 150 × 200 cm, "
        "machine-washable, haze blue.",
    ),
    P(
        "HOM-008",
        "home",
        "超声波加湿器 4L",
        "Ultrasonic Humidifier, 4 L",
        19900,
        55,
        "4升水箱上加水，夜间运行噪音低于30分贝，可连续加湿约20小时。缺水自动断电，附香薰盒。",
        "A 4-litre top-fill tank, under 30 dB at night and about 20 hours of mist per fill. Switches off when "
        "empty; an aroma tray is included.",
    ),
    # 户外 Outdoor
    P(
        "OUT-001",
        "outdoor",
        "双人防雨帐篷",
        "Two-Person Waterproof Tent",
        49900,
        24,
        "双层结构，外帐防水指数3000毫米，铝合金帐杆抗风。内部空间210×140厘米，两个门和前厅，收纳后重2.1公斤。",
        "Double-wall design with a 3,000 mm waterproof fly and aluminium poles that stand up to wind. "
        "210 × 140 cm inside, two doors and two vestibules; packs down to 2.1 kg.",
        featured=True,
    ),
    P(
        "OUT-002",
        "outdoor",
        "轻量羽绒睡袋",
        "Lightweight Down Sleeping Bag",
        69900,
        12,
        "填充600克90%白鸭绒，舒适温度0℃，适合春秋季高山露营。木乃伊型设计保暖，压缩后仅水壶大小。",
        "Filled with 600 g of 90% white duck down, comfortable to 0 °C for spring and autumn camps in the "
        "mountains. A warm mummy shape that compresses to the size of a water bottle.",
    ),
    P(
        "OUT-003",
        "outdoor",
        "碳素登山杖（一对）",
        "Carbon Trekking Poles (Pair)",
        29900,
        30,
        "碳纤维杖身，每支仅190克，三节快锁调节长度100至135厘米。EVA手柄吸汗，附泥地托和橡胶杖尖套。",
        "Carbon-fibre shafts at just 190 g each, with quick locks adjusting from 100 to 135 cm. Sweat-absorbing "
        "EVA grips, mud baskets and rubber tips included.",
    ),
    P(
        "OUT-004",
        "outdoor",
        "防水冲锋衣",
        "Waterproof Shell Jacket",
        89900,
        20,
        "三层复合防水透气面料，防水指数20000毫米，全压胶处理。可调节头盔兼容帽和腋下透气拉链，登山、骑行、通勤都适用。",
        "Three-layer waterproof, breathable fabric rated 20,000 mm with fully taped seams. A helmet-compatible "
        "adjustable hood and pit zips; for climbing, cycling and the commute.",
    ),
    P(
        "OUT-005",
        "outdoor",
        "折叠露营椅",
        "Folding Camp Chair",
        15900,
        60,
        "铝合金骨架配600D牛津布，承重120公斤，展开即用。收纳后长35厘米、重1公斤，适合露营、钓鱼和野餐。",
        "An aluminium frame with 600D Oxford fabric that holds 120 kg and sets up in seconds. Packs to 35 cm "
        "and 1 kg for camping, fishing and picnics.",
    ),
    P(
        "OUT-006",
        "outdoor",
        "不锈钢保温壶 1L",
        "Stainless-Steel Vacuum Flask, 1 L",
        12900,
        100,
        "316不锈钢内胆，真空双层，热水保温24小时、冰水保冷48小时。杯盖可作水杯，适合登山和自驾。",
        "A 316 stainless-steel double-wall vacuum flask: hot for 24 hours, iced for 48. The lid doubles as a "
        "cup. For hikes and road trips.",
    ),
    P(
        "OUT-007",
        "outdoor",
        "USB 充电头灯",
        "Rechargeable Headlamp",
        9900,
        1,
        "最高亮度400流明，照射距离90米，红光模式不影响夜视。USB-C充电，低档续航约30小时，重量仅75克。",
        "Up to 400 lumens with a 90 m beam, and a red mode that keeps your night vision. USB-C charging, about "
        "30 hours on low, and just 75 g.",
    ),
    P(
        "OUT-008",
        "outdoor",
        "登山背包 40L",
        "Hiking Backpack, 40 L",
        45900,
        26,
        "40升主仓配可调节背负系统，透气背板减少背部出汗。防泼水面料，附防雨罩，侧袋可放水瓶和登山杖。",
        "A 40-litre pack with an adjustable harness and a ventilated back panel to keep you drier. "
        "Water-repellent fabric, a rain cover, and side pockets for bottles and trekking poles.",
    ),
]

del P

# Variants for the large benchmark catalog (`seed_demo --products N`): (Chinese, English).
BENCH_VARIANTS = [
    ("经典款", "Classic"),
    ("升级款", "Upgraded"),
    ("礼盒装", "Gift Box"),
    ("家庭装", "Family Pack"),
    ("旅行装", "Travel Size"),
    ("限量版", "Limited Edition"),
    ("黑色", "Black"),
    ("白色", "White"),
    ("蓝色", "Blue"),
    ("红色", "Red"),
    ("绿色", "Green"),
    ("灰色", "Grey"),
    ("大号", "Large"),
    ("小号", "Small"),
    ("专业版", "Pro"),
    ("青春版", "Lite"),
]
