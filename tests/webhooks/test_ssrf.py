"""Callback URLs: only public http(s) addresses unless QAGEN_WEBHOOK_ALLOW says otherwise.

Validation only: these tests never connect anywhere. Names are resolved by the system's resolver;
a test gives a name its addresses with an /etc/hosts entry (the `hosts` fixture).
"""

from __future__ import annotations

import pytest

from qagen.errors import InputError
from qagen.webhooks import CallbackRefused, check_callback_url, parse_allow, validate_callback_url


@pytest.mark.parametrize("url, message", [
    ("http://127.0.0.1/", "127.0.0.1 is a loopback address"),
    ("http://localhost/", "'localhost' resolves to a loopback address"),
    ("http://10.1.2.3/", r"10.1.2.3 is a private \(internal\) address"),
    ("http://192.168.1.10:8080/hook", "private"),
    ("http://169.254.169.254/latest/meta-data", "169.254.169.254 is the cloud metadata address"),
    ("http://[::1]/", "::1 is a loopback address"),
    ("http://[::ffff:127.0.0.1]/", "loopback"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://[fe80::1]/", "link-local"),
    ("http://224.0.0.1/", "multicast"),
    ("http://100.64.0.1/", "private"),
    ("ftp://files.example.com/hook", "must start with https:// or http://"),
    ("file:///etc/passwd", "must start with https:// or http://"),
    ("lms.example.edu/hook", "must start with https:// or http://"),
    ("http://user:pw@hooks.example.com/", "must not contain a user name or password"),
    ("http:///path-only", "has no host name"),
    ("http://hooks.example.com:99999/", "invalid port"),
    ("http://hooks.example.com/a b", "spaces or control characters"),
    ("https://hooks.example.com/" + "a" * 2048, "the limit is 2048"),
    ("", "empty"),
])
def test_refused_urls_say_why(url, message):  # localhost: /etc/hosts's own entry
    with pytest.raises(CallbackRefused, match=message) as refused:
        validate_callback_url(url, "")

    assert isinstance(refused.value, InputError)  # the API answers 400 with the message


def test_the_refusal_says_how_to_allow_it():
    with pytest.raises(CallbackRefused, match="QAGEN_WEBHOOK_ALLOW=loopback"):
        validate_callback_url("http://127.0.0.1:9000/hook", "")
    with pytest.raises(CallbackRefused, match="only an explicit CIDR"):
        validate_callback_url("http://169.254.169.254/", "link-local")


def test_a_name_that_resolves_to_loopback_is_refused_without_echoing_internal_addresses(hosts):
    name = hosts.unique("attacker")
    hosts[name] = ["93.184.216.34", "127.0.0.1"]  # ANY bad address refuses

    with pytest.raises(CallbackRefused, match="resolves to a loopback address") as refused:
        validate_callback_url(f"https://{name}/x", "")
    assert "127.0.0.1" not in str(refused.value)


def test_a_name_resolving_to_a_private_v6_or_mapped_address_is_refused(hosts):
    v6, mapped = hosts.unique("v6"), hosts.unique("mapped")
    hosts[v6] = ["fd12:3456::1"]
    hosts[mapped] = ["::ffff:10.0.0.1"]

    for url in (f"http://{v6}/", f"http://{mapped}/"):
        with pytest.raises(CallbackRefused, match="private"):
            validate_callback_url(url, "")


def test_unresolvable_hosts_are_refused(hosts):
    # .invalid never resolves (RFC 6761); without a reachable DNS server the lookup times out instead.
    with pytest.raises(CallbackRefused, match="could not be resolved|did not resolve within"):
        validate_callback_url(f"https://{hosts.unique('no-such-host').replace('.qagen.test', '.invalid')}/hook", "")


def test_public_hosts_pass_and_the_url_comes_back_stripped(hosts):
    name = hosts.unique("lms")
    hosts[name] = ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]

    url = validate_callback_url(f"  https://{name}/qagen/hook?course=7  ", "")

    assert url == f"https://{name}/qagen/hook?course=7"
    target = check_callback_url(url, "")
    assert {str(a) for a in target.addresses} == {"93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"}
    assert target.netloc == name and target.path_and_query == "/qagen/hook?course=7"


def test_loopback_is_allowed_by_the_word(hosts):
    name = hosts.unique("local")
    hosts[name] = ["127.0.0.1", "::1"]

    assert validate_callback_url(f"http://{name}/hook", "loopback")
    assert validate_callback_url("http://127.0.0.1:8080/hook", "loopback")
    assert validate_callback_url("http://[::1]/hook", "loopback")
    assert validate_callback_url("http://localhost/hook", "loopback")
    with pytest.raises(CallbackRefused, match="private"):
        validate_callback_url("http://10.1.2.3/", "loopback")
    with pytest.raises(CallbackRefused, match="unspecified"):
        validate_callback_url("http://0.0.0.0/", "loopback")  # 0.0.0.0 reaches local services too


def test_a_cidr_allows_exactly_its_addresses():
    assert validate_callback_url("http://10.1.2.3/hook", "10.0.0.0/8,loopback")
    assert validate_callback_url("http://127.0.0.1/hook", "10.0.0.0/8,loopback")
    with pytest.raises(CallbackRefused):
        validate_callback_url("http://192.168.0.1/hook", "10.0.0.0/8")
    assert validate_callback_url("http://192.168.0.1/hook", "private")
    # The metadata address needs an explicit CIDR; "link-local" alone does not open it.
    with pytest.raises(CallbackRefused):
        validate_callback_url("http://169.254.169.254/", "link-local,private")
    assert validate_callback_url("http://169.254.1.1/", "link-local")
    assert validate_callback_url("http://169.254.169.254/", "169.254.169.254/32")


def test_a_bad_allow_setting_is_a_configuration_error():
    with pytest.raises(ValueError, match="QAGEN_WEBHOOK_ALLOW"):
        parse_allow("loopback,intranet")
