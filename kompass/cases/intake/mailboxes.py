"""Where inbound mail is read from: a local Maildir (the demo, and any MTA delivering to disk) or an IMAP folder.

Both keep every message. A message is *pending* until :meth:`Mailbox.mark_processed` (called only after the
handler returned) or :meth:`Mailbox.mark_failed` (after too many failed attempts, so it cannot block the
mailbox); neither deletes anything.

================ ============================================== =================================================
                 Maildir                                        IMAP
================ ============================================== =================================================
pending          ``new/`` and ``cur/`` without the ``S`` flag   ``UID SEARCH UNKEYWORD $KompassProcessed
                                                                UNKEYWORD $KompassFailed`` (``UNSEEN`` if the
                                                                server has no keywords)
read             the file                                       ``UID FETCH (BODY.PEEK[])`` (does not set \\Seen)
processed        renamed into ``cur/`` with ``S``               ``UID STORE +FLAGS (\\Seen $KompassProcessed)``
failed           moved to the ``.Failed`` sub-folder            ``+FLAGS (\\Flagged $KompassFailed)``, or moved to
                 (unread, so a person sees it)                  ``failed_folder`` when one is set
================ ============================================== =================================================

A person reading the IMAP mailbox in a mail client marks messages \\Seen; with keywords that does not hide them
from Kompass.
"""

from __future__ import annotations

import base64
import imaplib
import logging
import mailbox
import os
import re
import ssl as ssl_module
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = [
    "FAILED_KEYWORD",
    "PROCESSED_KEYWORD",
    "ImapMailbox",
    "Mailbox",
    "MailboxError",
    "MaildirMailbox",
    "StoredMessage",
    "open_mailbox",
]

logger = logging.getLogger(__name__)

PROCESSED_KEYWORD = "$KompassProcessed"
FAILED_KEYWORD = "$KompassFailed"


class MailboxError(Exception):
    """The mailbox cannot be reached or refused an operation (the whole run stops; nothing is marked)."""


@dataclass(frozen=True)
class StoredMessage:
    key: str  # Maildir key or IMAP UID
    raw: bytes


class Mailbox(Protocol):
    """A source of inbound mail. Use as a context manager around one run."""

    name: str

    def __enter__(self) -> Mailbox: ...

    def __exit__(self, *exc_info: object) -> None: ...

    def pending(self) -> Iterator[StoredMessage]:
        """Messages not yet processed or failed, oldest first; read lazily, one at a time."""
        ...

    def mark_processed(self, key: str) -> None: ...

    def mark_failed(self, key: str) -> None: ...


# --------------------------------------------------------------------------------------------------------------
# Maildir
# --------------------------------------------------------------------------------------------------------------


class MaildirMailbox:
    """A Maildir (``new/``, ``cur/``, ``tmp/``) on the local disk; created if missing.

    Moves are ``rename()`` within one file system, so a crash leaves a message either pending or processed,
    never half-way. The stdlib :class:`mailbox.Maildir` creates the folders and is what tests deliver with.
    """

    def __init__(self, path: str | os.PathLike, *, failed_folder: str = "Failed") -> None:
        self.path = Path(path)
        self.name = f"maildir:{self.path}"
        self.path.parent.mkdir(parents=True, exist_ok=True)  # the stdlib creates the Maildir, not its parents
        self.maildir = mailbox.Maildir(self.path, factory=None, create=True)
        self.failed_folder = failed_folder
        self._seen: dict[str, tuple[str, str]] = {}  # key -> (subdir, filename) as listed by pending()

    def __enter__(self) -> MaildirMailbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def _entries(self) -> list[tuple[str, str, str]]:
        """``(subdir, filename, key)`` of every message, oldest first (Maildir names start with the time)."""
        entries = []
        for subdir in ("new", "cur"):
            for filename in os.listdir(self.path / subdir):
                if filename.startswith("."):
                    continue
                key, _, info = filename.partition(self.maildir.colon)
                flags = info[2:] if info.startswith("2,") else ""
                if subdir == "cur" and ("S" in flags or "T" in flags):
                    continue
                entries.append((subdir, filename, key))
        return sorted(entries, key=lambda entry: entry[2])

    def _find(self, key: str) -> tuple[str, str] | None:
        listed = self._seen.pop(key, None)
        if listed and (self.path / listed[0] / listed[1]).exists():
            return listed
        for subdir in ("new", "cur"):
            for filename in os.listdir(self.path / subdir):
                if filename == key or filename.startswith(key + self.maildir.colon):
                    return subdir, filename
        return None

    def pending(self) -> Iterator[StoredMessage]:
        for subdir, filename, key in self._entries():
            try:
                raw = (self.path / subdir / filename).read_bytes()
            except FileNotFoundError:  # processed by a concurrent run in the meantime
                continue
            self._seen[key] = (subdir, filename)
            yield StoredMessage(key, raw)

    def mark_processed(self, key: str) -> None:
        found = self._find(key)
        if found is None:
            return  # already moved (a concurrent run); nothing is lost
        subdir, filename = found
        _, _, info = filename.partition(self.maildir.colon)
        flags = set(info[2:] if info.startswith("2,") else "") | {"S"}
        target = f"{key}{self.maildir.colon}2,{''.join(sorted(flags))}"
        os.replace(self.path / subdir / filename, self.path / "cur" / target)

    def mark_failed(self, key: str) -> None:
        found = self._find(key)
        if found is None:
            return
        subdir, filename = found
        folder = self.maildir.add_folder(self.failed_folder)  # creates .Failed/{new,cur,tmp} if missing
        os.replace(self.path / subdir / filename, Path(folder._path) / subdir / filename)


# --------------------------------------------------------------------------------------------------------------
# IMAP
# --------------------------------------------------------------------------------------------------------------

Security = Literal["ssl", "starttls", "none"]
_DEFAULT_PORTS = {"ssl": 993, "starttls": 143, "none": 143}


class ImapMailbox:
    """One IMAP folder, over TLS by default. ``security="none"`` is for a loopback test server only."""

    def __init__(
        self,
        host: str,
        port: int | None = None,
        *,
        user: str,
        password: str,
        folder: str = "INBOX",
        security: Security = "ssl",
        ssl_context: ssl_module.SSLContext | None = None,
        failed_folder: str = "",
        timeout: float = 30,
    ) -> None:
        if security not in _DEFAULT_PORTS:
            raise ValueError(f"security must be one of {sorted(_DEFAULT_PORTS)}")
        self.host, self.port = host, port or _DEFAULT_PORTS[security]
        self.user, self.password, self.folder = user, password, folder
        self.security, self.ssl_context = security, ssl_context
        self.failed_folder, self.timeout = failed_folder, timeout
        self.name = f"imap://{user}@{host}:{self.port}/{folder}"
        self.connection: imaplib.IMAP4 | None = None
        self.keywords = True

    # -- session ------------------------------------------------------------------------------------------------

    def __enter__(self) -> ImapMailbox:
        context = self.ssl_context or ssl_module.create_default_context()
        try:
            if self.security == "ssl":
                conn = imaplib.IMAP4_SSL(self.host, self.port, ssl_context=context, timeout=self.timeout)
            else:
                conn = imaplib.IMAP4(self.host, self.port, timeout=self.timeout)
                if self.security == "starttls":
                    conn.starttls(ssl_context=context)
            self.connection = conn
            typ, data = conn.login(self.user, self.password)
            # Dovecot answers OK "Logged in, but initialization failed." when the mail store is broken.
            if typ != "OK" or b"initialization failed" in b" ".join(d for d in data if isinstance(d, bytes)).lower():
                raise MailboxError(f"{self.name}: login did not complete: {data!r}")
            typ, data = conn.select(_quote(self.folder))
            if typ != "OK":
                raise MailboxError(f"{self.name}: cannot select the folder: {data!r}")
        except (OSError, imaplib.IMAP4.error) as exc:
            self.__exit__()
            raise MailboxError(f"{self.name}: {exc}") from exc
        except MailboxError:
            self.__exit__()
            raise
        permanent = conn.untagged_responses.get("PERMANENTFLAGS", [b""])
        self.keywords = b"\\*" in b" ".join(p for p in permanent if isinstance(p, bytes))
        if not self.keywords:
            logger.warning("%s: the server stores no keywords; falling back to \\Seen", self.name)
        return self

    def __exit__(self, *exc_info: object) -> None:
        conn, self.connection = self.connection, None
        if conn is None:
            return
        try:
            if conn.state == "SELECTED":
                conn.close()
            conn.logout()
        except (OSError, imaplib.IMAP4.error):
            logger.debug("%s: logout failed", self.name, exc_info=True)

    def _conn(self) -> imaplib.IMAP4:
        if self.connection is None:
            raise MailboxError(f"{self.name}: not connected (use the mailbox as a context manager)")
        return self.connection

    def _uid(self, *args: str) -> list:
        try:
            typ, data = self._conn().uid(*args)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailboxError(f"{self.name}: UID {args[0]} failed: {exc}") from exc
        if typ != "OK":
            raise MailboxError(f"{self.name}: UID {args[0]} answered {typ}: {data!r}")
        return data

    # -- messages -----------------------------------------------------------------------------------------------

    def pending(self) -> Iterator[StoredMessage]:
        if self.keywords:
            criteria = f"UNKEYWORD {PROCESSED_KEYWORD} UNKEYWORD {FAILED_KEYWORD}"
        else:
            criteria = "UNSEEN UNFLAGGED"
        data = self._uid("SEARCH", criteria)
        uids = sorted(int(uid) for uid in b" ".join(data).split()) if data and data[0] else []
        for uid in uids:
            fetched = self._uid("FETCH", str(uid), "(BODY.PEEK[])")
            raw = next((item[1] for item in fetched if isinstance(item, tuple) and len(item) == 2), None)
            if raw is None:  # expunged meanwhile
                continue
            yield StoredMessage(str(uid), raw)

    def mark_processed(self, key: str) -> None:
        flags = f"(\\Seen {PROCESSED_KEYWORD})" if self.keywords else "(\\Seen)"
        self._uid("STORE", key, "+FLAGS.SILENT", flags)

    def mark_failed(self, key: str) -> None:
        flags = f"(\\Flagged {FAILED_KEYWORD})" if self.keywords else "(\\Flagged)"
        self._uid("STORE", key, "+FLAGS.SILENT", flags)
        if self.failed_folder:
            conn = self._conn()
            conn.create(_quote(self.failed_folder))  # answers NO when it exists; harmless
            typ, data = conn.capability()
            capabilities = set((data[-1] or b"").upper().split()) if typ == "OK" and data else set()
            if b"MOVE" in capabilities:  # RFC 6851
                self._uid("MOVE", key, _quote(self.failed_folder))
            else:  # copy, then remove only this UID (the flags above stay on the copy)
                self._uid("COPY", key, _quote(self.failed_folder))
                self._uid("STORE", key, "+FLAGS.SILENT", "(\\Deleted)")
                if b"UIDPLUS" in capabilities:
                    self._uid("EXPUNGE", key)
                else:
                    conn.expunge()


def _imap_utf7(name: str) -> str:
    """A folder name in IMAP's modified UTF-7 (RFC 3501 §5.1.3): ``Søppel`` → ``S&APg-ppel``."""
    out, pending = [], []

    def flush() -> None:
        if pending:
            encoded = base64.b64encode("".join(pending).encode("utf-16-be")).decode("ascii")
            out.append("&" + encoded.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def _quote(folder: str) -> str:
    return '"' + _imap_utf7(folder).replace("\\", "\\\\").replace('"', '\\"') + '"'


# --------------------------------------------------------------------------------------------------------------
# From a URL (the cases app's one setting)
# --------------------------------------------------------------------------------------------------------------

_SCHEMES = {"imaps": "ssl", "imap+starttls": "starttls", "imap": "none"}


def open_mailbox(url: str, *, password: str = "") -> Mailbox:
    """A mailbox from a URL: ``maildir:///var/mail/kompass``, ``imaps://user@host[:port]/INBOX``,
    ``imap+starttls://user@host/INBOX`` or ``imap://user@127.0.0.1:1143/INBOX`` (plain, loopback only).

    The password comes from the caller (a secret setting), not the URL. ``?failed=Folder`` sets the folder
    failed messages are moved to.
    """
    parts = urlsplit(url)
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    if parts.scheme == "maildir":
        return MaildirMailbox(unquote(parts.netloc + parts.path), failed_folder=options.get("failed", "Failed"))
    if parts.scheme not in _SCHEMES:
        raise ValueError(f"unsupported mailbox URL scheme {parts.scheme!r} (maildir, imaps, imap+starttls, imap)")
    security = _SCHEMES[parts.scheme]
    host = parts.hostname or ""
    if security == "none" and not re.fullmatch(r"127\.\d+\.\d+\.\d+|::1|localhost", host):
        raise ValueError("plain imap:// is allowed for a loopback server only; use imaps:// or imap+starttls://")
    return ImapMailbox(
        host,
        parts.port,
        user=unquote(parts.username or ""),
        password=password or unquote(parts.password or ""),
        folder=unquote(parts.path.lstrip("/")) or "INBOX",
        security=security,
        failed_folder=options.get("failed", ""),
    )
