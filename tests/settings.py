"""The project settings, with what a test run needs when the environment does not give it."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-not-a-secret")

from glowworm.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
