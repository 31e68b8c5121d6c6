"""In Kubernetes the API's egress is closed by default; a launch must read the LMS's keyset, so
the overlays open exactly that path: HTTPS to addresses the operator sets (docs/deploy.md)."""

from __future__ import annotations

import ipaddress

import pytest

from tests.deploy.conftest import OVERLAYS
from tests.deploy.test_k8s import _selects, one


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_api_may_reach_the_lms_keysets_on_https_and_nothing_more(overlay):
    policy = one(overlay, "NetworkPolicy", "qagen-api-egress-lti-keysets")["spec"]

    assert _selects(policy["podSelector"], {"app.kubernetes.io/name": "qagen", "app.kubernetes.io/component": "api"})
    assert not _selects(policy["podSelector"], {"app.kubernetes.io/name": "qagen",
                                                "app.kubernetes.io/component": "worker"})
    [rule] = policy["egress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 443}]
    for peer in rule["to"]:
        network = ipaddress.ip_network(peer["ipBlock"]["cidr"])
        assert network.num_addresses == 1  # one host each, to be set by the operator
