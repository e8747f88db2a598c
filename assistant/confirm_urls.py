from django.urls import path

from assistant import confirm_views

app_name = "assistant_confirm"
urlpatterns = [
    path("<uuid:confirmation_id>/", confirm_views.confirm, name="confirm"),
]
