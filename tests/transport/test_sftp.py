"""The SFTP mailbox transport against a real asyncssh SFTP server on loopback."""

from __future__ import annotations

import os
import time

import pytest

from claimflow.claims.x12 import write_837
from claimflow.integrations.clearinghouse import PermanentClearinghouseError, TransientClearinghouseError
from claimflow.integrations.sandbox.sftp_server import generate_key, known_hosts_line
from claimflow.integrations.transport import FileTooLarge, ProfileError, SftpTransport
from tests.factories import ClaimFactory
from tests.sandbox.helpers import envelope
from tests.transport.conftest import Mailbox

pytestmark = pytest.mark.asyncio(loop_scope="session")  # the server runs in the fixtures' loop


def interchange(number: int, claims: int = 1) -> str:
    factory = ClaimFactory(seed=number)
    return write_837([factory.claim() for _ in range(claims)], envelope(number))


async def test_an_upload_appears_whole_under_its_name_and_a_retry_is_not_written_twice(
    mailbox: Mailbox,
) -> None:
    text = interchange(42)
    async with mailbox.transport() as transport:
        receipt = await transport.submit_claims(text, "E1-1")
        again = await transport.submit_claims(text, "E1-1")
    assert receipt.submission_id == "CLAIMFLOW_000000042.837"
    assert not receipt.duplicate and again.duplicate
    # the server saw one completed file, under its final name, with every byte
    assert mailbox.uploads == [("CLAIMFLOW_000000042.837", text.encode())]
    assert sorted(os.listdir(mailbox.upload)) == ["CLAIMFLOW_000000042.837"]


async def test_pickup_lists_settled_files_oldest_first_and_archives_what_was_routed(mailbox: Mailbox) -> None:
    now = time.time()
    for name, age in (("B.835", 30), ("A.999", 60), ("C.835.part", 90), (".hidden", 90), ("fresh.277", 0)):
        path = mailbox.download / name
        path.write_text(f"content of {name}")
        os.utime(path, (now - age, now - age))
    async with mailbox.transport(settle_seconds=10) as transport:
        listed = [file.id for file in await transport.list_inbox()]
        assert listed == ["A.999", "B.835"]  # partial, hidden and still-changing files wait
        assert await transport.fetch("A.999") == "content of A.999"
        await transport.acknowledge("A.999")
        await transport.acknowledge("A.999")  # a retried activity
        assert [file.id for file in await transport.list_inbox()] == ["B.835"]
    assert (mailbox.home / "archive" / "A.999").read_text() == "content of A.999"


async def test_after_pickup_delete_or_keep(mailbox: Mailbox) -> None:
    (mailbox.download / "A.999").write_text("a")
    (mailbox.download / "B.999").write_text("b")
    async with mailbox.transport(after_pickup="delete") as transport:
        await transport.acknowledge("A.999")
    async with mailbox.transport(after_pickup="keep") as transport:
        await transport.acknowledge("B.999")
        await transport.park("B.999")  # no parked_dir: left where it is
    assert sorted(os.listdir(mailbox.download)) == ["B.999"]
    async with mailbox.transport(parked_dir="parked") as transport:
        await transport.park("B.999")
    assert os.listdir(mailbox.home / "parked") == ["B.999"]


async def test_a_file_above_the_size_limit_is_not_read(mailbox: Mailbox) -> None:
    (mailbox.download / "big.835").write_text("x" * 2000)
    async with mailbox.transport(max_file_bytes=1000) as transport:
        with pytest.raises(FileTooLarge, match="2,000 bytes, above the profile's max_file_bytes"):
            await transport.fetch("big.835")
    assert (mailbox.download / "big.835").exists()


async def test_an_unknown_or_changed_host_key_refuses_to_connect(mailbox: Mailbox) -> None:
    other = generate_key(mailbox.keys / "impostor_key")
    (mailbox.keys / "known_hosts").write_text(known_hosts_line("127.0.0.1", mailbox.port, other))
    async with mailbox.transport() as transport:
        with pytest.raises(PermanentClearinghouseError, match=r"not pinned in .*known_hosts.*refuses"):
            await transport.list_inbox()
    (mailbox.keys / "known_hosts").write_text("")
    async with mailbox.transport() as transport:
        with pytest.raises(PermanentClearinghouseError, match="unknown or a changed key"):
            await transport.submit_claims(interchange(1), "E1-1")
    assert mailbox.uploads == []


async def test_password_login_and_a_refused_login(mailbox: Mailbox) -> None:
    async with mailbox.transport(private_key=None, password_file=str(mailbox.keys / "password")) as transport:
        assert await transport.list_inbox() == []
    (mailbox.keys / "wrong").write_text("guess\n")
    async with mailbox.transport(private_key=None, password_file=str(mailbox.keys / "wrong")) as transport:
        with pytest.raises(PermanentClearinghouseError, match="refused the login of 'practice1'"):
            await transport.list_inbox()


async def test_a_dropped_connection_is_reconnected(mailbox: Mailbox) -> None:
    async with mailbox.transport() as transport:
        assert await transport.list_inbox() == []
        mailbox.server.drop_connections()
        (mailbox.download / "A.999").write_text("a")
        assert [file.id for file in await transport.list_inbox()] == ["A.999"]
        # dropped in the middle of an upload: the retry writes the whole file, under its name only
        text = interchange(7, claims=40)
        mailbox.server.faults.drop_after_bytes = len(text) // 2
        receipt = await transport.submit_claims(text, "E7-1")
    assert not receipt.duplicate
    assert mailbox.server.faults.drop_after_bytes is None  # the fault did fire
    assert mailbox.uploads == [("CLAIMFLOW_000000007.837", text.encode())]
    assert os.listdir(mailbox.upload) == ["CLAIMFLOW_000000007.837"]


async def test_a_full_folder_is_a_transient_failure_and_leaves_no_partial_file(mailbox: Mailbox) -> None:
    mailbox.server.faults.quota_bytes = 100
    async with mailbox.transport() as transport:
        with pytest.raises(TransientClearinghouseError, match=r"may be full.*try again later"):
            await transport.submit_claims(interchange(3), "E3-1")
        assert os.listdir(mailbox.upload) == []
        mailbox.server.faults.quota_bytes = None  # the clearinghouse collected its files
        assert not (await transport.submit_claims(interchange(3), "E3-1")).duplicate
    assert [name for name, _ in mailbox.uploads] == ["CLAIMFLOW_000000003.837"]


async def test_real_time_inquiries_need_the_profiles_api(mailbox: Mailbox) -> None:
    async with mailbox.transport() as transport:
        with pytest.raises(PermanentClearinghouseError, match=r"add \[realtime\] url"):
            await transport.check_eligibility("ISA*...")


async def test_a_profile_it_cannot_use_is_refused_with_the_field(mailbox: Mailbox) -> None:
    with pytest.raises(ProfileError, match="after_pickup = 'archive' needs archive_dir"):
        mailbox.profile(archive_dir=None)
    with pytest.raises(ProfileError, match=r"upload_name must contain \{control_number\}"):
        mailbox.profile(upload_name="claims.837")
    with pytest.raises(ProfileError, match=r"sftp\.private_key .* does not exist"):
        mailbox.profile(private_key="missing_key")


async def test_one_attempt_per_call_and_the_next_call_reconnects(mailbox: Mailbox) -> None:
    """Inside an activity (one attempt, the default) a dropped connection fails the call as
    transient; the activity's retry finds a fresh connection."""
    async with SftpTransport(mailbox.profile()) as transport:
        assert await transport.list_inbox() == []
        mailbox.server.drop_connections()
        with pytest.raises(TransientClearinghouseError, match="inbox listing failed"):
            await transport.list_inbox()
        (mailbox.download / "A.999").write_text("a")
        assert [file.id for file in await transport.list_inbox()] == ["A.999"]
