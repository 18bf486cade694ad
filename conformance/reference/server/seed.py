"""Synthetic sample data for each force: clearly labelled, never real people, places or incidents.

Names cover what the charter's checks care about: Welsh diacritics (Siân, Ŵyn), other Latin
diacritics, and non-Latin scripts (Chinese, Arabic). Every free-text field says the record is
synthetic. Ids are derived from the force and a counter (UUIDv5), so they are stable across starts;
timestamps are fixed instants in 2025, before any run.

``seed_bulk`` adds many more records for benchmarks (``ReferenceServer(seed_records=N)``): N valid, linked,
clearly synthetic records per POLE type, built in (createdAt, id) order and put straight into the store, so
100,000 of them take a couple of seconds rather than 100,000 requests.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from .auth import Client
from .clock import format_datetime
from .store import Store

__all__ = ["bulk_records", "seed_bulk", "seed_store"]

_NAMESPACE = uuid.UUID("6f1c0b1e-3d2a-4f55-9b7e-5e0c1a2b3c4d")
_SYNTHETIC = "SYNTHETIC TEST RECORD for conformance testing; not a real "

# (fullName, givenNames, familyName, aliases, dateOfBirth, gender, nationality) per force.
_PEOPLE: dict[str, list[tuple[str, list[str], str | None, list[str], str, str, str]]] = {
    "force-a": [
        (
            "Siân Ŵyn Jones",
            ["Siân", "Ŵyn"],
            "Jones",
            ["Sian Jones", "S. W. Jones"],
            "1984-03-17",
            "GNDR_0001",
            "GB",
        ),
        ("Gruffudd ap Rhys", ["Gruffudd"], None, ["Griff Rees"], "1979-11-02", "GNDR_0003", "GB"),
        ("李秀英", ["秀英"], "李", ["Li Xiuying"], "1991-06-30", "GNDR_0001", "CN"),
        ("Aleksandra Wiśniewska", ["Aleksandra"], "Wiśniewska", [], "1988-01-09", "GNDR_0008", "PL"),
        ("فاطمة الزهراء", ["فاطمة"], None, ["Fatima Al-Zahra"], "1995-12-24", "GNDR_0007", "GB"),
    ],
    "force-b": [
        ("Ŵyn Llewelyn", ["Ŵyn"], "Llewelyn", [], "1970-05-05", "GNDR_0003", "GB"),
        ("Eluned Prys", ["Eluned"], "Prys", ["Luned Price"], "2001-02-14", "GNDR_0001", "GB"),
        ("王伟", ["伟"], "王", ["Wang Wei"], "1986-08-19", "GNDR_0003", "CN"),
        ("Zoë Brontë-Smith", ["Zoë"], "Brontë-Smith", [], "1999-10-31", "GNDR_0004", "GB"),
    ],
}


def _id(force_key: str, kind: str, n: int) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{force_key}/{kind}/{n}"))


def _stamp(minutes: int) -> str:
    hours, minute = divmod(minutes, 60)
    return f"2025-03-14T{9 + hours:02d}:{minute:02d}:00Z"


def _review(n: int) -> dict[str, Any]:
    review: dict[str, Any] = {"retentionCategory": "group3", "nextReviewDate": "2031-03-14"}
    if n % 2:
        review |= {
            "retentionCategory": "group2",
            "lastReviewDate": "2025-03-14",
            "reviewRationale": "Synthetic review: linked to an open (synthetic) investigation; retain.",
        }
    return review


def _meta(ident: str, minutes: int, actor: str) -> dict[str, Any]:
    stamp = _stamp(minutes)
    return {"id": ident, "createdAt": stamp, "updatedAt": stamp, "createdBy": actor, "updatedBy": actor}


def _records(force_key: str, actor: str) -> dict[str, list[dict[str, Any]]]:
    persons = []
    for n, (full, given, family, aliases, dob, gender, nationality) in enumerate(_PEOPLE[force_key]):
        person: dict[str, Any] = _meta(_id(force_key, "person", n), n, actor)
        person |= {"fullName": full, "givenNames": given}
        if family:
            person["familyName"] = family
        if aliases:
            person["aliases"] = aliases
        person |= {
            "dateOfBirth": dob,
            "gender": gender,
            "nationality": nationality,
            "physicalDescription": _SYNTHETIC + "person.",
            "review": _review(n),
        }
        persons.append(person)
    objects = [
        _meta(_id(force_key, "object", 0), 10, actor)
        | {
            "objectType": "vehicle",
            "description": "Silver hatchback, dent in the nearside rear door. " + _SYNTHETIC + "vehicle.",
            "serialNumber": "SYNTHVIN0000000001",
            "vehicle": {
                "registrationMark": "XX25 SYN",
                "make": "Volkswagen",
                "model": "Golf",
                "colour": "Silver",
            },
            "review": _review(0),
        },
        _meta(_id(force_key, "object", 1), 11, actor)
        | {
            "objectType": "device",
            "description": 'Black smartphone, cracked screen, "Cymru" sticker on the case. '
            + _SYNTHETIC
            + "device.",
            "serialNumber": "000000000000001",
            "review": _review(1),
        },
        _meta(_id(force_key, "object", 2), 12, actor)
        | {
            "objectType": "property",
            "description": "Laptop, grey, 13 inch. " + _SYNTHETIC + "item.",
            "review": _review(0),
        },
    ]
    locations = [
        _meta(_id(force_key, "location", 0), 20, actor)
        | {
            "name": "Maes parcio Stryd y Castell (synthetic)",
            "geometry": {"type": "Point", "coordinates": [-3.1791, 51.4816]},
            "crs": "EPSG:4326",
            "easting": 318200,
            "northing": 176400,
            "address": {"lines": ["Stryd y Castell"], "town": "Caerdydd", "postcode": "CF10 1XX"},
            "review": _review(0),
        },
        _meta(_id(force_key, "location", 1), 21, actor)
        | {
            "name": "Rear car park, Example Retail Park (synthetic)",
            "geometry": {"type": "Point", "coordinates": [-1.8937, 52.4776]},
            "crs": "EPSG:4326",
            "review": _review(1),
        },
    ]
    people = [p["id"] for p in persons]
    events = [
        _meta(_id(force_key, "event", 0), 30, actor)
        | {
            "eventType": "crime",
            "occurredAt": "2025-03-13T22:40:00Z",
            "occurredUntil": "2025-03-13T23:15:00Z",
            "summary": "Vehicle broken into; a laptop was taken from the boot. " + _SYNTHETIC + "event.",
            "forceReference": f"SYN/{force_key[-1].upper()}/0001/25",
            "locationId": locations[1]["id"],
            "personLinks": [
                {"personId": people[0], "role": "victim"},
                {"personId": people[1], "role": "suspect"},
            ],
            "objectIds": [objects[0]["id"], objects[2]["id"]],
            "review": _review(1),
        },
        _meta(_id(force_key, "event", 1), 31, actor)
        | {
            "eventType": "publicOrder",
            "occurredAt": "2025-03-14T18:00:00Z",
            "summary": "Planned event needing extra officers (mutual aid). " + _SYNTHETIC + "event.",
            "locationId": locations[0]["id"],
            "personLinks": [{"personId": people[2], "role": "reportingPerson"}],
            "review": _review(0),
        },
    ]
    return {"persons": persons, "objects": objects, "locations": locations, "events": events}


def seed_store(store: Store, clients: dict[str, Client]) -> None:
    """Fill ``store`` with each force's synthetic records and mutual-aid requests between the forces."""
    for force_key, client in clients.items():
        actor = f"{client.client_id}/seed"
        for entity, records in _records(force_key, actor).items():
            for record in records:
                store.seed(client.tenant, entity, record)
    a, b = clients["force-a"], clients["force-b"]
    requests = [
        (a, b, "force-a", "requested", 40, [{"resourceType": "publicOrderOfficer", "quantity": 24}]),
        (a, b, "force-a", "fulfilled", 41, [{"resourceType": "policeDog", "quantity": 2}]),
        (b, a, "force-b", "accepted", 42, [{"resourceType": "drone", "quantity": 1}]),
    ]
    for n, (requester, provider, force_key, status, minutes, resources) in enumerate(requests):
        record = _meta(_id(force_key, "mutual-aid", n), minutes, f"{requester.client_id}/seed")
        record |= {
            "providingForce": provider.tenant,
            "eventId": _id(force_key, "event", 1),
            "requiredFrom": "2025-06-21T06:00:00Z",
            "requiredUntil": "2025-06-21T22:00:00Z",
            "resources": resources,
            "notes": "Synthetic mutual-aid request for conformance testing.",
            "requestingForce": requester.tenant,
            "status": status,
        }
        store.seed_request(record)


# -- bulk records (benchmarks) ------------------------------------------------------------------------------
_BULK_START = datetime.datetime(2025, 3, 16, tzinfo=datetime.timezone.utc)  # after the sample records
_BULK_NAMES = (
    ("Siân Ŵyn", "Jones"),
    ("Gruffudd", "Prys"),
    ("秀英", "李"),
    ("Aleksandra", "Wiśniewska"),
    ("فاطمة", "الزهراء"),
    ("Zoë", "Brontë-Smith"),
)
_GENDERS = ("GNDR_0001", "GNDR_0003", "GNDR_0004", "GNDR_0005")
_OBJECT_TYPES = ("vehicle", "device", "property", "document", "other")
_EVENT_TYPES = ("crime", "incident", "antiSocialBehaviour", "publicOrder", "other")


def bulk_records(force_key: str, actor: str, per_type: int) -> dict[str, list[dict[str, Any]]]:
    """``per_type`` synthetic records of each POLE type for one force, valid against the document: persons
    with Welsh, Polish, Chinese and Arabic names; objects (some with commas and quotes in the description,
    for CSV quoting); locations (some with an address); events linking a location, two persons and an
    object. Ids are UUIDv5 of the force and a counter; ``createdAt`` rises by a millisecond per record."""
    step = datetime.timedelta(milliseconds=1)
    clock = iter(range(4 * per_type))

    def meta(kind: str, n: int) -> dict[str, Any]:
        stamp = format_datetime(_BULK_START + next(clock) * step)
        ident = str(uuid.uuid5(_NAMESPACE, f"{force_key}/bulk-{kind}/{n}"))
        return {"id": ident, "createdAt": stamp, "updatedAt": stamp, "createdBy": actor, "updatedBy": actor}

    persons: list[dict[str, Any]] = []
    objects: list[dict[str, Any]] = []
    locations: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for n in range(per_type):
        given, family = _BULK_NAMES[n % len(_BULK_NAMES)]
        person = meta("person", n) | {
            "fullName": f"{given} {family} {n}",
            "givenNames": [given],
            "familyName": family,
            "dateOfBirth": f"{1950 + n % 50}-{1 + n % 12:02d}-{1 + n % 28:02d}",
            "gender": _GENDERS[n % len(_GENDERS)],
            "nationality": "GB",
            "physicalDescription": _SYNTHETIC + "person.",
            "review": _review(n),
        }
        if n % 3 == 0:
            person["aliases"] = [f"Alias {n}"]
        persons.append(person)
    for n in range(per_type):
        kind = _OBJECT_TYPES[n % len(_OBJECT_TYPES)]
        item = meta("object", n) | {
            "objectType": kind,
            "description": f'Item {n}, "tagged" for conformance testing. ' + _SYNTHETIC + "item.",
            "serialNumber": f"SYNTH{n:012d}",
            "review": _review(n),
        }
        if kind == "vehicle":
            item["vehicle"] = {
                "registrationMark": f"XX{n % 100:02d} SYN",
                "make": "Volkswagen",
                "colour": "Grey",
            }
        objects.append(item)
    for n in range(per_type):
        place = meta("location", n) | {
            "name": f"Synthetic place {n}",
            "geometry": {"type": "Point", "coordinates": [-3.0 + (n % 1000) / 1000, 51.0 + (n % 500) / 1000]},
            "crs": "EPSG:4326",
            "review": _review(n),
        }
        if n % 2 == 0:
            place["address"] = {"lines": [f"{n} Stryd y Castell"], "town": "Caerdydd", "postcode": "CF10 1XX"}
        locations.append(place)
    for n in range(per_type):
        event = meta("event", n) | {
            "eventType": _EVENT_TYPES[n % len(_EVENT_TYPES)],
            "occurredAt": "2025-03-13T22:40:00Z",
            "summary": f"Synthetic event {n}. " + _SYNTHETIC + "event.",
            "locationId": locations[n]["id"],
            "personLinks": [
                {"personId": persons[n]["id"], "role": "victim"},
                {"personId": persons[(n + 1) % per_type]["id"], "role": "witness"},
            ],
            "objectIds": [objects[n]["id"]],
            "review": _review(n),
        }
        events.append(event)
    return {"persons": persons, "objects": objects, "locations": locations, "events": events}


def seed_bulk(store: Store, force_key: str, client: Client, per_type: int) -> None:
    """Put ``per_type`` bulk records of each POLE type (:func:`bulk_records`) into ``client``'s force."""
    if per_type <= 0:
        return
    for entity, records in bulk_records(force_key, f"{client.client_id}/bulk-seed", per_type).items():
        for record in records:
            store.seed(client.tenant, entity, record)
