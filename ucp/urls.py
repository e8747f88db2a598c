"""UCP under /ucp (the REST endpoint its discovery names), and discovery and the /ucp resource's OAuth metadata
(RFC 9728) also at the site's root."""

from django.urls import path

from ucp import views

app_name = "ucp"

urlpatterns = [
    path(".well-known/ucp", views.discovery, name="discovery_root"),
    path(".well-known/oauth-protected-resource/ucp", views.resource_metadata, name="resource_metadata"),
    path("ucp", views.discovery, name="root"),  # the REST endpoint's own address (what discovery names)
    path("ucp/.well-known/ucp", views.discovery, name="discovery"),
    path("ucp/checkout-sessions", views.checkout_sessions, name="checkout_sessions"),
    path("ucp/checkout-sessions/<str:session_id>", views.checkout_session, name="checkout_session"),
    path("ucp/checkout-sessions/<str:session_id>/complete", views.checkout_session_complete, name="complete"),
    path("ucp/checkout-sessions/<str:session_id>/cancel", views.checkout_session_cancel, name="cancel"),
    path("ucp/orders/<str:order_id>", views.order, name="order"),
    path("ucp/testing/simulate-shipping/<str:order_id>", views.simulate_shipping, name="simulate_shipping"),
]
