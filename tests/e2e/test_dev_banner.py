"""`challenge dev`'s banner names each demo login for what the loaded demo makes of it: a
plain member, each unit's administrator, the system administrator (as the README says)."""
import re

from challenge import demo
from challenge.dev import demo_logins_banner
from kernel.errors import Forbidden


def roles_of(rpc, phone):
    [member] = rpc.roster.list_members(query=phone)["items"]
    try:
        authority = rpc.roster.authorize(member["member_id"])
    except Forbidden:  # no administrator's role
        return []
    return [(r["role"], r["org_unit_id"]) for r in authority["roles"]]


def test_the_banner_names_a_plain_member_and_each_administrator(embedded):
    banner = demo_logins_banner()
    logins = dict(re.findall(r"(member|unit admin of \S+|system admin) (1\d{10})", banner))
    units = {node["name"]: node["id"] for node in demo.TREE}
    with embedded["platform"].rpc() as rpc:
        assert roles_of(rpc, logins.pop("member")) == []
        assert roles_of(rpc, logins.pop("system admin")) == [("system_admin", "system")]
        admins = {who.removeprefix("unit admin of "): phone for who, phone in logins.items()}
        assert set(admins) == {"省教科文卫工会", "省产业工会"}  # every unit of the demo
        for unit, phone in admins.items():
            assert roles_of(rpc, phone) == [("unit_admin", units[unit])], unit
