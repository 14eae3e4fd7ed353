"""The IMAP path against a real Dovecot (Debian's ``dovecot-imapd``), started for this session with its own config.

Skipped when ``dovecot`` is not installed, unless ``KOMPASS_REQUIRE_DOVECOT`` is set (CI), which makes it fail.
"""

import grp
import imaplib
import itertools
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from kompass.cases.intake import (
    Action,
    ImapMailbox,
    InMemorySeenStore,
    MailboxError,
    Outcome,
    open_mailbox,
    process_mailbox,
)
from kompass.cases.intake.mailboxes import FAILED_KEYWORD, PROCESSED_KEYWORD, _imap_utf7
from kompass.cases.tests import intake_support as mail

USER, PASSWORD = "kompass", "imap-test-password"
# The stack notes' config, with each block's settings on their own lines (doveconf allows nothing after "{").
# ``{unprivileged}`` is empty as root; otherwise it runs every Dovecot process as the current user.
CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# No 2 s pause after a wrong password (the last test).
auth_failure_delay = 0
first_valid_uid = 1
{unprivileged}
service imap-login {{
  {login_chroot}
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/users
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={root}/mail/%u
}}
mail_location = maildir:~/Maildir
"""


def _dovecot_binary() -> str | None:
    return shutil.which("dovecot") or next((p for p in ("/usr/sbin/dovecot",) if os.access(p, os.X_OK)), None)


def _unavailable(reason: str):
    if os.environ.get("KOMPASS_REQUIRE_DOVECOT"):
        pytest.fail(f"{reason}, and KOMPASS_REQUIRE_DOVECOT requires the IMAP tests to run")
    pytest.skip(f"{reason} (apt-get install dovecot-imapd); set KOMPASS_REQUIRE_DOVECOT=1 to make this a failure")


def _write_config(root: Path) -> tuple[Path, int]:
    (root / "mail").mkdir()
    if os.geteuid() == 0:  # the mail uid cannot be root: Dovecot switches to its own user for the mail store
        user, group, unprivileged, login_chroot = "dovecot", "dovecot", "", ""
        shutil.chown(root / "mail", user, group)
    else:  # checked by hand as `nobody`; no chroot and no user switch without root
        user, group = pwd.getpwuid(os.geteuid()).pw_name, grp.getgrgid(os.getegid()).gr_name
        unprivileged = (
            f"default_internal_user = {user}\ndefault_login_user = {user}\ndefault_internal_group = {group}\n"
            "service anvil {\n  chroot =\n}"
        )
        login_chroot = "chroot ="
    (root / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = root / "dovecot.conf"
    values = {"unprivileged": unprivileged, "login_chroot": login_chroot, "user": user, "group": group}
    config.write_text(CONFIG.format(root=root, port=port, **values))
    return config, port


def _wait_until_ready(process: subprocess.Popen, root: Path, port: int) -> None:
    deadline = time.monotonic() + 15
    while process.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                if sock.recv(100).startswith(b"* OK"):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("dovecot did not start in 15 s")
        time.sleep(0.05)
    logs = [(root / name).read_text() for name in ("stdout.log", "dovecot.log") if (root / name).exists()]
    raise RuntimeError("dovecot exited:\n" + "\n".join(logs))


@pytest.fixture(scope="session")
def dovecot():
    """A private Dovecot on a free loopback port; yields the port."""
    binary = _dovecot_binary()
    if binary is None:
        _unavailable("dovecot is not installed")
    # Not pytest's tmp_path: its parents are private to root, and the dovecot user must reach its mail dir.
    root = Path(tempfile.mkdtemp(prefix="kompass-dovecot-"))
    process = None
    try:
        root.chmod(0o755)
        config, port = _write_config(root)
        with (root / "stdout.log").open("wb") as output:
            process = subprocess.Popen([binary, "-F", "-c", str(config)], stdout=output, stderr=subprocess.STDOUT)  # noqa: S603
        _wait_until_ready(process, root, port)
        yield port
    finally:
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(root, ignore_errors=True)


_folders = itertools.count(1)


class Imap:
    """A test client: its own folder per test, APPEND, and the flags by UID."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.folder = f"Test{next(_folders)}"
        self.conn = imaplib.IMAP4("127.0.0.1", port)
        typ, data = self.conn.login(USER, PASSWORD)
        assert typ == "OK" and b"initialization failed" not in data[0], data
        assert self.conn.create(self.folder)[0] == "OK"

    def append(self, *messages, flags: str = "") -> None:
        for message in messages:
            raw = message if isinstance(message, bytes) else message.as_bytes()
            typ, data = self.conn.append(self.folder, f"({flags})" if flags else None, None, raw)
            assert typ == "OK", data

    def flags(self, folder: str | None = None) -> dict[int, set[str]]:
        self.conn.select(folder or self.folder, readonly=True)
        typ, data = self.conn.uid("FETCH", "1:*", "(UID FLAGS)")
        result = {}
        for line in data:
            if line:
                match = re.search(rb"UID (\d+) FLAGS \(([^)]*)\)", line)
                result[int(match[1])] = set(match[2].decode().split())
        return result

    def mailbox(self, **kwargs) -> ImapMailbox:
        return ImapMailbox("127.0.0.1", self.port, user=USER, password=PASSWORD, folder=self.folder,
                           security="none", **kwargs)  # fmt: skip

    def close(self) -> None:
        self.conn.logout()


@pytest.fixture
def imap(dovecot):
    client = Imap(dovecot)
    yield client
    client.close()


DONE = {"\\Seen", PROCESSED_KEYWORD}


def test_it_processes_a_folder_and_flags_only_what_it_handled(imap):
    imap.append(
        mail.outlook_reply(mail.notification(mail.KARI)),  # UID 1: reply
        mail.html_only(),  # 2: new case
        mail.outlook_out_of_office(mail.notification(mail.KARI)),  # 3: ignored
        mail.html_only(sender="stranger@example.no"),  # 4: refused
    )
    cases = mail.FakeCases()
    report = process_mailbox(imap.mailbox(), cases.handle, seen_store=InMemorySeenStore())
    assert [(i.key, i.action) for i in report.items] == [
        ("1", Action.REPLY_POSTED),
        ("2", Action.CASE_OPENED),
        ("3", Action.IGNORED),
        ("4", Action.REFUSED),
    ]
    assert all(flags >= DONE for flags in imap.flags().values())
    assert list(cases.replies.values()) == [(mail.REF, "Hei,\n\nTakk, skriveren virker nå. Dere kan lukke saken.")]
    assert process_mailbox(imap.mailbox(), cases.handle, seen_store=InMemorySeenStore()).items == []


def test_a_handler_crash_leaves_the_message_unseen_and_it_is_retried(imap):
    imap.append(mail.gmail_reply(mail.notification(mail.OLA)))
    cases = mail.FakeCases(crash_before_commit=1)
    store = InMemorySeenStore()

    first = process_mailbox(imap.mailbox(), cases.handle, seen_store=store)
    assert [i.action for i in first.items] == [Action.FAILED]
    assert imap.flags() == {1: set()}  # BODY.PEEK: fetching did not mark it \Seen

    second = process_mailbox(imap.mailbox(), cases.handle, seen_store=store)
    assert [i.action for i in second.items] == [Action.REPLY_POSTED]
    assert imap.flags()[1] >= DONE
    assert len(cases.replies) == 1


def test_a_crash_after_commit_is_not_posted_twice(imap):
    imap.append(mail.outlook_reply(mail.notification()))
    cases = mail.FakeCases(crash_after_commit=1)
    process_mailbox(imap.mailbox(), cases.handle, seen_store=InMemorySeenStore())
    assert imap.flags() == {1: set()} and len(cases.replies) == 1

    store = InMemorySeenStore()
    store.already_processed = cases.already_processed  # the cases tables remember the Message-ID
    again = process_mailbox(imap.mailbox(), cases.handle, seen_store=store)
    assert [i.action for i in again.items] == [Action.DUPLICATE]
    assert cases.calls == 1 and len(cases.replies) == 1
    assert imap.flags()[1] >= DONE


def test_a_message_read_by_a_person_is_still_processed(imap):
    imap.append(mail.html_only(), flags="\\Seen")
    report = process_mailbox(imap.mailbox(), mail.FakeCases().handle, seen_store=InMemorySeenStore())
    assert [i.action for i in report.items] == [Action.CASE_OPENED]
    assert imap.flags()[1] >= DONE


def test_a_message_that_keeps_failing_is_flagged_and_stops_blocking(imap):
    imap.append(mail.html_only(), mail.gmail_forward())

    def handler(message):
        if message.forwarded:
            return Outcome.case_opened("KOM-2026-000002")
        raise ValueError("poison")

    store = InMemorySeenStore()
    for _ in range(2):
        process_mailbox(imap.mailbox(), handler, seen_store=store, max_attempts=2)
    flags = imap.flags()
    assert flags[1] >= {"\\Flagged", FAILED_KEYWORD} and "\\Seen" not in flags[1]
    assert flags[2] >= DONE
    assert process_mailbox(imap.mailbox(), handler, seen_store=store).items == []


def test_failed_messages_can_be_moved_to_a_folder(imap):
    imap.append(mail.html_only())
    failed_folder = f"{imap.folder}-feilet-æøå"  # a non-ASCII name goes over the wire in modified UTF-7
    url = f"imap://{USER}@127.0.0.1:{imap.port}/{imap.folder}?failed={quote(failed_folder)}"
    box = open_mailbox(url, password=PASSWORD)

    def handler(message):
        raise ValueError("poison")

    process_mailbox(box, handler, seen_store=InMemorySeenStore(), max_attempts=1)
    assert imap.flags() == {}
    assert any(b"-feilet-&AOYA+ADl-" in line for line in imap.conn.list()[1])
    (moved,) = imap.flags(_imap_utf7(failed_folder)).values()
    assert moved >= {"\\Flagged", FAILED_KEYWORD}


def test_a_wrong_password_is_a_mailbox_error(dovecot):
    box = ImapMailbox("127.0.0.1", dovecot, user=USER, password="wrong", security="none")
    with pytest.raises(MailboxError):
        process_mailbox(box, mail.FakeCases().handle, seen_store=InMemorySeenStore())


@pytest.mark.parametrize(("required", "outcome"), [("", pytest.skip.Exception), ("1", pytest.fail.Exception)])
def test_a_missing_dovecot_skips_unless_required(monkeypatch, required, outcome):
    if required:
        monkeypatch.setenv("KOMPASS_REQUIRE_DOVECOT", required)
    else:
        monkeypatch.delenv("KOMPASS_REQUIRE_DOVECOT", raising=False)
    with pytest.raises(outcome):
        _unavailable("dovecot is not installed")


@pytest.mark.django_db
def test_the_cases_intake_reads_imap_into_real_cases(imap, cast, service, settings, make_case):
    """The whole path: IMAP (dovecot) → parse → the cases handler → replies and cases rows → flags on the server."""
    from kompass.cases import mail as cases_mail
    from kompass.cases.models import Case, IntakeRecord, Reply

    settings.KOMPASS_INTAKE_ADDRESS = mail.DESK
    case = make_case()
    requester = case.requester.email
    notification = mail.notification(recipient=requester, reference=case.number)
    imap.append(
        mail.outlook_reply(notification, sender=requester),  # UID 1: a reply to the case
        mail.html_only(sender=requester),  # 2: a new case
        mail.rfc3834_auto_reply(sender=requester),  # 3: ignored
    )
    url = f"imap://{USER}@127.0.0.1:{imap.port}/{imap.folder}"
    report = cases_mail.run_intake(url, password=PASSWORD)
    assert [i.action for i in report.items] == [Action.REPLY_POSTED, Action.CASE_OPENED, Action.IGNORED]
    assert Reply.objects.get(case=case).text == "Hei,\n\nTakk, skriveren virker nå. Dere kan lukke saken."
    assert Case.objects.get(source="email").title == "Skjermen er svart"
    assert all(flags >= DONE for flags in imap.flags().values())
    assert IntakeRecord.objects.filter(mailbox=report.mailbox, done=True).count() == 3
    assert cases_mail.run_intake(url, password=PASSWORD).items == []
