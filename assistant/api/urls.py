from django.urls import path

from assistant.api import views

urlpatterns = [
    path("chat", views.ChatApi.as_view(), name="chat"),
    path("chat/confirm", views.ChatConfirmApi.as_view(), name="chat-confirm"),
    path("chat/cancel", views.ChatCancelApi.as_view(), name="chat-cancel"),
    path("conversations/", views.ConversationListApi.as_view(), name="conversation-list"),
    path("conversations/<str:conversation_id>", views.ConversationDetailApi.as_view(), name="conversation-detail"),
]
