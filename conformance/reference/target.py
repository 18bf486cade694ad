"""The harness's view of a running reference supplier: the TargetConfig the demo and the tests use."""

from __future__ import annotations

from typing import Any

from ..live import AuthConfig, AuthKind, Secret, TargetConfig

__all__ = ["target_config_for"]


def target_config_for(
    server: Any,
    *,
    allow_writes: bool = True,
    rate_per_second: float = 0.0,
    other_tenant: bool = True,
    total_timeout: float = 10.0,
) -> TargetConfig:
    """A TargetConfig for ``server`` (a running ``ReferenceServer``): force A's client, force B's as the
    other tenant, the server's throw-away CA, and its plain-HTTP listener for the plain-HTTP probe.

    The reference supplier is a test tenant by construction, so writes are allowed unless told otherwise.
    """

    def client(name: str) -> AuthConfig:
        entry = server.clients[name]
        return AuthConfig(
            kind=AuthKind.CLIENT_CREDENTIALS,
            token_url=server.token_url,
            client_id=entry.client_id,
            client_secret=Secret(entry.client_secret, source=f"reference:{name}"),
            scopes=tuple(entry.scopes),
        )

    return TargetConfig(
        base_url=server.base_url,
        spec_url=server.spec_url,
        auth=client("force-a"),
        other_tenant=client("force-b") if other_tenant else None,
        ca_bundle=server.ca_bundle,
        rate_per_second=rate_per_second,
        total_timeout=total_timeout,
        read_timeout=min(total_timeout, 15.0),
        allow_writes=allow_writes,
        plain_http_url=server.plain_http_url + "/v1",
        sandbox=True,
    )
