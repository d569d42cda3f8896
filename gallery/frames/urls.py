from django.urls import path

from gallery.frames import playlist_views, views

urlpatterns = [
    # The frame's own endpoints: a frame secret, no user login.
    path("frame/", views.frame_page, name="frame"),
    path("frame/state/", views.frame_state, name="frame-state"),
    path("frame/qr.svg", views.frame_qr, name="frame-qr"),
    path("frame/v/<int:pk>/<str:name>", views.frame_variant, name="frame-variant"),
    # The gallery's pages.
    path("frames/", views.frame_list, name="frames"),
    path("frames/pair/", views.frame_pair, name="frame-pair"),
    path("frames/<int:pk>/", views.frame_detail, name="frame-detail"),
    path("frames/<int:pk>/command/", views.frame_command, name="frame-command"),
    path("frames/<int:pk>/revoke/", views.frame_revoke, name="frame-revoke"),
    path("frames/<int:pk>/delete/", views.frame_delete, name="frame-delete"),
    path("frames/<int:pk>/schedules/", views.frame_schedule_add, name="frame-schedule-add"),
    path(
        "frames/<int:pk>/schedules/<int:schedule_pk>/delete/",
        views.frame_schedule_delete,
        name="frame-schedule-delete",
    ),
    path("playlists/", playlist_views.playlist_list, name="playlists"),
    path("playlists/choices/", playlist_views.playlist_choices, name="playlist-choices"),
    path("playlists/add-selection/", playlist_views.playlist_add_selection, name="playlist-add-selection"),
    path("playlists/<int:pk>/", playlist_views.playlist_detail, name="playlist"),
    path("playlists/<int:pk>/add/", playlist_views.playlist_add, name="playlist-add"),
    path("playlists/<int:pk>/albums/", playlist_views.playlist_albums, name="playlist-albums"),
    path("playlists/<int:pk>/reorder/", playlist_views.playlist_reorder, name="playlist-reorder"),
    path("playlists/<int:pk>/move/", playlist_views.playlist_move, name="playlist-move"),
    path("playlists/<int:pk>/remove/", playlist_views.playlist_remove, name="playlist-remove"),
    path("playlists/<int:pk>/delete/", playlist_views.playlist_delete, name="playlist-delete"),
]
