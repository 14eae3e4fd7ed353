"""Authentication (Basic and OAuth 2.0 bearer tokens) and a small per-user ACL for snowsim.

- Passwords and OAuth client secrets are stored as salted PBKDF2 hashes; successful Basic
  logins are cached in memory (keyed by a SHA-256 of the credentials) so that the hot path does
  not run PBKDF2 on every request.
- Tokens are stored hashed (SHA-256). An access token is ``HMAC(server_secret, nonce)``, so a
  repeat password grant before expiry can return the *same* token without storing it in clear.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .store import Store

__all__ = [
    "hash_secret",
    "verify_secret",
    "Authenticator",
    "OAuthError",
    "roles_of",
    "can_read",
    "can_write",
    "can_delete",
    "JOURNAL_READ_ROLE",
    "ITSM_TABLES",
]

PBKDF2_ITERATIONS = 20_000
JOURNAL_READ_ROLE = "journal_read"
ITSM_TABLES = {"incident", "sc_req_item", "sc_request", "change_request"}
WRITE_ROLES = {"itil"}
REFERENCE_TABLES = {
    "sys_user",
    "sys_user_group",
    "sys_user_grmember",
    "sys_choice",
    "cmdb_ci",
    "cmdb_ci_service",
    "sc_cat_item",
}
REFRESH_LIFETIME = 100 * 24 * 3600


def hash_secret(secret: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", secret.encode(), salt, PBKDF2_ITERATIONS)
    return f"pbkdf2_sha256${PBKDF2_ITERATIONS}${salt.hex()}${digest.hex()}"


def verify_secret(secret: str, stored: str) -> bool:
    try:
        _alg, iterations, salt, digest = stored.split("$")
        calc = hashlib.pbkdf2_hmac("sha256", secret.encode(), bytes.fromhex(salt), int(iterations))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(calc.hex(), digest)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --------------------------------------------------------------------------- ACL


def roles_of(user: dict | None) -> set[str]:
    if not user:
        return set()
    return {r.strip() for r in user.get("roles", "").split(",") if r.strip()}


def can_read(user: dict | None, table: str) -> bool:
    r = roles_of(user)
    if "admin" in r:
        return True
    if table == "sys_journal_field":
        return JOURNAL_READ_ROLE in r
    if table in ITSM_TABLES or table == "sys_attachment":
        return bool(r & WRITE_ROLES)
    if table in REFERENCE_TABLES:
        return user is not None
    return False


def can_write(user: dict | None, table: str) -> bool:
    r = roles_of(user)
    if "admin" in r:
        return True
    if table in ITSM_TABLES or table == "sys_attachment":
        return bool(r & WRITE_ROLES)
    return False


def can_delete(user: dict | None, table: str) -> bool:
    r = roles_of(user)
    if "admin" in r:
        return True
    return table == "sys_attachment" and bool(r & WRITE_ROLES)


# --------------------------------------------------------------------------- authentication


class OAuthError(Exception):
    def __init__(self, status: int, error: str, description: str):
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description

    def body(self) -> dict:
        return {"error": self.error, "error_description": self.description}


class Authenticator:
    """Checks Basic credentials and bearer tokens against a :class:`snowsim.store.Store`."""

    def __init__(self, store: Store, token_lifetime: int = 1800):
        self.store = store
        self.token_lifetime = token_lifetime
        self._cache: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    # -- Basic
    def check_password(self, user_name: str, password: str) -> dict | None:
        key = sha256(f"{user_name}\0{password}\0{self.store.generation}")
        with self._lock:
            hit = self._cache.get(key)
        if hit and hit[1] > time.monotonic():
            user = self.store.get_user(user_name)
            if user and self._usable(user):
                return user
        user = self.store.get_user(user_name)
        if not user or not self._usable(user):
            return None
        stored = self.store.password_hash(user_name)
        if not stored or not verify_secret(password, stored):
            return None
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key] = (user_name, time.monotonic() + 300)
        return user

    @staticmethod
    def _usable(user: dict) -> bool:
        return user.get("active") == "true" and user.get("locked_out") != "true"

    def authenticate_header(self, header: str | None) -> dict | None:
        """Return the user for an ``Authorization`` header (Basic or Bearer), or None."""
        if not header:
            return None
        scheme, _, cred = header.strip().partition(" ")
        scheme = scheme.lower()
        if scheme == "basic":
            try:
                decoded = base64.b64decode(cred.strip(), validate=True).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                return None
            user_name, sep, password = decoded.partition(":")
            if not sep:
                return None
            return self.check_password(user_name, password)
        if scheme == "bearer":
            return self.user_for_token(cred.strip())
        return None

    # -- OAuth tokens
    def _token(self, nonce: str) -> str:
        return hmac.new(self.store.secret_key.encode(), nonce.encode(), hashlib.sha256).hexdigest()[:43]

    def user_for_token(self, token: str) -> dict | None:
        row = self.store.oauth_token_lookup(sha256(token))
        if not row or row["kind"] != "access" or row["expires_at"] < time.time():
            return None
        user = self.store.get_user(row["user_name"])
        if not user or not self._usable(user):
            return None
        return user

    def _client(self, client_id: str | None, client_secret: str | None) -> dict:
        if not client_id:
            raise OAuthError(401, "invalid_client", "Client authentication failed: missing client_id")
        client = self.store.oauth_client(client_id)
        if not client or not verify_secret(client_secret or "", client["secret_hash"]):
            raise OAuthError(401, "invalid_client", "Client authentication failed")
        return client

    def _issue(self, kind: str, client_id: str, user_name: str, lifetime: int, reuse: bool) -> tuple[str, int]:
        now = time.time()
        if reuse:
            row = self.store.oauth_token_find(kind, client_id, user_name, now + 1)
            if row:
                return self._token(row["nonce"]), int(row["expires_at"] - now)
        nonce = secrets.token_hex(16)
        token = self._token(nonce)
        self.store.oauth_token_save(sha256(token), kind, client_id, user_name, nonce, now + lifetime)
        return token, lifetime

    def token_request(self, form: dict[str, str], basic_header: str | None) -> dict:
        """Handle an ``/oauth_token.do`` form; returns the JSON body or raises :class:`OAuthError`."""
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if basic_header and basic_header.lower().startswith("basic ") and not client_secret:
            try:
                decoded = base64.b64decode(basic_header[6:].strip(), validate=True).decode()
                from urllib.parse import unquote

                cid, _, csec = decoded.partition(":")
                client_id, client_secret = unquote(cid), unquote(csec)
            except (ValueError, UnicodeDecodeError) as exc:
                raise OAuthError(401, "invalid_client", "Malformed client credentials") from exc
        grant = form.get("grant_type", "")
        if grant not in ("password", "refresh_token", "client_credentials"):
            raise OAuthError(400, "unsupported_grant_type", f"Unsupported grant type: {grant or '(none)'}")
        client = self._client(client_id, client_secret)
        if grant == "password":
            user_name, password = form.get("username", ""), form.get("password", "")
            user = self.check_password(user_name, password) if user_name else None
            if user is None:
                raise OAuthError(401, "access_denied", "Invalid username or password")
            access, expires = self._issue("access", client["client_id"], user_name, self.token_lifetime, True)
            refresh, _ = self._issue("refresh", client["client_id"], user_name, REFRESH_LIFETIME, True)
            return {
                "access_token": access,
                "refresh_token": refresh,
                "scope": "useraccount",
                "token_type": "Bearer",
                "expires_in": expires,
            }
        if grant == "refresh_token":
            token = form.get("refresh_token", "")
            row = self.store.oauth_token_lookup(sha256(token)) if token else None
            if (
                not row
                or row["kind"] != "refresh"
                or row["expires_at"] < time.time()
                or row["client_id"] != client["client_id"]
            ):
                raise OAuthError(401, "invalid_grant", "Invalid or expired refresh token")
            user = self.store.get_user(row["user_name"])
            if not user or not self._usable(user):
                raise OAuthError(401, "invalid_grant", "User is inactive or locked out")
            access, expires = self._issue("access", client["client_id"], row["user_name"], self.token_lifetime, False)
            return {
                "access_token": access,
                "refresh_token": token,
                "scope": "useraccount",
                "token_type": "Bearer",
                "expires_in": expires,
            }
        # client_credentials
        user_name = client.get("user_name") or ""
        user = self.store.get_user(user_name) if user_name else None
        if not user or not self._usable(user):
            raise OAuthError(401, "unauthorized_client", "Client is not allowed the client_credentials grant")
        access, expires = self._issue("access", client["client_id"], user_name, self.token_lifetime, True)
        return {"access_token": access, "scope": "useraccount", "token_type": "Bearer", "expires_in": expires}
