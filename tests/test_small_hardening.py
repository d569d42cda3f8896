"""Smaller findings of the security review: other Authorization schemes, /healthz details, zip entry names, the
admin's file names, the client-chosen root path, pages of the API."""

import io
import zipfile

import pytest
from asgiref.sync import async_to_sync
from django.test import Client

from gallery import library
from gallery.admin import PhotoAdminForm
from gallery.files import clean_file_name
from gallery.models import ApiToken, Photo
from glowworm.asgi import application
from tests.conftest import ready_photo
from tests.gallery_factories import make_photo_row

pytestmark = pytest.mark.django_db


def test_other_authorization_schemes_are_left_alone(client_logged_in, user, redis_conn):
    basic = {"Authorization": "Basic Zm9vOmJhcg=="}  # a proxy's HTTP Basic auth in front of Glowworm
    assert client_logged_in.get("/api/images/", headers=basic).status_code == 200
    photo = ready_photo(client_logged_in)
    assert client_logged_in.get(photo.variants_by_name["thumb"].url, headers=basic).status_code == 200
    anonymous = Client().get("/api/images/", headers=basic)
    assert anonymous.status_code == 401 and "Log in" in anonymous.json()["error"]
    wrong = Client().get("/api/images/", headers={"Authorization": "Bearer gw_nope"})
    assert wrong.status_code == 401 and "token is not valid" in wrong.json()["error"]


def test_healthz_shows_anonymous_callers_no_exception_names(client, monkeypatch, django_user_model):
    import django_rq

    def broken(*args, **kwargs):
        raise ConnectionRefusedError("/var/run/secret/socket")

    monkeypatch.setattr(django_rq, "get_connection", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["redis"] == "error" and set(body) == {"database", "redis", "workers"}
    assert "ConnectionRefused" not in response.content.decode() and "/var/run" not in response.content.decode()
    staff = Client()
    staff.force_login(django_user_model.objects.create_superuser("root", "r@example.com", "correct horse battery"))
    assert staff.get("/healthz").json()["redis"] == "error: ConnectionRefusedError"


@pytest.mark.parametrize(
    ("given", "cleaned"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Windows\\win.ini", "win.ini"),
        ("c:evil.jpg", "c-evil.jpg"),
        ("..", ""),
        (".", ""),
        (".hidden.jpg", "hidden.jpg"),
        ("photo\u202egpj.exe", "photogpj.exe"),
        ("a\x00b\nc.jpg", "abc.jpg"),
        ("holiday.jpg", "holiday.jpg"),
    ],
)
def test_file_names_are_cleaned(given, cleaned):
    assert clean_file_name(given) == cleaned


def test_zip_entries_never_name_a_path_even_after_an_admin_edit(media_root):
    photos = [make_photo_row(original_name=name) for name in ("../../evil.jpg", "..", "x:y.jpg", "ok.jpg")]
    for photo in photos:
        (media_root / photo.original).parent.mkdir(parents=True, exist_ok=True)
        (media_root / photo.original).write_bytes(b"data")
    Photo.objects.filter(pk=photos[0].pk).update(original_name="../../evil.jpg")  # as the admin could store it
    members = library.zip_members(Photo.objects.order_by("pk"))
    data = b"".join(library.zip_chunks(members))
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert names == ["evil.jpg", f"photo-{photos[1].pk}.jpg", "x-y.jpg", "ok.jpg"]
    assert not any("/" in name or ".." in name or ":" in name for name in names)


def test_the_admin_refuses_a_file_name_with_a_path(admin_client):
    photo = make_photo_row()
    url = f"/admin/gallery/photo/{photo.pk}/change/"
    response = admin_client.post(url, {"original_name": "../../evil.jpg"})
    assert response.status_code == 200 and "A file name only" in response.content.decode()
    assert Photo.objects.get(pk=photo.pk).original_name != "../../evil.jpg"
    form = PhotoAdminForm({"original_name": "Beach day.jpg"}, instance=photo)
    assert form.is_valid(), form.errors
    assert not PhotoAdminForm({"original_name": "x:y.jpg"}, instance=photo).is_valid()


def test_a_root_path_header_from_the_client_is_ignored():
    seen = {}

    async def app(scope, receive, send):
        seen.update(scope)

    from glowworm.daphne_tuning import FixedRootPath

    scope = {"type": "http", "path": "/", "root_path": "/evil", "headers": []}
    async_to_sync(FixedRootPath(app))(scope, None, None)
    assert seen["root_path"] == ""
    async_to_sync(FixedRootPath(app, "/photos/"))(scope, None, None)
    assert seen["root_path"] == "/photos"
    assert isinstance(application, FixedRootPath)


def test_api_pages_that_are_not_numbers_are_400_and_past_the_end_404(client_logged_in):
    for bad in ("abc", "1.5", "-"):
        response = client_logged_in.get(f"/api/images/?page={bad}")
        assert response.status_code == 400 and "page" in response.json()["error"], bad
    assert client_logged_in.get("/api/images/?page=9").status_code == 404
    assert client_logged_in.get("/api/images/?status=bogus").status_code == 400


def test_api_token_issue_is_unaffected_by_other_headers(user):
    _, token = ApiToken.issue(user)
    assert ApiToken.bearer(f"Bearer {token}") == token
    assert ApiToken.bearer(f"bearer   {token}  ") == token
    assert ApiToken.bearer("Basic abc") is None and ApiToken.bearer("") is None and ApiToken.bearer(None) is None


def test_media_files_and_folders_are_not_readable_by_other_users(media_root):
    from gallery import storage

    path = storage.write_bytes("variants/ab/abcdef-thumb-1234.webp", b"RIFF")
    assert path.stat().st_mode & 0o007 == 0
    assert path.parent.stat().st_mode & 0o007 == 0
