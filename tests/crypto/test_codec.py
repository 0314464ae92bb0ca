"""The payload codec: round trip, rotation, tamper detection, and no clear text in the bytes."""

from __future__ import annotations

import base64
import os
from datetime import date
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.exceptions import ApplicationError

from claimflow.claims.encounter import Address, Person
from claimflow.integrations.crypto import (
    KEY_ID_METADATA,
    EncryptionCodec,
    EncryptionKey,
    KeyConfigError,
    KeyRing,
    PayloadTamperedError,
    UnknownKeyError,
    ensure_key_file,
    load_keys,
    parse_keys,
)
from claimflow.integrations.settings import Settings
from claimflow.integrations.temporal import data_converter

PATIENT = Person(
    last_name="Okonkwo-Lindqvist",
    first_name="Theodora",
    birth_date=date(1958, 3, 14),
    address=Address(line1="4187 Juniper Hollow Rd", city="Millbrook", state="NY", postal_code="12545"),
)
CLEAR_TEXTS = [b"Okonkwo-Lindqvist", b"Theodora", b"1958-03-14", b"Juniper Hollow"]


def key(key_id: str) -> EncryptionKey:
    return EncryptionKey(key_id=key_id, secret=os.urandom(32))


async def test_round_trip_through_the_data_converter() -> None:
    converter = data_converter(KeyRing((key("k1"),)))
    payloads = await converter.encode([PATIENT, "plain", 42])
    assert [p.metadata["encoding"] for p in payloads] == [b"binary/encrypted"] * 3
    assert await converter.decode(payloads, [Person, str, int]) == [PATIENT, "plain", 42]


async def test_payload_bytes_hold_no_clear_text() -> None:
    converter = data_converter(KeyRing((key("k1"),)))
    (payload,) = await converter.encode([PATIENT])
    raw = payload.SerializeToString()
    for text in CLEAR_TEXTS:
        assert text not in raw
    # the same value encrypts differently each time (fresh nonce)
    (again,) = await converter.encode([PATIENT])
    assert again.data != payload.data


async def test_failure_messages_are_encrypted_too() -> None:
    converter = data_converter(KeyRing((key("k1"),)))
    failure = Failure()
    error = ApplicationError("member Theodora Okonkwo-Lindqvist not found", non_retryable=True)
    await converter.encode_failure(error, failure)
    assert b"Okonkwo-Lindqvist" not in failure.SerializeToString()
    decoded = await converter.decode_failure(failure)
    assert "Okonkwo-Lindqvist" in str(decoded)


async def test_rotation_old_key_still_decrypts_new_key_encrypts() -> None:
    old, new = key("2025a"), key("2026a")
    (sealed_before,) = await EncryptionCodec(KeyRing((old,))).encode([Payload(data=b"x")])
    rotated = EncryptionCodec(KeyRing((new, old)))
    assert await rotated.decode([sealed_before]) == [Payload(data=b"x")]
    (sealed_after,) = await rotated.encode([Payload(data=b"y")])
    assert sealed_after.metadata[KEY_ID_METADATA] == b"2026a"


async def test_unknown_key_id_is_a_clear_error() -> None:
    (sealed,) = await EncryptionCodec(KeyRing((key("retired"),))).encode([Payload(data=b"x")])
    with pytest.raises(UnknownKeyError, match=r"key id 'retired'.*add that key to CLAIMFLOW_KEYS"):
        await EncryptionCodec(KeyRing((key("k2"),))).decode([sealed])


async def test_a_wrong_key_under_the_right_id_is_a_clear_error_not_garbage() -> None:
    """A key file replaced by another (the same id, another secret) cannot open what the old one
    sealed: AES-GCM refuses to authenticate it, and the error says so."""
    (sealed,) = await EncryptionCodec(KeyRing((key("k1"),))).encode([Payload(data=b"Vandersloot")])
    with pytest.raises(PayloadTamperedError, match="does not authenticate"):
        await EncryptionCodec(KeyRing((key("k1"),))).decode([sealed])


@pytest.mark.parametrize("where", ["data", "key_id"])
async def test_tampering_is_detected(where: str) -> None:
    first, second = key("k1"), key("k2")
    codec = EncryptionCodec(KeyRing((first, second)))
    (sealed,) = await codec.encode([Payload(data=b"patient data")])
    if where == "data":
        flipped = bytearray(sealed.data)
        flipped[-1] ^= 0x01
        sealed.data = bytes(flipped)
    else:
        sealed.metadata[KEY_ID_METADATA] = b"k2"  # relabelled to another known key
    with pytest.raises(PayloadTamperedError, match="does not authenticate"):
        await codec.decode([sealed])


async def test_payloads_not_encrypted_pass_through() -> None:
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'"x"')
    assert await EncryptionCodec(KeyRing((key("k1"),))).decode([plain]) == [plain]


def test_parse_keys_reads_the_documented_format() -> None:
    a, b = os.urandom(32), os.urandom(16)
    ring = parse_keys(f"kid1:{base64.b64encode(a).decode()}, kid2:{base64.b64encode(b).decode()}")
    assert [k.key_id for k in ring.keys] == ["kid1", "kid2"]
    assert ring.current.secret == a
    assert parse_keys(ring.encoded()) == ring


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no encryption key"),
        ("justbase64", "no key id"),
        ("k1:not*base64", "not valid base64"),
        (f"k1:{base64.b64encode(b'short').decode()}", "5 bytes"),
        (f"k1:{base64.b64encode(bytes(32)).decode()},k1:{base64.b64encode(bytes(32)).decode()}", "unique"),
    ],
)
def test_bad_keys_are_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(KeyConfigError, match=message):
        parse_keys(text)


def test_key_repr_does_not_show_the_secret() -> None:
    secret_key = key("k1")
    assert secret_key.secret.hex() not in repr(secret_key)
    assert base64.b64encode(secret_key.secret).decode() not in repr(KeyRing((secret_key,)))


def test_key_file_is_generated_once_and_kept(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    first = load_keys(settings)
    assert settings.key_file.stat().st_mode & 0o777 == 0o600
    assert load_keys(settings) == first
    assert ensure_key_file(settings.key_file) == first


def test_claimflow_keys_take_precedence_over_the_key_file(tmp_path: Path) -> None:
    given = KeyRing((key("env1"),))
    settings = Settings.from_env({"CLAIMFLOW_HOME": str(tmp_path), "CLAIMFLOW_KEYS": given.encoded()})
    assert load_keys(settings) == given
    assert not settings.key_file.exists()
