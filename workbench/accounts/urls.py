from django.urls import path

from workbench.accounts import views

app_name = "accounts"

urlpatterns = [
    path("token/", views.token_page, name="token"),
]
