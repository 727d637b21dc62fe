"""R1–R4: who a member is, read from a member sheet's row. Pure; errors name the column."""
from __future__ import annotations

import re
import unicodedata

from kernel.sheets import RowError  # the importers catch it from here

CATEGORIES = {"party_member": "party_member", "党员": "party_member",
              "department_level": "department_level", "厅级": "department_level",
              "厅级干部": "department_level",
              "non_party": "non_party", "非党员": "non_party", "非党干部": "non_party"}
PARTICIPATION = {"required": "required", "必参": "required",
                 "voluntary": "voluntary", "自愿": "voluntary"}
ADMIN_WORDS = {"管理员", "admin", "unit_admin", "administrator"}
ADMIN_REMARK = "管理员"
# the higher roles a sheet's role column may ask for (granted only by who may grant them)
HIGHER_ROLES = ("organisation_admin", "system_admin")
MEMBER_WORDS = {"", "member", "成员"}
ROLE_WORDS = {"组织管理员": "organisation_admin", "系统管理员": "system_admin"}

# contracts.md, "Member sheet": the seed's Chinese headers and their English twins
SHEET_COLUMNS = {
    "姓名": "name", "name": "name", "部门": "department", "department": "department",
    "手机号码": "phone", "手机号": "phone", "手机": "phone", "phone": "phone",
    "备注": "remarks", "remarks": "remarks", "单位": "unit", "unit": "unit",
    "支部": "branch", "branch": "branch", "类别": "category", "category": "category",
    "参加方式": "participation", "participation": "participation",
    "角色": "role", "role": "role",
}




def _phone_text(raw) -> str:
    # NFKC folds full-width digits (１３８…) and spaces into ASCII: a look-alike of a
    # registered phone must be that phone, not a second member (R4: sheets carry mistakes)
    text = unicodedata.normalize("NFKC", "" if raw is None else str(raw))
    return re.sub(r"[\s\-]", "", text)


def normalise_phone(raw) -> str:
    """11 ASCII digits starting with 1; spaces and dashes ignored, full-width forms folded.
    Every phone that enters roster (sheets, login, search) passes here."""
    phone = _phone_text(raw)
    # [0-9], not \d or str.isdigit(): those accept every script's digits (٣, ३, ፫...)
    if not re.fullmatch(r"1[0-9]{10}", phone):
        digits = len(re.sub(r"[^0-9]", "", phone))
        raise RowError("phone", f"'{raw}' is not a mobile number (11 digits starting with 1; "
                                f"this has {digits} digit(s))", "not_mobile", raw,
                       digits=digits)
    return phone


def phone_digits(query) -> str | None:
    """A search that is a phone or part of one, as the stored (ASCII) digits; else None."""
    text = _phone_text(query)
    return text if re.fullmatch(r"[0-9]+", text) else None


def mask_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}"


def _text(row, name):
    value = row.get(name)
    return "" if value is None else str(value).strip()


def is_admin_remark(remarks: str) -> bool:
    """R4: a remark naming the unit's administrator: one containing 管理员 (as the seed's
    `微学习专栏管理员`), or exactly one of the English words."""
    text = unicodedata.normalize("NFKC", remarks or "").strip()
    return ADMIN_REMARK in text or text.lower() in ADMIN_WORDS


def parse_row(row: dict) -> dict:
    name = _text(row, "name")
    if not name:
        raise RowError("name", "the name is missing", "member_name_missing")
    phone = normalise_phone(row.get("phone"))
    category_text = _text(row, "category") or "party_member"
    category = CATEGORIES.get(category_text.lower())
    if category is None:
        raise RowError("category", f"unknown category '{category_text}' "
                                   "(党员/厅级/非党员 or party_member/department_level/non_party)",
                       "unknown_category", category_text)
    participation_text = _text(row, "participation")
    if participation_text:
        participation = PARTICIPATION.get(participation_text.lower())
        if participation is None:
            raise RowError("participation", f"unknown participation '{participation_text}' "
                                            "(必参/自愿 or required/voluntary)",
                           "unknown_participation", participation_text)
    else:
        # R1/R2: party members take part; department-level and non-party cadres volunteer
        participation = "required" if category == "party_member" else "voluntary"
    role_text = _text(row, "role")
    role = unicodedata.normalize("NFKC", role_text).lower()
    role = ROLE_WORDS.get(role, role)
    if role not in ADMIN_WORDS and role not in HIGHER_ROLES and role not in MEMBER_WORDS:
        raise RowError("role", f"unknown role '{role_text}' (管理员/unit_admin, "
                               "organisation_admin/组织管理员 or system_admin/系统管理员)",
                       "unknown_role", role_text)
    remarks = _text(row, "remarks")
    unit = _text(row, "unit")
    if not unit:
        raise RowError("unit", "the unit is missing", "unit_missing")
    return {
        "name": name, "department": _text(row, "department") or None, "phone": phone,
        "unit": unit, "branch": _text(row, "branch") or None, "category": category,
        "participation": participation,
        # R4: the remarks column marks the unit administrator (the seed's own sheet says
        # 微学习专栏管理员: a remark containing 管理员 counts); a role column may too
        "unit_admin": role in ADMIN_WORDS or is_admin_remark(remarks),
        # the column a refusal of the unit administrator's mark names
        "admin_column": "role" if role in ADMIN_WORDS else "remarks",
        "higher_role": role if role in HIGHER_ROLES else None,
    }
