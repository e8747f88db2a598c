from django.urls import path

from catalog import views

app_name = "catalog"
urlpatterns = [
    path("", views.home, name="home"),
    path("c/<slug:slug>/", views.category, name="category"),
    path("products/<str:sku>/", views.product, name="product"),
    path("search/", views.search, name="search"),
]
