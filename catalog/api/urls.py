from django.urls import path

from catalog.api import views
from mcpshop_site.response_cache import same_for_everyone

urlpatterns = [
    path("categories/", same_for_everyone(views.CategoryListApi.as_view()), name="category-list"),
    path("products/", same_for_everyone(views.ProductListApi.as_view()), name="product-list"),
    path("products/<str:sku>", same_for_everyone(views.ProductDetailApi.as_view()), name="product-detail"),
]
