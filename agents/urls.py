from django.urls import path

from agents.acp import discovery, views

app_name = "agents"

urlpatterns = [
    path(".well-known/acp.json", discovery.discovery, name="acp_discovery"),
    path("checkout_sessions", views.sessions, name="acp_sessions"),
    path("checkout_sessions/<str:session_id>", views.session, name="acp_session"),
    path("checkout_sessions/<str:session_id>/complete", views.complete, name="acp_complete"),
    path("checkout_sessions/<str:session_id>/cancel", views.cancel, name="acp_cancel"),
]
