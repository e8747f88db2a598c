"""The shop's importers for discount codes, promotions and shipping: rows checked one by one, re-import idle."""

from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from orders.models import DiscountCode, Promotion, ShippingMethod, ShippingRate
from orders.offers import shipping_options
from orders.pricing import PriceLine, quote

pytestmark = pytest.mark.django_db


def run(command, tmp_path, text, *args, name="file.csv"):
    """Run an importer on a file holding `text`; return (stdout, stderr, error or None)."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    out, err = StringIO(), StringIO()
    try:
        call_command(command, str(path), *args, stdout=out, stderr=err)
    except CommandError as error:
        return out.getvalue(), err.getvalue(), str(error)
    return out.getvalue(), err.getvalue(), None


CODES = """code,title,title_en,kind,percent,amount_cents,min_subtotal_cents,ends_at,stackable,per_customer_limit
welcome10,欢迎,Welcome,percent,10,,,,yes,1
FIXED500,立减5元,$5 off,fixed,,500,2000,2026-12-31,false,
"""


def test_discount_codes_import_in_any_case_and_price_as_typed(tmp_path, make_product):
    out, _err, error = run("import_discount_codes", tmp_path, CODES)
    assert error is None and "2 rows: 2 created, 0 updated, 0 unchanged, 0 rejected." in out
    welcome = DiscountCode.objects.get(code="WELCOME10")
    assert (welcome.kind, welcome.percent, welcome.amount_cents, welcome.stackable) == ("PERCENT", 10, None, True)
    assert welcome.per_customer_limit == 1
    fixed = DiscountCode.objects.get(code="FIXED500")
    assert (fixed.kind, fixed.amount_cents, fixed.min_subtotal_cents, fixed.stackable) == ("FIXED", 500, 2000, False)
    assert fixed.ends_at == datetime(2026, 12, 31, tzinfo=ZoneInfo("Asia/Shanghai"))  # the shop's time zone
    out, _err, error = run("import_discount_codes", tmp_path, CODES)
    assert error is None and "2 unchanged" in out
    # A row changes only what it gives; a new kind clears the value the old kind used.
    out, _err, error = run("import_discount_codes", tmp_path, "code,kind,amount_cents\nWelcome10,fixed,300\n")
    assert error is None and "1 updated" in out
    welcome.refresh_from_db()
    assert (welcome.kind, welcome.percent, welcome.amount_cents, welcome.title) == ("FIXED", None, 300, "欢迎")


def test_bad_discount_code_rows_are_listed_and_the_good_ones_imported(tmp_path):
    text = """code,title,kind,percent,amount_cents,starts_at,stackable
GOOD,好,percent,15,,,
NOKIND,无,,,,,
HALF,半,percent,,,,
BOTH,都,fixed,10,500,,
BIG,大,percent,150,,,
WHEN,时,percent,5,,next week,
YES,是,percent,5,,,maybe
BAD\x00,坏,percent,5,,,
good,重复,percent,20,,,
"""
    out, err, error = run("import_discount_codes", tmp_path, text)
    assert "9 rows: 1 created, 0 updated, 0 unchanged, 8 rejected." in out
    assert error.startswith("8 rows were not imported")
    assert "line 3 (code NOKIND): kind: required for a new discount code" in err
    assert "line 4 (code HALF): percent: required for a percent offer" in err
    assert "line 5 (code BOTH): percent: not used by a fixed offer: leave it empty" in err
    assert "line 6 (code BIG): percent: Ensure this value is less than or equal to 100." in err
    assert "line 7 (code WHEN): starts_at: 'next week' is not a date" in err
    assert "line 8 (code YES): stackable: 'maybe' is not one of true/false" in err
    assert "code: Null characters are not allowed." in err
    assert "line 10 (code GOOD): code: GOOD is already on line 2 of this file" in err
    assert list(DiscountCode.objects.values_list("code", "percent")) == [("GOOD", 15)]


PROMOTIONS = """title,title_en,kind,percent,min_subtotal_cents,products,stackable
满100包邮,Free shipping over 100,free_shipping,,10000,,yes
玫瑰包邮,Free shipping on roses,free_shipping,,,ROSES,yes
九折,10% off,percent,10,,,
"""


def test_promotions_import_with_a_minimum_or_products_and_apply_at_once(tmp_path, make_product):
    roses, pot = make_product(sku="ROSES", price_cents=3500, stock=10), make_product(sku="POT", price_cents=1500)
    out, _err, error = run("import_promotions", tmp_path, PROMOTIONS)
    assert error is None and "3 rows: 3 created" in out
    over, for_roses = Promotion.objects.get(title="满100包邮"), Promotion.objects.get(title="玫瑰包邮")
    assert (over.kind, over.min_subtotal_cents, over.stackable) == ("FREE_SHIPPING", 10000, True)
    assert list(for_roses.products.all()) == [roses]
    ShippingRate.objects.create(
        method=ShippingMethod.objects.create(name="标准"), price_cents=500, estimated_days=5, country=""
    )
    assert quote(lines=[PriceLine(roses.pk, 3500, 1)], country="US").shipping_cents == 0  # roses alone
    assert quote(lines=[PriceLine(pot.pk, 1500, 1)], country="US").shipping_cents == 500
    assert quote(lines=[PriceLine(pot.pk, 1500, 7)], country="US").shipping_cents == 0  # over 100
    assert "3 unchanged" in run("import_promotions", tmp_path, PROMOTIONS)[0]
    out, err, error = run("import_promotions", tmp_path, "title,products\n玫瑰包邮,ROSES POT\n九折,ROSES NOPE\n")
    assert "1 updated" in out and "line 3 (title 九折): products: no product has the SKU NOPE" in err
    assert set(for_roses.products.all()) == {roses, pot}
    assert not Promotion.objects.get(title="九折").products.exists()


def test_a_promotion_title_two_promotions_share_is_refused(tmp_path):
    for _ in range(2):
        Promotion.objects.create(title="双", kind="FREE_SHIPPING")
    _out, err, error = run("import_promotions", tmp_path, "title,is_active\n双,no\n")
    assert error and "title: two promotions have this title" in err
    assert Promotion.objects.filter(is_active=True).count() == 2


SHIPPING = """method,name,name_en,position,code,country,region,price_cents,estimated_days
standard,标准快递,Standard Shipping,0,std-ship,,,500,5
express,特快,Express Shipping,1,exp-ship-intl,,,2500,3
express,,,,exp-ship-us,us,,1500,2
express,,,,,CN,新疆,3000,6
"""


def test_shipping_methods_and_rates_import_as_agents_see_them(tmp_path):
    out, _err, error = run("import_shipping", tmp_path, SHIPPING)
    assert error is None and "4 rows: 4 created, 0 updated, 0 unchanged, 0 rejected." in out
    assert list(ShippingMethod.objects.values_list("code", "name", "name_en")) == [
        ("standard", "标准快递", "Standard Shipping"),
        ("express", "特快", "Express Shipping"),
    ]

    def offered(country, region=""):
        return [(o.code, o.price_cents) for o in shipping_options(country=country, region=region)[0]]

    assert offered("US") == [("std-ship", 500), ("exp-ship-us", 1500)]
    assert offered("CA") == [("std-ship", 500), ("exp-ship-intl", 2500)]
    assert offered("CN", "新疆") == [("std-ship", 500), ("express", 3000)]
    assert "4 unchanged" in run("import_shipping", tmp_path, SHIPPING)[0]
    out, _err, error = run("import_shipping", tmp_path, "method,country,price_cents\nexpress,US,1600\n")
    assert error is None and "1 updated" in out
    assert offered("US") == [("std-ship", 500), ("exp-ship-us", 1600)]


def test_bad_shipping_rows_are_listed_with_the_reason(tmp_path):
    run("import_shipping", tmp_path, SHIPPING)
    text = """method,name,code,country,region,price_cents,estimated_days
,无码,,,,100,1
pickup,,,,,0,1
courier,快递,,XX,,100,1
courier,快递,std-ship,DE,,100,1
courier,快递,,,上海,100,1
courier,快递,,FR,,100,
courier,快递,,fr,,200,2
"""
    out, err, error = run("import_shipping", tmp_path, text)
    assert error and "7 rows: 0 created, 0 updated, 0 unchanged, 7 rejected." in out
    assert "line 2 (rate *): method: missing: the method's code" in err
    assert "line 3 (rate pickup *): name: required for a new shipping method" in err
    assert "country: Country must be a two-letter ISO 3166-1 code" in err
    assert "line 5 (rate courier DE): code: " in err and "already uses this code" in err
    assert "line 6 (rate courier * 上海)" in err
    assert "line 7 (rate courier FR): estimated_days: required for a new shipping rate" in err
    assert "line 8 (rate courier FR): method: courier FR is already on line 7 of this file" in err
    assert ShippingMethod.objects.count() == 2  # a rejected row leaves no method behind
