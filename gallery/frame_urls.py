from django.urls import path

from gallery import frames, playlists

urlpatterns = [
    # The frame's own endpoints: a frame secret, no user login.
    path("frame/", frames.frame_page, name="frame"),
    path("frame/state/", frames.frame_state, name="frame-state"),
    path("frame/qr.svg", frames.frame_qr, name="frame-qr"),
    path("frame/v/<int:pk>/<str:name>", frames.frame_variant, name="frame-variant"),
    # The gallery's pages.
    path("frames/", frames.frame_list, name="frames"),
    path("frames/pair/", frames.frame_pair, name="frame-pair"),
    path("frames/<int:pk>/", frames.frame_detail, name="frame-detail"),
    path("frames/<int:pk>/command/", frames.frame_command, name="frame-command"),
    path("frames/<int:pk>/revoke/", frames.frame_revoke, name="frame-revoke"),
    path("frames/<int:pk>/delete/", frames.frame_delete, name="frame-delete"),
    path("frames/<int:pk>/schedules/", frames.frame_schedule_add, name="frame-schedule-add"),
    path(
        "frames/<int:pk>/schedules/<int:schedule_pk>/delete/",
        frames.frame_schedule_delete,
        name="frame-schedule-delete",
    ),
    path("playlists/", playlists.playlist_list, name="playlists"),
    path("playlists/<int:pk>/", playlists.playlist_detail, name="playlist"),
    path("playlists/<int:pk>/add/", playlists.playlist_add, name="playlist-add"),
    path("playlists/<int:pk>/albums/", playlists.playlist_albums, name="playlist-albums"),
    path("playlists/<int:pk>/reorder/", playlists.playlist_reorder, name="playlist-reorder"),
    path("playlists/<int:pk>/move/", playlists.playlist_move, name="playlist-move"),
    path("playlists/<int:pk>/remove/", playlists.playlist_remove, name="playlist-remove"),
    path("playlists/<int:pk>/delete/", playlists.playlist_delete, name="playlist-delete"),
]
