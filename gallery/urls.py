from django.contrib.auth import views as auth_views
from django.urls import path

from gallery import api, health, views

urlpatterns = [
    path("", views.home, name="home"),
    path("upload/", views.upload, name="upload"),
    path("photos/<int:pk>/", views.photo_detail, name="photo"),
    path("photos/<int:pk>/original/", views.original, name="original"),
    path("photos/<int:pk>/download/", views.photo_download, name="photo-download"),
    path("photos/<int:pk>/rotate/", views.photo_rotate, name="photo-rotate"),
    path("photos/<int:pk>/retry/", views.photo_retry, name="photo-retry"),
    path("photos/<int:pk>/delete/", views.photo_delete, name="photo-delete"),
    path("photos/<int:pk>/albums/", views.photo_albums, name="photo-albums"),
    path("photos/<int:pk>/favorite/", views.photo_favorite, name="photo-favorite"),
    path("photos/bulk/", views.bulk, name="bulk"),
    path("albums/", views.album_list, name="albums"),
    path("albums/<int:pk>/", views.album_detail, name="album"),
    path("albums/<int:pk>/add/", views.album_add, name="album-add"),
    path("albums/<int:pk>/rename/", views.album_rename, name="album-rename"),
    path("albums/<int:pk>/delete/", views.album_delete, name="album-delete"),
    path("albums/<int:pk>/cover/", views.album_cover, name="album-cover"),
    path("duplicates/", views.duplicates, name="duplicates"),
    path("trash/", views.trash_page, name="trash"),
    path("trash/restore/", views.trash_restore, name="trash-restore"),
    path("trash/purge/", views.trash_purge, name="trash-purge"),
    path("trash/empty/", views.trash_empty, name="trash-empty"),
    path("media/<path:path>", api.accepts_api_token(views.media), name="media"),
    path("setup/", views.setup, name="setup"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", health.healthz, name="healthz"),
]
