"""A small library that looks like photos, for the find-features' browser tests and screenshots: landscapes drawn
with Pillow (sky, sun, hills) in the shapes cameras make, uploaded and rendered for real, then dated across years
(and on today's date in earlier years, for "on this day")."""

import io
import random
import time
from datetime import timedelta

from django.core.files.uploadedfile import TemporaryUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFilter

from gallery import albums, favorites
from gallery.models import Photo
from gallery.services import ingest_upload

SHAPES = [(600, 400), (400, 600), (500, 500), (640, 360), (600, 450), (450, 600), (720, 360), (600, 400)]
SKIES = [
    ((255, 183, 94), (237, 98, 84)),
    ((118, 184, 235), (215, 236, 250)),
    ((40, 52, 110), (214, 120, 140)),
    ((255, 222, 173), (135, 206, 235)),
    ((28, 40, 62), (90, 120, 170)),
    ((250, 200, 150), (250, 240, 210)),
]
LANDS = [(46, 92, 62), (84, 120, 70), (30, 45, 60), (120, 90, 60), (60, 70, 90), (150, 160, 120)]
PLACES = ["Beach", "Harbour", "Hills", "Lake", "Forest", "Dunes", "Snow", "City", "Garden", "Coast"]
CAMERAS = ["X100V", "iPhone 15", "EOS R6", "Pixel 8"]


def landscape(seed: int, width: int, height: int) -> bytes:
    rng = random.Random(seed)
    top, bottom = rng.choice(SKIES)
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / height
        draw.line([(0, y), (width, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))
    sun = rng.randint(height // 12, height // 6)
    cx, cy = rng.randint(sun, width - sun), rng.randint(height // 6, height // 2)
    draw.ellipse([cx - sun, cy - sun, cx + sun, cy + sun], fill=(255, 244, 214))
    base = rng.choice(LANDS)
    for layer in range(3):
        shade = tuple(max(0, c - 22 * layer) for c in base)
        level = int(height * (0.55 + 0.13 * layer))
        points = [(0, height)]
        for x in range(0, width + 40, 40):
            points.append((x, level + rng.randint(-height // 10, height // 14)))
        points.append((width, height))
        draw.polygon(points, fill=shade)
    image = image.filter(ImageFilter.GaussianBlur(1.2))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=88)
    return buffer.getvalue()


def seed_library(user, *, count: int = 36, memories: int = 3, wait: float = 240) -> list[Photo]:
    """`count` photos over three years (newest first) plus `memories` taken on today's date in earlier years;
    rendered by the live stack's worker. Every fourth is a favourite; the first six are in the album "Summer"."""
    now = timezone.localtime()
    ids = []
    for number in range(count + memories):
        width, height = SHAPES[number % len(SHAPES)]
        place = PLACES[number % len(PLACES)]
        data = landscape(number, width, height)
        upload = TemporaryUploadedFile(f"{place} {number + 1}.jpg", "image/jpeg", len(data), None)
        upload.write(data)
        upload.seek(0)
        with upload:
            ids.append(ingest_upload(upload=upload, user=user).photo.pk)
    deadline = time.monotonic() + wait
    while Photo.objects.filter(pk__in=ids, status=Photo.Status.READY).count() < len(ids):
        if time.monotonic() > deadline:
            raise AssertionError("the worker did not render the seeded photos in time")
        time.sleep(0.5)
    photos = list(Photo.objects.filter(pk__in=ids).order_by("pk"))
    for number, photo in enumerate(photos):
        if number < count:
            taken = now - timedelta(days=4 + number * 9, hours=number)
        else:
            years = 1 + 2 * (number - count)
            taken = now.replace(year=now.year - years, hour=10 + number % 8)
        photo.taken_at = taken
        photo.taken_date = timezone.localtime(photo.taken_at).date()
        photo.camera_model = CAMERAS[number % len(CAMERAS)]
        photo.save(update_fields=["taken_at", "taken_date", "camera_model"])
        if number % 4 == 1:
            favorites.set_favorite(user=user, photo=photo, favorite=True)
    summer = albums.create_album(name="Summer", owner=user)
    albums.add_photos(album=summer, photo_ids=[photo.pk for photo in photos[:6]])
    return photos
