"""The shop's URLs plus `/bench/...` baselines: a trivial JSON view and a plain `.values()` product list."""

from django.http import JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from catalog.models import Product


def trivial(request):
    return JsonResponse({"ok": True})


def plain_products(request):
    """B2's baseline: the same page of products as /api/products/, with no framework in between."""
    rows = list(
        Product.objects.filter(is_active=True)
        .order_by("-created_at", "-id")
        .values("sku", "name", "name_en", "price_cents", "stock", "category__slug", "description", "description_en")[
            :20
        ]
    )
    return JsonResponse({"count": len(rows), "results": rows})


@csrf_exempt
def naive_checkout(request, sku):
    """B4's control: read the stock, then save it, with nothing to stop two buyers between the two."""
    product = Product.objects.get(sku=sku)
    if product.stock < 1:
        return JsonResponse({"error": "sold out"}, status=409)
    product.stock -= 1
    product.save(update_fields=["stock"])
    return JsonResponse({"ok": True}, status=201)


urlpatterns = [
    path("bench/trivial/", trivial),
    path("bench/naive-checkout/<str:sku>/", naive_checkout),
    path("bench/plain-products/", plain_products),
    path("", include("mcpshop_site.urls")),
]
