"""/media/ serves rendered variants only: the path is resolved first, then must lie under variants/."""

import pytest

from tests.conftest import ready_photo

pytestmark = pytest.mark.django_db


@pytest.fixture
def photo(client_logged_in, redis_conn):
    return ready_photo(client_logged_in)


def test_a_variant_is_served_inline(client_logged_in, photo):
    thumb = photo.variants_by_name["thumb"]
    response = client_logged_in.get(thumb.url)
    assert response.status_code == 200 and response["Content-Type"] == "image/webp"
    assert b"".join(response.streaming_content)[:4] == b"RIFF"


@pytest.mark.parametrize(
    "template",
    [
        "/media/variants/../{original}",
        "/media/variants/%2e%2e/{original}",
        "/media/variants/..%2f{original}",
        "/media/variants/%2E%2E%2F{original}",
        "/media/{original}",
        "/media/variants/../../{media_parent}",
    ],
)
def test_traversal_out_of_variants_is_404(client_logged_in, photo, media_root, template):
    url = template.format(original=photo.original, media_parent=media_root.parent.name)
    assert (media_root / photo.original).is_file()
    response = client_logged_in.get(url)
    assert response.status_code == 404, url


def test_traversal_with_an_api_token_is_404_too(client, photo, user):
    from gallery.models import ApiToken

    _, token = ApiToken.issue(user)
    response = client.get(f"/media/variants/../{photo.original}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404


def test_a_symlink_out_of_variants_is_404(client_logged_in, photo, media_root):
    link = media_root / "variants" / "sneaky.jpg"
    link.symlink_to(media_root / photo.original)
    assert client_logged_in.get("/media/variants/sneaky.jpg").status_code == 404


def test_names_the_file_system_refuses_are_404_not_500(client_logged_in, photo):
    thumb = photo.variants_by_name["thumb"]
    assert client_logged_in.get("/media/variants/" + "a" * 5000 + ".webp").status_code == 404
    assert client_logged_in.get(f"{thumb.url}/inside-a-file.webp").status_code == 404  # NotADirectoryError
    assert client_logged_in.get("/media/variants/").status_code == 404  # a directory
