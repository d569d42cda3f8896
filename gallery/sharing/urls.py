from django.urls import path

from gallery.sharing import views

urlpatterns = [
    # Public: the token is the only key.
    path("s/<str:token>/", views.share_album, name="share"),
    path("s/<str:token>/photos/<int:photo_id>/", views.share_photo, name="share-photo"),
    path("s/<str:token>/v/<int:variant_id>/<str:name>", views.share_variant, name="share-variant"),
    path("s/<str:token>/download/<int:photo_id>/", views.share_download, name="share-download"),
    # The album's Share page (its owner or staff).
    path("albums/<int:pk>/share/", views.album_share, name="album-share"),
    path("albums/<int:pk>/share/<int:link_id>/revoke/", views.album_link_revoke, name="album-link-revoke"),
    path("albums/<int:pk>/share/<int:link_id>/restore/", views.album_link_restore, name="album-link-restore"),
]
