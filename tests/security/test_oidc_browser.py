"""Signing in through a real OpenID Connect provider in headless Chromium (Streamlit's ``st.login``).

The provider runs on loopback inside the test: discovery, an HTML login page, the authorization-code flow with
PKCE (S256) and nonce, RS256-signed ID tokens (keys from ``authlib.jose``), JWKS and userinfo. The dashboards
are configured only through Pantau's settings (``PANTAU_OIDC_*`` fields, written to Streamlit's secrets file by
``dashboards.launch.write_auth_secrets``). A user in a mapped group lands with the mapped role; a user the map
does not name gets only the public pages.

Chromium: Debian's ``/usr/bin/chromium``, or ``PANTAU_TEST_CHROMIUM`` (a wrapper script for an unpacked copy).
"""

from __future__ import annotations

import base64
import hashlib
import html
import http.server
import json
import os
import secrets
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from test_browser import CHROMIUM, CHROMIUM_ARGS, PAGES, _free_port, _settle, served_dashboard

from dashboards.i18n import translate
from dashboards.launch import write_auth_secrets
from orchestration.settings import load_settings

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CLIENT_ID, CLIENT_SECRET = "pantau-dashboards", secrets.token_urlsafe(24)
USERS = {  # username -> claims
    "sari": {"email": "sari@bpbd.jakarta.go.id", "name": "Sari", "groups": ["bpbd-operators"]},
    "tamu": {"email": "tamu@example.org", "name": "Tamu", "groups": ["visitors"]},
}
ROLE_MAP = {"bpbd-operators": "operator", "kominfotik-admins": "admin"}
NAV = '[data-testid="stSidebarNavLink"]'


def _chromium() -> Path:
    path = Path(os.environ.get("PANTAU_TEST_CHROMIUM") or CHROMIUM)
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI must have chromium at {path}")
        pytest.skip("no chromium (Debian package or PANTAU_TEST_CHROMIUM)")
    pytest.importorskip("playwright.sync_api")
    return path


class Provider:
    """A minimal OpenID Connect provider (authorization code + PKCE) on a loopback port."""

    def __init__(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # authlib.jose announces its move to joserfc
            from authlib.jose import JsonWebKey

            self.key = JsonWebKey.generate_key("RSA", 2048, is_private=True, options={"kid": "test-1"})
        self.codes: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, str] = {}
        self.logins: list[str] = []
        me = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def _json(self, obj: Any, status: int = 200) -> None:
                self._send(status, json.dumps(obj).encode(), "application/json")

            def do_GET(self) -> None:
                url = urlparse(self.path)
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/.well-known/openid-configuration":
                    self._json(me.metadata())
                elif url.path == "/jwks":
                    self._json({"keys": [me.key.as_dict(is_private=False)]})
                elif url.path == "/authorize":
                    fields = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                                     for k, v in q.items())  # fmt: skip
                    page = (
                        "<html><body><h1>Test identity provider</h1><form method='post' action='/authorize'>"
                        f"{fields}<label>Username <input name='username' id='username'></label>"
                        "<button type='submit' id='signin'>Continue</button></form></body></html>"
                    )
                    self._send(200, page.encode(), "text/html")
                elif url.path == "/userinfo":
                    user = me.tokens.get(self.headers.get("Authorization", "").removeprefix("Bearer "))
                    self._json(me.claims(user) if user else {"error": "invalid_token"}, 200 if user else 401)
                else:
                    self._send(404, b"", "text/plain")

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                form = {k: v[0] for k, v in parse_qs(body).items()}
                if self.path == "/authorize":
                    user = form.get("username", "")
                    if user not in USERS or form.get("client_id") != CLIENT_ID:
                        self._send(403, b"unknown user", "text/plain")
                        return
                    code = secrets.token_urlsafe(16)
                    me.codes[code] = {**form, "user": user}
                    me.logins.append(user)
                    query = urlencode({"code": code, "state": form.get("state", "")})
                    self._send(302, b"", "text/plain", {"Location": f"{form['redirect_uri']}?{query}"})
                elif self.path == "/token":
                    self._json(*me.token(form, self.headers.get("Authorization", "")))
                else:
                    self._send(404, b"", "text/plain")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def metadata(self) -> dict[str, Any]:
        i = self.issuer
        return {
            "issuer": i, "authorization_endpoint": f"{i}/authorize", "token_endpoint": f"{i}/token",
            "jwks_uri": f"{i}/jwks", "userinfo_endpoint": f"{i}/userinfo", "response_types_supported": ["code"],
            "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"], "scopes_supported": ["openid", "profile", "email"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }  # fmt: skip

    def claims(self, user: str) -> dict[str, Any]:
        return {"sub": f"idp-{user}", **USERS[user]}

    def token(self, form: dict[str, str], auth: str) -> tuple[dict[str, Any], int]:
        cid, secret = form.get("client_id", ""), form.get("client_secret", "")
        if auth.startswith("Basic "):
            cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        grant = self.codes.pop(form.get("code", ""), None)  # one use
        if cid != CLIENT_ID or secret != CLIENT_SECRET or grant is None:
            return {"error": "invalid_grant"}, 400
        if form.get("redirect_uri") != grant.get("redirect_uri"):
            return {"error": "invalid_grant"}, 400
        if grant.get("code_challenge"):  # PKCE S256
            digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant["code_challenge"]:
                return {"error": "invalid_grant"}, 400
        now = int(time.time())
        claims = {**self.claims(grant["user"]), "iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 300}
        if grant.get("nonce"):
            claims["nonce"] = grant["nonce"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from authlib.jose import jwt

            id_token = jwt.encode({"alg": "RS256", "kid": "test-1"}, claims, self.key).decode()
        access = secrets.token_urlsafe(16)
        self.tokens[access] = grant["user"]
        return {"access_token": access, "token_type": "Bearer", "expires_in": 300, "id_token": id_token}, 200

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def oidc_dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Provider]]:
    _chromium()
    root = tmp_path_factory.mktemp("oidc") / "pantau-data"
    root.mkdir()
    provider = Provider()
    port = _free_port()
    env = {  # what a deployment sets: the PANTAU_OIDC_* settings
        "PANTAU_DATA_DIR": str(root),
        "PANTAU_OIDC_SERVER_METADATA_URL": f"{provider.issuer}/.well-known/openid-configuration",
        "PANTAU_OIDC_CLIENT_ID": CLIENT_ID,
        "PANTAU_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "PANTAU_OIDC_REDIRECT_URI": f"http://127.0.0.1:{port}/oauth2callback",
        "PANTAU_OIDC_COOKIE_SECRET": secrets.token_urlsafe(32),
        "PANTAU_OIDC_ROLES": json.dumps(ROLE_MAP),
    }
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        settings = load_settings()
    assert settings.oidc_enabled() and settings.oidc_roles == ROLE_MAP
    secrets_file = write_auth_secrets(settings, root.parent / "streamlit")
    assert secrets_file is not None and "[auth]" in secrets_file.read_text()
    try:
        with served_dashboard(root, root.parent / "server.log", port=port, secrets_file=secrets_file) as url:
            yield url, provider
    finally:
        provider.close()


def _nav(page: Any) -> set[str]:
    hrefs = page.locator(NAV).evaluate_all("els => els.map(e => e.getAttribute('href'))")
    return {h.rstrip("/").rsplit("/", 1)[-1] if h.rstrip("/").count("/") > 2 else "" for h in hrefs}


def _sign_in_with_provider(page: Any, url: str, user: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_role("heading", name=PAGES[""], exact=True).first.wait_for(timeout=90_000)
    _settle(page)
    page.get_by_role("button", name=translate("login"), exact=True).click()
    page.locator("#username").wait_for(timeout=60_000)  # the provider's own login page
    page.locator("#username").fill(user)
    page.locator("#signin").click()
    page.wait_for_url(f"{url}/**", timeout=60_000)
    page.get_by_role("heading", name=PAGES[""], exact=True).first.wait_for(timeout=90_000)
    _settle(page)


@pytest.mark.parametrize(
    ("user", "role", "sees"),
    [
        ("sari", "operator", {"", "open_data", "camera", "kelurahan", "alerts", "jaki", "planning", "quality",
                              "registry"}),
        ("tamu", "public", {"", "open_data"}),  # signed in with the provider, but in no mapped group
    ],
)  # fmt: skip
def test_sign_in_through_the_provider_lands_with_the_mapped_role(
    oidc_dashboard: tuple[str, Provider], user: str, role: str, sees: set[str]
) -> None:
    from playwright.sync_api import sync_playwright

    url, provider = oidc_dashboard
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(_chromium()), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1200}, locale="id-ID")
            _sign_in_with_provider(page, url, user)
            assert provider.logins[-1] == user
            name = USERS[user]["email"]
            page.get_by_text(f"{name} ({translate(f'role_{role}')})").first.wait_for(timeout=60_000)
            assert _nav(page) == sees
            # a page the role may not open, forced by its address, is served the overview instead
            page.goto(f"{url}/subscriptions", wait_until="domcontentloaded")
            page.get_by_role("heading", name=PAGES[""], exact=True).first.wait_for(timeout=90_000)
            _settle(page)
            assert page.get_by_role("heading", name=PAGES["subscriptions"], exact=True).count() == 0
        finally:
            browser.close()
