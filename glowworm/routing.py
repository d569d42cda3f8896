"""Websocket routes of every app (the project layer may import them all)."""

from django.urls import path

from gallery.frames.consumers import FrameConsumer, FramesAdminConsumer
from processing.consumers import GalleryConsumer

websocket_urlpatterns = [
    path("ws/gallery/", GalleryConsumer.as_asgi()),
    path("ws/frame/", FrameConsumer.as_asgi()),
    path("ws/frames/", FramesAdminConsumer.as_asgi()),
]
