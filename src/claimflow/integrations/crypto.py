"""AES-GCM encryption of every Temporal payload, so no PHI reaches Temporal's history in clear text.

Each encrypted payload names the key that sealed it (metadata `encryption-key-id`). Keys are listed
current first: new payloads are sealed with the first key; any listed key opens old ones, which is
how a key is rotated: put the new key first, keep the old one until no open workflow needs it.

Keys come from CLAIMFLOW_KEYS (`kid1:base64key,kid2:base64key`) or, for the embedded stack, from a
key file that `load_keys` generates under CLAIMFLOW_HOME on first start.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from claimflow.integrations.settings import Settings

ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
NONCE_BYTES = 12
KEY_LENGTHS = (16, 24, 32)
_KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class KeyConfigError(ValueError):
    """CLAIMFLOW_KEYS or the key file cannot be read as keys."""


class UnknownKeyError(LookupError):
    """A payload was sealed with a key this process does not hold."""


class PayloadTamperedError(ValueError):
    """A payload does not authenticate: changed, truncated, or sealed under another key with this id."""


@dataclass(frozen=True)
class EncryptionKey:
    key_id: str
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not _KEY_ID.match(self.key_id):
            raise KeyConfigError(
                f"key id {self.key_id!r} is not usable: use 1 to 64 letters, digits, '.', '_' or '-'"
            )
        if len(self.secret) not in KEY_LENGTHS:
            raise KeyConfigError(
                f"key {self.key_id!r} is {len(self.secret)} bytes; AES-GCM needs 16, 24 or 32 "
                "(make one with: openssl rand -base64 32)"
            )

    @classmethod
    def generate(cls) -> EncryptionKey:
        return cls(key_id=f"k{secrets.token_hex(4)}", secret=AESGCM.generate_key(bit_length=256))

    def encoded(self) -> str:
        """The `kid:base64key` form CLAIMFLOW_KEYS and the key file use."""
        return f"{self.key_id}:{base64.b64encode(self.secret).decode('ascii')}"


@dataclass(frozen=True)
class KeyRing:
    """The keys this process holds, current (encrypting) key first."""

    keys: tuple[EncryptionKey, ...]

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyConfigError(
                "no encryption key given: set CLAIMFLOW_KEYS to kid:base64key[,kid:base64key]"
            )
        ids = [key.key_id for key in self.keys]
        duplicates = sorted({key_id for key_id in ids if ids.count(key_id) > 1})
        if duplicates:
            raise KeyConfigError(
                f"key ids must be unique; repeated: {', '.join(duplicates)}; give each key its own id"
            )

    @property
    def current(self) -> EncryptionKey:
        return self.keys[0]

    def find(self, key_id: str) -> EncryptionKey:
        for key in self.keys:
            if key.key_id == key_id:
                return key
        raise UnknownKeyError(
            f"payload was encrypted with key id {key_id!r}, which is not among the keys given "
            f"({', '.join(key.key_id for key in self.keys)}): add that key to CLAIMFLOW_KEYS "
            "after the current one"
        )

    def encoded(self) -> str:
        return ",".join(key.encoded() for key in self.keys)


def parse_keys(text: str) -> KeyRing:
    """Read `kid1:base64key,kid2:base64key` (commas or newlines between keys), current key first."""
    keys: list[EncryptionKey] = []
    for position, entry in enumerate(re.split(r"[,\n]", text), start=1):
        entry = entry.strip()
        if not entry:
            continue
        key_id, colon, encoded = entry.partition(":")
        if not colon:
            raise KeyConfigError(f"key {position} has no key id: write it as kid:base64key")
        try:
            secret = base64.b64decode(encoded.strip(), validate=True)
        except binascii.Error:
            raise KeyConfigError(
                f"key {key_id.strip()!r} (entry {position}) is not valid base64: write kid:base64key "
                "(make one with: openssl rand -base64 32)"
            ) from None
        keys.append(EncryptionKey(key_id=key_id.strip(), secret=secret))
    return KeyRing(tuple(keys))


def ensure_key_file(path: Path) -> KeyRing:
    """Read the key file, generating it with one fresh key if it does not exist yet (embedded stack).

    The file is created readable by its owner only, and never overwritten: losing it would make
    every open workflow's history unreadable.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        ring = KeyRing((EncryptionKey.generate(),))
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first: use theirs
        else:
            with os.fdopen(descriptor, "w") as file:
                file.write(ring.encoded() + "\n")
            return ring
    try:
        return parse_keys(path.read_text())
    except KeyConfigError as exc:
        raise KeyConfigError(f"{path}: {exc}") from None


def load_keys(settings: Settings) -> KeyRing:
    """CLAIMFLOW_KEYS when set, else the embedded stack's key file under CLAIMFLOW_HOME."""
    if settings.keys is not None:
        try:
            return parse_keys(settings.keys.get_secret_value())
        except KeyConfigError as exc:
            raise KeyConfigError(f"CLAIMFLOW_KEYS: {exc}") from None
    return ensure_key_file(settings.key_file)


class EncryptionCodec(PayloadCodec):
    """Seals each payload with AES-GCM under the current key; opens it with the key it names."""

    def __init__(self, keys: KeyRing) -> None:
        self._keys = keys

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(payload) for payload in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        key = self._keys.current
        nonce = os.urandom(NONCE_BYTES)
        key_id = key.key_id.encode("ascii")
        # The key id is authenticated too, so a payload cannot be relabelled to another key.
        sealed = AESGCM(key.secret).encrypt(nonce, payload.SerializeToString(), key_id)
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID_METADATA: key_id},
            data=nonce + sealed,
        )

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # not ours: written before encryption was on, or by another codec
        key_id_bytes = payload.metadata.get(KEY_ID_METADATA)
        if key_id_bytes is None:
            raise PayloadTamperedError(f"encrypted payload has no {KEY_ID_METADATA!r} metadata")
        key = self._keys.find(key_id_bytes.decode("ascii", errors="replace"))
        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        try:
            clear = AESGCM(key.secret).decrypt(nonce, sealed, key_id_bytes)
        except InvalidTag:
            raise PayloadTamperedError(
                f"payload sealed with key {key.key_id!r} does not authenticate: it was altered or "
                "truncated, or a different key was configured under that id"
            ) from None
        return Payload.FromString(clear)


@dataclass(frozen=True)
class Sealed:
    """Data sealed at rest (outside Temporal) with AES-GCM: the key that sealed it, nonce + ciphertext."""

    key_id: str
    data: bytes = field(repr=False)


def seal(keys: KeyRing, clear: bytes, context: bytes) -> Sealed:
    """Seal `clear` under the current key. `context` (what the data is and where it is kept) is
    authenticated with the key id, so sealed data copied to another row or relabelled does not open."""
    key = keys.current
    nonce = os.urandom(NONCE_BYTES)
    aad = key.key_id.encode("ascii") + b"\x00" + context
    return Sealed(key.key_id, nonce + AESGCM(key.secret).encrypt(nonce, clear, aad))


def unseal(keys: KeyRing, sealed: Sealed, context: bytes) -> bytes:
    """Open what `seal` sealed with the same context; UnknownKeyError or PayloadTamperedError if not."""
    key = keys.find(sealed.key_id)
    aad = key.key_id.encode("ascii") + b"\x00" + context
    try:
        return AESGCM(key.secret).decrypt(sealed.data[:NONCE_BYTES], sealed.data[NONCE_BYTES:], aad)
    except InvalidTag:
        raise PayloadTamperedError(
            f"data sealed with key {key.key_id!r} does not authenticate: it was altered, moved to "
            "another record, or a different key was configured under that id"
        ) from None
