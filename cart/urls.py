from django.urls import path

from cart import views

app_name = "cart"
urlpatterns = [
    path("cart/", views.detail, name="detail"),
    path("cart/add/", views.add, name="add"),
    path("cart/items/<int:item_id>/", views.update, name="update"),
    path("cart/items/<int:item_id>/remove/", views.remove, name="remove"),
    path("cart/clear/", views.clear, name="clear"),
    path("cart/discounts/", views.discount_apply, name="discount_apply"),
    path("cart/discounts/<str:code>/remove/", views.discount_remove, name="discount_remove"),
]
