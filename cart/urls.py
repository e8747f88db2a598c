app_name = "cart"
urlpatterns = []
