from django.urls import path

from assistant import views

app_name = "assistant"
urlpatterns = [
    path("accounts/conversations/", views.conversation_list, name="conversation_list"),
    path("accounts/conversations/<str:conversation_id>/", views.conversation_detail, name="conversation_detail"),
    path("chat/session/", views.guest_session, name="guest_session"),
]
