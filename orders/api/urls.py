from django.urls import path

from orders.api import views

urlpatterns = [
    path("", views.OrderListApi.as_view(), name="order-list"),
    path("<str:order_id>", views.OrderDetailApi.as_view(), name="order-detail"),
    path("<str:order_id>/cancel", views.OrderCancelApi.as_view(), name="order-cancel"),
    path("<str:order_id>/pay", views.OrderPayApi.as_view(), name="order-pay"),
    path("<str:order_id>/items/<str:line_id>/cancel", views.OrderItemCancelApi.as_view(), name="order-item-cancel"),
]
