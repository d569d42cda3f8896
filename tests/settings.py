"""The project settings, with what a test run needs when the environment does not give it."""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "tests-only-not-a-secret")

from glowworm.settings import *  # noqa: E402,F403
from glowworm.settings import DATABASES, STORAGES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests

# Static files straight from the source folders: no collectstatic before a test run (test_static.py checks the
# hashed names of the production storage).
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not :memory:, so Daphne and worker processes started by tests share it; one per test run.
    DATABASES["default"]["TEST"] = {"NAME": os.path.join(tempfile.gettempdir(), f"glowworm-test-{os.getpid()}.sqlite3")}
else:
    # One test database per run, so two runs against one server (two CI checkouts) never share it.
    DATABASES["default"]["TEST"] = dict(
        DATABASES["default"].get("TEST", {}), NAME=f"test_{DATABASES['default']['NAME']}_{os.getpid()}"
    )
