"""The contract names exactly the membership types the service accepts (one name for each)."""

from __future__ import annotations

import re

from ktrdr_core.strategy.membership import MF_TYPES
from ktrdr_gateway import contracts

SUGENO_ONLY = {"constant", "linear"}


def test_membership_types_in_the_contract_are_the_services_types():
    doc = contracts.comments(contracts.load_descriptor_set())
    named = set(re.findall(r'"([a-z]+)"', doc["ktrdr.fuzzy.v1.MembershipFunction.type"]))
    assert named - SUGENO_ONLY == set(MF_TYPES)
