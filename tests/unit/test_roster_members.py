"""services/roster/members.py: a member sheet's row read into who a member is (R1-R4), and
phones folded to one ASCII form."""
import pytest

from services.roster.members import RowError, mask_phone, normalise_phone, parse_row, \
    phone_digits


def row(**kw):
    return dict({"name": " 张三 ", "phone": "13800000001", "unit": "u1"}, **kw)


def refusal(**kw) -> str:
    with pytest.raises(RowError) as err:
        parse_row(row(**kw))
    return err.value.column


def test_a_plain_row_is_a_required_party_member():
    data = parse_row(row(department=""))
    assert data == {"name": "张三", "department": None, "phone": "13800000001", "unit": "u1",
                    "branch": None, "category": "party_member", "participation": "required",
                    "unit_admin": False, "admin_column": "remarks", "higher_role": None}


@pytest.mark.parametrize("category, expected", [
    ("党员", ("party_member", "required")),  # R1
    ("厅级干部", ("department_level", "voluntary")),  # R2: they volunteer
    ("非党员", ("non_party", "voluntary")),
    ("NON_PARTY", ("non_party", "voluntary")),
])
def test_category_decides_the_default_participation(category, expected):
    data = parse_row(row(category=category))
    assert (data["category"], data["participation"]) == expected


def test_participation_given_wins_and_is_checked():
    assert parse_row(row(category="非党员", participation="必参"))["participation"] == \
        "required"
    assert refusal(participation="maybe") == "participation"


def test_the_unit_administrator_is_marked_in_remarks_or_role():
    assert parse_row(row(remarks="管理员"))["unit_admin"]
    marked = parse_row(row(role="ＡＤＭＩＮ"))  # NFKC: full-width letters are the word
    assert (marked["unit_admin"], marked["admin_column"]) == (True, "role")
    assert parse_row(row(role="organisation_admin"))["higher_role"] == "organisation_admin"
    assert parse_row(row(role="成员"))["unit_admin"] is False


@pytest.mark.parametrize("bad, column", [
    ({"name": "  "}, "name"), ({"phone": "12345"}, "phone"), ({"unit": ""}, "unit"),
    ({"category": "外星人"}, "category"), ({"role": "king"}, "role"),
])
def test_errors_name_their_column(bad, column):
    assert refusal(**bad) == column


def test_phones_fold_to_ascii_digits():
    assert normalise_phone("138-0000 0001") == "13800000001"
    assert normalise_phone("１３８００００００01") == "13800000001"  # full-width
    assert normalise_phone(13800000001) == "13800000001"
    for other in ("1٣800000001", "1३800000001", "23800000001", "1380000000", None):
        with pytest.raises(RowError):
            normalise_phone(other)


def test_a_search_is_a_phone_only_when_it_is_digits():
    assert phone_digits("８０００") == "8000"
    assert phone_digits("张") is None
    assert phone_digits("1٣8") is None


def test_a_masked_phone_shows_its_ends():
    assert mask_phone("13800000001") == "138****0001"
