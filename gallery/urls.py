from django.contrib.auth import views as auth_views
from django.urls import path

from gallery import api, health, views

urlpatterns = [
    path("", views.home, name="home"),
    path("upload/", views.upload, name="upload"),
    path("photos/<int:pk>/", views.photo_detail, name="photo"),
    path("photos/<int:pk>/original/", views.original, name="original"),
    path("media/<path:path>", views.media, name="media"),
    path("setup/", views.setup, name="setup"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", health.healthz, name="healthz"),
    path("api/images/", api.images, name="api-images"),
    path("api/images/<int:pk>/", api.image_detail, name="api-image"),
]
