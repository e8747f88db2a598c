from django.urls import path

from cart.api import views

urlpatterns = [
    path("", views.CartApi.as_view(), name="cart"),
    path("clear", views.CartClearApi.as_view(), name="cart-clear"),
    path("<str:item_id>", views.CartItemApi.as_view(), name="cart-item"),
]
