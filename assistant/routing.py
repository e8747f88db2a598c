"""WebSocket routes of the assistant, mounted by mcpshop_site/asgi.py."""

from django.urls import path

from assistant import consumers

websocket_urlpatterns = [
    path("ws/chat/", consumers.ChatConsumer.as_asgi()),
    path("api/chat", consumers.SeedChatConsumer.as_asgi()),
]
