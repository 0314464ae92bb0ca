"""The Temporal client every claimflow process uses: pydantic payloads, encrypted, failures included."""

from __future__ import annotations

import dataclasses

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.runtime import Runtime

from claimflow.integrations.crypto import EncryptionCodec, KeyRing, load_keys
from claimflow.integrations.settings import Settings


def data_converter(keys: KeyRing) -> DataConverter:
    """Pydantic v2 payloads sealed by the AES-GCM codec. Failure messages and stack traces are moved
    into an encoded attribute, so they are encrypted too instead of stored in clear text."""
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=EncryptionCodec(keys),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


async def connect(settings: Settings, keys: KeyRing | None = None, runtime: Runtime | None = None) -> Client:
    """Connect to TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE with the encrypting data converter, secured as
    the Temporal SDK's environment configuration says (`settings.temporal_client`: TLS, mTLS client
    certificate, API key, gRPC headers, from a profile of TEMPORAL_CONFIG_FILE and TEMPORAL_* variables).

    `keys` defaults to CLAIMFLOW_KEYS, or the embedded stack's key file (generated on first start);
    `runtime` to the SDK's default (the worker passes one that exports metrics).
    """
    secured = settings.temporal_client
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        api_key=secured.api_key.get_secret_value() if secured.api_key else None,
        tls=secured.tls_config(),
        rpc_metadata=secured.rpc_metadata,
        data_converter=data_converter(keys if keys is not None else load_keys(settings)),
        runtime=runtime,
    )
