from django.urls import path

from processing.consumers import GalleryConsumer
from processing.frame_consumers import FrameConsumer, FramesAdminConsumer

websocket_urlpatterns = [
    path("ws/gallery/", GalleryConsumer.as_asgi()),
    path("ws/frame/", FrameConsumer.as_asgi()),
    path("ws/frames/", FramesAdminConsumer.as_asgi()),
]
