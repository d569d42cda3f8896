"""Media in the bucket, in a real browser: an upload through the page is rendered from and into the bucket
(moto_server), and its tile comes to the browser through a presigned redirect the Content-Security-Policy lets
through."""

from __future__ import annotations

import pytest

from gallery.models import Photo
from tests import private_redis, private_s3
from tests.conftest import DATA
from tests.test_s3_many_hosts import Hosts

pytestmark = [pytest.mark.browser, pytest.mark.live]

# Fixtures: a Redis of this module's own, moto_server and a bucket (tests/private_redis.py, tests/private_s3.py).
private_redis_url = private_redis.private_redis_url
redis_conn = private_redis.redis_conn
moto_url = private_s3.moto_url
bucket = private_s3.bucket


@pytest.fixture
def s3_page(browser, transactional_db, bucket, private_redis_url, redis_conn, tmp_path, user):
    hosts = Hosts(tmp_path, private_redis_url, bucket.env)
    context = browser.new_context(base_url=hosts.web_urls[0], viewport={"width": 1280, "height": 900})
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text) if "Content Security" in message.text else None)
    from_bucket: list[tuple[str, int]] = []
    page.on("response", lambda response: from_bucket.append((response.url, response.status)))
    page.goto("/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    yield page, hosts, violations, from_bucket
    context.close()
    hosts.stop()


def test_the_gallery_shows_photos_from_the_bucket(s3_page, bucket):
    page, hosts, violations, responses = s3_page
    page.set_input_files("#upload-input", [str(DATA / "photos" / "landscape_orientation_3.jpg")])
    thumbnail = page.locator("#grid figure[data-status='ready'] img.tile-image").first
    try:
        thumbnail.wait_for(timeout=90_000)
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle(), timeout=30_000
        )
    except Exception:
        raise AssertionError(hosts.output()) from None
    photo = Photo.objects.get(original_name="landscape_orientation_3.jpg")
    assert photo.original_location == "s3" and photo.original in bucket.keys()
    assert not any(root.exists() for root in hosts.media_roots())
    # The browser followed the app's redirect to the bucket's presigned URL, and the CSP let it.
    thumb = photo.variants.get(name="thumb")
    assert any(url.startswith(bucket.endpoint) and thumb.file in url and status == 200 for url, status in responses)
    assert violations == []
