from django.contrib import admin
from django.urls import include, path

from gallery import api
from gallery.sharing.api import router as share_links_api

urlpatterns = [
    path("admin/rq/", include("django_rq.urls")),
    path("admin/", admin.site.urls),
    path("api/", include((api.urls(share_links_api), "api"))),
    path("", include("gallery.urls")),
    path("", include("gallery.frames.urls")),
    path("", include("gallery.sharing.urls")),
    path("", include("gallery.people.urls")),
]

# Says what was wrong with a malformed request (too many fields or files) instead of a bare "Bad Request".
handler400 = "gallery.security.bad_request"
