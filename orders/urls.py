from django.urls import path

from orders import views

app_name = "orders"
urlpatterns = [
    path("checkout/", views.checkout, name="checkout"),
    path("orders/", views.order_list, name="list"),
    # By the order's public number (an order's id, as in links made before numbers, still finds it).
    path("orders/<str:number>/", views.order_detail, name="detail"),
    path("orders/<str:number>/cancel/", views.cancel, name="cancel"),
    path("orders/<str:number>/pay/", views.pay, name="pay"),
    path("payments/stripe/webhook/", views.stripe_webhook, name="stripe-webhook"),
]
