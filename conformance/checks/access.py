"""C3 — free or fairly costed access: a heuristic that flags names suggesting licence-gated operations.

The charter asks that integration be "straightforward (and free)". A document cannot show a price, but
it can show a gate: an OAuth scope, security scheme, header or tag named for a partner programme or a
licence. Such names are flagged for a human to review (the requirement is MAY: warnings, not failures).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..outcome import Finding
from ..registry import CheckContext, Inapplicable, check
from ..spec.model import Loc, Operation, child
from ._common import finding

DEFAULT_GATING_MARKERS = ["licen", "partner", "premium", "enterprise", "paid", "commercial"]


@check(
    id="openapi.no-licence-gating",
    mode="static",
    title="No operation appears gated by a vendor licence or partner scope",
    references=('techUK InterOp-Pol introduction: integration should be "straightforward (and free)"',),
    params={"markers": DEFAULT_GATING_MARKERS},
)
def no_licence_gating(ctx: CheckContext, *, markers: list[str]) -> Iterator[Finding]:
    """Flags, for human review, every OAuth scope name, security scheme name (and API-key header name),
    header parameter name and operation tag whose lower-cased text contains one of ``markers`` (substrings:
    ``licen`` matches licence and license). Each distinct name is reported once, at its first place.
    Inapplicable when the document has neither operations nor security schemes."""
    index = ctx.spec.index
    operations: tuple[Operation, ...] = index.operations
    if not operations and not index.security_schemes:
        raise Inapplicable("The document has no operations and no security schemes.")
    lowered = [m.lower() for m in markers if m]

    def marker(name: str) -> str | None:
        text = name.lower()
        return next((m for m in lowered if m in text), None)

    seen: set[tuple[str, str]] = set()

    def flag(
        kind: str, name: str, loc: Loc, op: Operation | None, users: int | None = None
    ) -> Iterator[Finding]:
        hit = marker(name)
        if hit is None or (kind, name.lower()) in seen:
            return
        seen.add((kind, name.lower()))
        used = f" (used by {users} operation{'s' if users != 1 else ''})" if users else ""
        yield finding(
            "Possible licence gating",
            f"The {kind} '{name}'{used} contains '{hit}', which may mean access needs a separate licence or "
            "partner agreement.",
            loc=loc,
            op=op,
            expected="access control that does not depend on a commercial licence or partner tier",
            found=f"{kind} '{name}'",
            fix="If this gates integration behind a paid licence or partner programme, remove the gate or "
            "publish the charges (declaration D-02); if it does not, rename it or explain it in its "
            "description.",
        )

    for scheme in index.security_schemes.values():
        yield from flag("security scheme", scheme.name, scheme.loc, None)
        if scheme.api_key_name:
            kind = f"API key {scheme.api_key_in} name" if scheme.api_key_in else "API key name"
            yield from flag(kind, scheme.api_key_name, child(scheme.loc, "name"), None)
        for flow in scheme.flows:
            for scope in map(str, flow.scopes):
                yield from flag("OAuth scope", scope, child(flow.loc, "scopes", scope), None)
    header_users: dict[str, int] = {}
    tag_users: dict[str, int] = {}
    for op in operations:
        for param in op.parameters:
            if param.location == "header":
                header_users[param.name.lower()] = header_users.get(param.name.lower(), 0) + 1
        for tag in op.tags:
            tag_users[tag] = tag_users.get(tag, 0) + 1
    for op in operations:
        for param in op.parameters:
            if param.location == "header":
                yield from flag(
                    "header parameter", param.name, param.loc, op, header_users[param.name.lower()]
                )
        for tag in op.tags:
            yield from flag("tag", tag, child(op.loc, "tags"), op, tag_users[tag])
