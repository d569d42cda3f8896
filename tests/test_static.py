"""Static files as production serves them: collectstatic with the production storage (tests/settings.py serves
from the source folders instead), then every file a page asks for has a content hash in its URL, so WhiteNoise can
tell browsers to keep it forever, and a new release is fetched at once."""

import re

import pytest
from django.conf import settings as django_settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management import call_command
from django.test import Client, override_settings

from gallery import albums
from gallery.frames import auth, playlists
from gallery.frames.models import Frame, Playlist
from gallery.models import hash_token
from tests.gallery_factories import make_photo_row

PRODUCTION_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"
STATIC_IN_PAGE = re.compile(r'(?:src|href)="(/static/[^"]*)"')
HASHED = re.compile(r"^/static/(?P<name>.+)\.[0-9a-f]{12}(?P<ext>\.[a-z0-9]+)$")


def production_storages() -> dict:
    return {**django_settings.STORAGES, "staticfiles": {"BACKEND": PRODUCTION_STORAGE}}


@pytest.fixture(scope="module")
def static_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("staticfiles")
    with override_settings(STORAGES=production_storages(), STATIC_ROOT=root):
        call_command("collectstatic", interactive=False, verbosity=0)
    return root


@pytest.fixture
def production_static(settings, static_root):
    settings.STORAGES = production_storages()
    settings.STATIC_ROOT = static_root
    settings.WHITENOISE_USE_FINDERS = False
    settings.WHITENOISE_AUTOREFRESH = False


def test_every_static_file_the_pages_ask_for_has_a_hashed_url(production_static, client_logged_in):
    photo = make_photo_row()
    album = albums.create_album(name="Hashes")
    albums.add_photos(album=album, photo_ids=[photo.pk])
    playlist = Playlist.objects.create(name="Hall")
    playlists.add_photos(playlist=playlist, photo_ids=[photo.pk])
    Frame.objects.create(name="Hall", playlist=playlist, secret_digest=hash_token("frame-secret"))
    frame = Client()
    frame.cookies[auth.FRAME_COOKIE] = "frame-secret"

    pages = {
        "library": client_logged_in.get("/"),
        "photo view": client_logged_in.get(photo.get_absolute_url()),
        "albums": client_logged_in.get("/albums/"),
        "album": client_logged_in.get(album.get_absolute_url()),
        "frames": client_logged_in.get("/frames/"),
        "playlist": client_logged_in.get(playlist.get_absolute_url()),
        "frame slideshow": frame.get("/frame/"),
        "frame pairing": Client().get("/frame/"),
        "login": Client().get("/login/"),
    }
    names = set()
    for page, response in pages.items():
        assert response.status_code == 200, page
        urls = STATIC_IN_PAGE.findall(response.content.decode())
        assert urls, f"{page} asks for no static file"
        for url in urls:
            hashed = HASHED.match(url)
            assert hashed, f"{page}: {url} has no content hash"
            names.add(hashed["name"] + hashed["ext"])
    for name in ("css/glowworm.css", "js/htmx.min.js", "js/live.js", "js/uploads.js", "js/selection.js"):
        assert name in names
    for name in ("js/lightbox.js", "frames/css/frames-admin.css", "frames/js/frame.js", "img/glowworm.svg"):
        assert name in names


@pytest.mark.django_db  # the test client closes database connections after each request
def test_whitenoise_serves_a_hashed_file_as_immutable_and_the_plain_name_briefly(production_static, client):
    hashed = client.get(staticfiles_storage.url("js/live.js"))
    plain = client.get("/static/js/live.js")
    assert hashed.status_code == plain.status_code == 200
    assert b"glowworm:photo-added" in b"".join(hashed.streaming_content)
    assert "immutable" in hashed["Cache-Control"] and "max-age=315360000" in hashed["Cache-Control"]
    assert "immutable" not in plain["Cache-Control"]
    hashed.close()
    plain.close()
