from django.urls import path

from processing.consumers import GalleryConsumer

websocket_urlpatterns = [
    path("ws/gallery/", GalleryConsumer.as_asgi()),
]
