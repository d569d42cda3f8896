"""The photo view as a page and as the overlay's fragment, and its two downloads."""

import pytest

from tests.gallery_factories import aware, make_photo_row

pytestmark = pytest.mark.django_db


def test_the_overlay_gets_the_fragment_and_the_page_the_whole_page(client_logged_in):
    newer, photo = make_photo_row(taken_at=aware(2024, 5, 3)), make_photo_row(taken_at=aware(2024, 5, 2))
    fragment = client_logged_in.get(f"/photos/{photo.pk}/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="viewer")
    html = fragment.content.decode()
    assert html.lstrip().startswith("<article") and "<html" not in html
    assert f'data-photo="{photo.pk}"' in html and f'href="/photos/{newer.pk}/" data-nav="prev"' in html
    assert "HX-Target" in fragment["Vary"]  # never served from a cache as the page, or the other way round
    page = client_logged_in.get(f"/photos/{photo.pk}/").content.decode()
    assert "<html" in page and 'class="lightbox"' in page


def test_the_caption_shows_under_the_title_escaped_with_its_line_breaks(client_logged_in):
    photo = make_photo_row(original_name="puffins.jpg", caption="Puffins <script>alert(1)</script>\nsecond day")
    for response in (
        client_logged_in.get(f"/photos/{photo.pk}/"),
        client_logged_in.get(f"/photos/{photo.pk}/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="viewer"),
    ):
        html = response.content.decode()
        title = html.index('<h1 id="photo-title">puffins.jpg</h1>')
        caption = html.index(
            '<p class="photo-caption" data-caption>Puffins &lt;script&gt;alert(1)&lt;/script&gt;<br>second day</p>'
        )
        assert title < caption and "<script>alert(1)" not in html
    plain = make_photo_row()
    assert "data-caption" not in client_logged_in.get(f"/photos/{plain.pk}/").content.decode()


def test_the_placeholder_takes_the_size_of_the_image_it_stands_for(client_logged_in):
    photo = make_photo_row()
    html = client_logged_in.get(f"/photos/{photo.pk}/").content.decode()
    preview = photo.variants_by_name["preview"]
    size = f'width="{preview.width}" height="{preview.height}"'
    assert f'class="lightbox-placeholder" src="{photo.placeholder}" alt="" aria-hidden="true" {size}' in html


def test_download_as_shown_is_the_largest_rendered_version_as_an_attachment(client_logged_in, media_root):
    photo = make_photo_row(original_name="holiday.jpg")
    preview = photo.variants_by_name["preview"]
    (media_root / preview.file).parent.mkdir(parents=True)
    (media_root / preview.file).write_bytes(b"RIFF-webp")
    response = client_logged_in.get(f"/photos/{photo.pk}/download/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"RIFF-webp"
    assert response["Content-Disposition"] == 'attachment; filename="holiday (as shown).webp"'
    assert response["Content-Type"] == "image/webp"


def test_download_as_shown_of_a_photo_not_rendered_yet_is_404(client_logged_in):
    from gallery.models import Photo

    photo = make_photo_row(status=Photo.Status.QUEUED)
    assert client_logged_in.get(f"/photos/{photo.pk}/download/").status_code == 404
