from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/rq/", include("django_rq.urls")),
    path("admin/", admin.site.urls),
    path("", include("gallery.urls")),
    path("", include("gallery.frames.urls")),
]

# Says what was wrong with a malformed request (too many fields or files) instead of a bare "Bad Request".
handler400 = "gallery.security.bad_request"
