from django.urls import path

from cart.api import views

urlpatterns = [
    path("", views.CartApi.as_view(), name="cart"),
    path("clear", views.CartClearApi.as_view(), name="cart-clear"),
    path("discounts", views.CartDiscountApi.as_view(), name="cart-discounts"),
    path("discounts/<str:code>", views.CartDiscountRemoveApi.as_view(), name="cart-discount"),
    path("<str:item_id>", views.CartItemApi.as_view(), name="cart-item"),
]
