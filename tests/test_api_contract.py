"""The OpenAPI schema at /api/schema/ against real answers: every operation it lists is called on the live stack
(Daphne, over HTTP) for its successes and its errors, and each answer's status code must be documented for the
operation, its content type documented for that status, and its body valid against the documented schema
(schemathesis validates the body). Every operation in the schema must be exercised here."""

from __future__ import annotations

import re

import pytest
import requests
import schemathesis

from gallery.models import ApiToken
from tests.conftest import DATA

pytestmark = pytest.mark.live


class Contract:
    def __init__(self, url: str, raw: dict):
        self.url, self.raw = url, raw
        self.schema = schemathesis.openapi.from_dict(raw)
        self.seen: set[tuple[str, str]] = set()

    def template(self, method: str, path: str) -> str:
        for template, operations in self.raw["paths"].items():
            pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
            if method.lower() in operations and re.match(pattern, path):
                return template
        raise AssertionError(f"{method} {path} is not in the schema")

    def call(self, method: str, path: str, expect: int, **kwargs) -> requests.Response:
        response = requests.request(method, self.url + path, timeout=30, **kwargs)
        assert response.status_code == expect, (method, path, response.status_code, response.text[:300])
        template = self.template(method, path)
        documented = self.raw["paths"][template][method.lower()]["responses"]
        assert str(expect) in documented, f"{method} {template} answers {expect}, which the schema does not list"
        content = documented[str(expect)].get("content")
        if content:
            media_type = response.headers["Content-Type"].split(";")[0].strip()
            assert media_type in content, f"{method} {template} {expect}: {media_type} is not documented"
        else:
            assert response.content == b"", f"{method} {template} {expect} has a body the schema does not document"
        self.schema[template][method.upper()].validate_response(response)  # raises when the body does not conform
        self.seen.add((method.lower(), template))
        return response


def test_every_operation_answers_as_its_schema_says(live, user, member):
    _, token = ApiToken.issue(user)
    _, member_token = ApiToken.issue(member)
    staff = {"Authorization": f"Bearer {token}"}
    others = {"Authorization": f"Bearer {member_token}"}
    raw = requests.get(live.url + "/api/schema/", headers=staff, timeout=30).json()
    assert raw["openapi"].startswith("3.")
    api = Contract(live.url, raw)

    api.call("GET", "/healthz", 200)
    api.call("GET", "/api/images/", 401)

    def upload(name: str, expect: int, headers=staff):
        with open(DATA / name, "rb") as handle:
            return api.call("POST", "/api/images/", expect, files={"file": handle}, headers=headers).json()

    photo = upload("formats/hopper.jpg", 201)
    assert upload("formats/hopper.jpg", 200)["duplicate"] is True
    upload("../../README.md", 415)
    api.call("POST", "/api/images/", 400, files={"other": ("a.jpg", b"x")}, headers=staff)
    api.call("POST", "/api/images/", 401, files={"file": ("a.jpg", b"x")})

    api.call("GET", "/api/images/", 200, headers=staff, params={"q": "hopper"})
    api.call("GET", "/api/images/", 400, headers=staff, params={"taken_after": "yesterday"})
    api.call("GET", "/api/images/", 404, headers=staff, params={"page": 9})
    api.call("POST", "/api/images/check/", 200, headers=staff, json={"sha256": [photo["sha256"], "0" * 64]})
    api.call("POST", "/api/images/check/", 400, headers=staff, json={"sha256": ["nope"]})
    api.call("GET", f"/api/images/{photo['id']}/", 200, headers=staff)
    api.call("GET", "/api/images/999999/", 404, headers=staff)
    api.call("GET", "/api/images/not-an-id/", 404, headers=staff)
    api.call("PATCH", f"/api/images/{photo['id']}/", 200, headers=staff, json={"favorite": True})
    api.call("PATCH", f"/api/images/{photo['id']}/", 400, headers=staff, json={"favorite": "sometimes"})
    api.call("DELETE", f"/api/images/{photo['id']}/", 403, headers=others)
    api.call("DELETE", f"/api/images/{photo['id']}/", 400, headers=staff, params={"purge": "perhaps"})
    api.call("DELETE", f"/api/images/{photo['id']}/", 200, headers=staff)
    api.call("POST", f"/api/images/{photo['id']}/restore/", 403, headers=others)
    api.call("POST", f"/api/images/{photo['id']}/restore/", 200, headers=staff)
    api.call("POST", "/api/images/999999/restore/", 404, headers=staff)
    api.call("GET", "/api/duplicates/", 200, headers=staff)

    album = api.call("POST", "/api/albums/", 201, headers=staff, json={"name": "Contract"}).json()
    api.call("POST", "/api/albums/", 400, headers=staff, json={"name": "contract"})
    api.call("GET", "/api/albums/", 200, headers=staff)
    api.call("GET", "/api/albums/", 404, headers=staff, params={"page": 5})
    api.call("GET", f"/api/albums/{album['id']}/", 200, headers=staff)
    api.call("GET", "/api/albums/999999/", 404, headers=staff)
    api.call("PATCH", f"/api/albums/{album['id']}/", 200, headers=staff, json={"name": "Contracts"})
    api.call("PATCH", f"/api/albums/{album['id']}/", 400, headers=staff, json={"name": " "})
    api.call("PATCH", f"/api/albums/{album['id']}/", 403, headers=others, json={"name": "Mine"})
    photos = f"/api/albums/{album['id']}/photos/"
    api.call("POST", photos, 200, headers=staff, json={"photos": [photo["id"]]})
    api.call("POST", photos, 400, headers=staff, json={"photos": [10**30]})
    api.call("POST", photos, 403, headers=others, json={"photos": [photo["id"]]})
    api.call("DELETE", photos, 200, headers=staff, json={"photos": [photo["id"]]})
    api.call("DELETE", photos, 400, headers=staff, json={})
    links = f"/api/albums/{album['id']}/links/"
    link = api.call("POST", links, 201, headers=staff, json={"allow_download": True}).json()
    api.call("POST", links, 400, headers=staff, json={"expires_in_days": "soon"})
    api.call("GET", links, 200, headers=staff)
    api.call("GET", links, 403, headers=others)
    api.call("DELETE", f"{links}{link['id']}/", 204, headers=staff)
    api.call("DELETE", f"{links}{link['id']}/", 404, headers=staff)
    api.call("DELETE", f"/api/albums/{album['id']}/", 403, headers=others)
    api.call("DELETE", f"/api/albums/{album['id']}/", 204, headers=staff)
    api.call("DELETE", f"/api/images/{photo['id']}/", 204, headers=staff, params={"purge": "1"})

    every = {(method, path) for path, operations in raw["paths"].items() for method in operations}
    assert every - api.seen == set(), "operations the contract test never called"
