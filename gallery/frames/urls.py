from django.urls import path

from gallery.frames import playlist_views, views
from gallery.permissions import staff_required as staff

urlpatterns = [
    # The frame's own endpoints: a frame secret, no user login.
    path("frame/", views.frame_page, name="frame"),
    path("frame/state/", views.frame_state, name="frame-state"),
    path("frame/qr.svg", views.frame_qr, name="frame-qr"),
    path("frame/v/<int:pk>/<str:name>", views.frame_variant, name="frame-variant"),
    # The gallery's pages: frames and playlists are for staff (members get 403).
    path("frames/", staff(views.frame_list), name="frames"),
    path("frames/pair/", staff(views.frame_pair), name="frame-pair"),
    path("frames/<int:pk>/", staff(views.frame_detail), name="frame-detail"),
    path("frames/<int:pk>/command/", staff(views.frame_command), name="frame-command"),
    path("frames/<int:pk>/revoke/", staff(views.frame_revoke), name="frame-revoke"),
    path("frames/<int:pk>/delete/", staff(views.frame_delete), name="frame-delete"),
    path("frames/<int:pk>/schedules/", staff(views.frame_schedule_add), name="frame-schedule-add"),
    path(
        "frames/<int:pk>/schedules/<int:schedule_pk>/delete/",
        staff(views.frame_schedule_delete),
        name="frame-schedule-delete",
    ),
    path("playlists/", staff(playlist_views.playlist_list), name="playlists"),
    path("playlists/choices/", staff(playlist_views.playlist_choices), name="playlist-choices"),
    path("playlists/add-selection/", staff(playlist_views.playlist_add_selection), name="playlist-add-selection"),
    path("playlists/<int:pk>/", staff(playlist_views.playlist_detail), name="playlist"),
    path("playlists/<int:pk>/add/", staff(playlist_views.playlist_add), name="playlist-add"),
    path("playlists/<int:pk>/albums/", staff(playlist_views.playlist_albums), name="playlist-albums"),
    path("playlists/<int:pk>/reorder/", staff(playlist_views.playlist_reorder), name="playlist-reorder"),
    path("playlists/<int:pk>/move/", staff(playlist_views.playlist_move), name="playlist-move"),
    path("playlists/<int:pk>/remove/", staff(playlist_views.playlist_remove), name="playlist-remove"),
    path("playlists/<int:pk>/delete/", staff(playlist_views.playlist_delete), name="playlist-delete"),
]
