from django.urls import path

from catalog.feeds import views

app_name = "feeds"
urlpatterns = [
    path("<str:feed>/metadata.json", views.metadata, name="metadata"),
    path("<str:feed>/products.jsonl", views.products, name="products"),
]
