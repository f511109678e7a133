import uuid

from chalicelib.domain.ids import id_from_url, new_id, parse_id


def test_new_ids_are_uuid7_hex_and_sort_in_creation_order():
    ids = [new_id() for _ in range(2000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    parsed = uuid.UUID(ids[0])
    assert parsed.version == 7
    assert len(ids[0]) == 32 and ids[0] == ids[0].lower()


def test_parse_accepts_hex_and_dashed_in_any_case():
    value = new_id()
    dashed = str(uuid.UUID(value))
    assert parse_id(value) == value
    assert parse_id(dashed) == value
    assert parse_id(dashed.upper()) == value


def test_parse_refuses_garbage():
    for bad in ("", "x", "123", "g" * 32, "'; drop table", "a" * 1000):
        assert parse_id(bad) is None


def test_hyperlinks_resolve_by_their_last_uuid():
    value = new_id()
    assert id_from_url(f"https://cirrus.example/api/customers/{value}/") == value
    assert id_from_url(f"http://x/api/customers/{uuid.UUID(value)}/?a=b") == value
    assert id_from_url(value) == value
    assert id_from_url("https://cirrus.example/api/customers/") is None
