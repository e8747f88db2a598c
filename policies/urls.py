from django.urls import path

from policies import views

app_name = "policies"
urlpatterns = [
    path("policies/<slug:kind>/", views.policy_detail, name="detail"),
]
