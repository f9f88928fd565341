"""Bearer tokens: which user a request acts for.

A token maps to a user id; what the user may do in each team (operator or viewer) is the
store's team membership. Tokens are kept hashed, so lookups do not compare secrets byte by
byte and a memory dump does not show them.

Tokens file (TOML or JSON, by extension)::

    # tokens.toml
    [tokens]
    "s3cret-token-for-ada" = "01J...USERID"      # a user id
    "another-token" = "grace@example.com"         # or a user's email

    // tokens.json
    {"tokens": {"s3cret-token-for-ada": "01J...USERID"}}
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

from backend_client.models import User

__all__ = ["TokenFileError", "TokenTable", "bearer_token", "load_tokens_file"]


class TokenFileError(ValueError):
    """The tokens file cannot be read or does not follow the format."""


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


class TokenTable:
    """Tokens accepted by the server, each acting for one user.

    Args:
        tokens: token → user id.
    """

    def __init__(self, tokens: Mapping[str, str] | None = None) -> None:
        self._users: dict[bytes, str] = {}
        for token, user_id in (tokens or {}).items():
            self.add(token, user_id)

    def add(self, token: str, user_id: str) -> None:
        if not token:
            raise ValueError("a token must not be empty")
        self._users[_digest(token)] = user_id

    def user_for(self, token: str | None) -> str | None:
        """The user id a token acts for, or ``None`` for a missing or unknown token."""
        if not token:
            return None
        return self._users.get(_digest(token))

    def __len__(self) -> int:
        return len(self._users)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer TOKEN`` header value."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def load_tokens_file(path: Path, users: Iterable[User]) -> dict[str, str]:
    """Read a tokens file; values may be user ids or emails of known users.

    Raises:
        TokenFileError: unreadable, malformed, or naming a user the store does not have.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TokenFileError(f"cannot read tokens file {path}: {exc.strerror}") from None
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(raw)
        else:
            data = tomllib.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise TokenFileError(f"tokens file {path} is malformed: {exc}") from None
    table = data.get("tokens") if isinstance(data, dict) else None
    if not isinstance(table, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in table.items()
    ):
        raise TokenFileError(
            f'tokens file {path} needs a "tokens" table of token = "user id or email"'
        )
    by_id = {u.id: u.id for u in users}
    by_email = {u.email.casefold(): u.id for u in users if u.email}
    result: dict[str, str] = {}
    for token, who in table.items():
        user_id = by_id.get(who) or by_email.get(who.casefold())
        if user_id is None:
            raise TokenFileError(f"tokens file {path}: no user {who!r} in this backend")
        if not token.strip():
            raise TokenFileError(f"tokens file {path}: empty token for {who!r}")
        result[token.strip()] = user_id
    return result
