from django.urls import path

from agents.acp import discovery

app_name = "agents"

urlpatterns = [
    path(".well-known/acp.json", discovery.discovery, name="acp_discovery"),
]
