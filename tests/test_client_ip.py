"""The client address behind reverse proxies (AUTH_TOKEN_CLIENT_IP).

Each topology test feeds exactly the headers such a deployment produces: what the client sent,
with what each proxy added, and the last proxy's address as REMOTE_ADDR. 6.6.6.6 is always an
address the client made up.
"""

import json
import logging

import pytest
from django.test import RequestFactory

from auth_token import services
from auth_token.models import Token

pytestmark = pytest.mark.django_db

NGINX = "10.0.0.1"  # the proxy in front of Django
LOAD_BALANCER = "10.1.2.3"
CDN = "2001:db8:cd::7"
CLIENT = "203.0.113.9"
SPOOFED = "6.6.6.6"
FORWARDED_FOR = {"header": "X-Forwarded-For", "trusted_proxies": [NGINX]}


def client_ip(**meta):
    return services.client_ip(RequestFactory().get("/", **meta))


def test_client_ip__direct_ignores_forwarded_for(settings):
    # No proxy: whatever the client writes in X-Forwarded-For is ignored.
    settings.AUTH_TOKEN_CLIENT_IP = None
    assert client_ip(REMOTE_ADDR=CLIENT, HTTP_X_FORWARDED_FOR=SPOOFED) == CLIENT


def test_client_ip__direct_ipv6(settings):
    settings.AUTH_TOKEN_CLIENT_IP = None
    assert client_ip(REMOTE_ADDR="2001:db8::1") == "2001:db8::1"


def test_client_ip__appending_proxy_ignores_what_the_client_prepended(settings):
    # nginx: proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; the client sent
    # "X-Forwarded-For: 6.6.6.6" and nginx appended the address it saw.
    settings.AUTH_TOKEN_CLIENT_IP = FORWARDED_FOR
    assert client_ip(REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR=f"{SPOOFED}, {CLIENT}") == CLIENT


def test_client_ip__appending_proxy_without_client_header(settings):
    settings.AUTH_TOKEN_CLIENT_IP = FORWARDED_FOR
    assert client_ip(REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR=CLIENT) == CLIENT


def test_client_ip__ipware_proxy_count_no_longer_believes_the_client(settings):
    # The old setting, django-ipware's {"proxy_count": 1}, recorded ip=6.6.6.6 here. It is now
    # refused (check E005) and the address is the proxy's, never the client's choice.
    settings.AUTH_TOKEN_CLIENT_IP = {"proxy_count": 1}
    assert client_ip(REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR=f"{SPOOFED}, {CLIENT}") == NGINX


def test_client_ip__chain_of_appending_proxies(settings):
    # CDN -> load balancer -> Django: each appends the address it saw.
    settings.AUTH_TOKEN_CLIENT_IP = {"header": "X-Forwarded-For", "trusted_proxies": [CDN, LOAD_BALANCER]}
    header = f"{SPOOFED}, {CLIENT}, {CDN}"
    assert client_ip(REMOTE_ADDR=LOAD_BALANCER, HTTP_X_FORWARDED_FOR=header) == CLIENT


def test_client_ip__chain_with_repeated_header_lines(settings):
    # Two X-Forwarded-For lines reach META joined by a comma, as WSGI and ASGI servers join them.
    settings.AUTH_TOKEN_CLIENT_IP = {"header": "X-Forwarded-For", "trusted_proxies": [CDN, LOAD_BALANCER]}
    header = f"{SPOOFED},{CLIENT}  ,\t{CDN}"
    assert client_ip(REMOTE_ADDR=LOAD_BALANCER, HTTP_X_FORWARDED_FOR=header) == CLIENT


def test_client_ip__chain_stops_at_the_first_untrusted_hop(settings):
    # A proxy we do not trust (the client's own) sits between the client and our CDN: its
    # address is the one we know, not what it claims about the client.
    settings.AUTH_TOKEN_CLIENT_IP = {"header": "X-Forwarded-For", "trusted_proxies": [CDN, LOAD_BALANCER]}
    header = f"{SPOOFED}, 198.51.100.1, {CDN}"
    assert client_ip(REMOTE_ADDR=LOAD_BALANCER, HTTP_X_FORWARDED_FOR=header) == "198.51.100.1"


def test_client_ip__x_real_ip_set_by_the_proxy(settings):
    # nginx: proxy_set_header X-Real-IP $remote_addr; it replaces whatever the client sent.
    settings.AUTH_TOKEN_CLIENT_IP = {"header": "X-Real-IP", "trusted_proxies": [NGINX]}
    request_meta = {"REMOTE_ADDR": NGINX, "HTTP_X_REAL_IP": CLIENT, "HTTP_X_FORWARDED_FOR": SPOOFED}
    assert client_ip(**request_meta) == CLIENT


@pytest.mark.parametrize("header", ["X-Forwarded-For", "X-Real-IP"])
def test_client_ip__header_ignored_unless_from_a_trusted_proxy(settings, header):
    # A client reaching Django directly (around the proxy) cannot choose its address.
    settings.AUTH_TOKEN_CLIENT_IP = {"header": header, "trusted_proxies": [NGINX]}
    assert client_ip(REMOTE_ADDR=CLIENT, HTTP_X_FORWARDED_FOR=SPOOFED, HTTP_X_REAL_IP=SPOOFED) == CLIENT


@pytest.mark.parametrize(
    ("remote", "header", "expected"),
    [
        pytest.param("2001:db8::10", "2001:db8:1::5", "2001:db8:1::5", id="ipv6-proxy-and-client"),
        pytest.param("10.1.200.3", f"{SPOOFED}, {CLIENT}", CLIENT, id="ipv4-cidr-proxy"),
        pytest.param("2001:db8::10", f"{SPOOFED}, {CLIENT}, 10.1.0.9", CLIENT, id="mixed-chain"),
        pytest.param("::ffff:10.1.0.2", f"{SPOOFED}, {CLIENT}", CLIENT, id="ipv4-mapped-proxy"),
        pytest.param("10.1.0.2", f"{SPOOFED}, ::ffff:{CLIENT}", CLIENT, id="ipv4-mapped-client"),
        pytest.param("10.1.0.2", "fe80::1%eth0", "fe80::1%eth0", id="scoped-ipv6"),
    ],
)
def test_client_ip__ipv6_and_cidr(settings, remote, header, expected):
    settings.AUTH_TOKEN_CLIENT_IP = {
        "header": "X-Forwarded-For",
        "trusted_proxies": ["10.1.0.0/16", "2001:db8::/64"],
    }
    assert client_ip(REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=header) == expected


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("garbage", id="word"),
        pytest.param(f"{CLIENT}, unknown", id="unknown-hop"),
        pytest.param(f"{CLIENT}:443", id="port"),
        pytest.param(f"{CLIENT},", id="trailing-comma"),
        pytest.param("999.1.1.1", id="out-of-range"),
        pytest.param(f"{CLIENT}\x00", id="nul"),
        pytest.param("é", id="non-ascii"),
    ],
)
def test_client_ip__garbage_reached_is_none(settings, header):
    settings.AUTH_TOKEN_CLIENT_IP = FORWARDED_FOR
    assert client_ip(REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR=header) is None


def test_client_ip__garbage_left_of_the_client_is_never_read(settings):
    settings.AUTH_TOKEN_CLIENT_IP = FORWARDED_FOR
    assert client_ip(REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR=f"garbage, , {CLIENT}") == CLIENT


@pytest.mark.parametrize("header", [None, "", "  "])
def test_client_ip__no_header_from_a_trusted_proxy_is_the_proxy(settings, header):
    # The proxy itself asked (a health check), or it forwards no header: its own address.
    settings.AUTH_TOKEN_CLIENT_IP = FORWARDED_FOR
    meta = (
        {"REMOTE_ADDR": NGINX} if header is None else {"REMOTE_ADDR": NGINX, "HTTP_X_FORWARDED_FOR": header}
    )
    assert client_ip(**meta) == NGINX


def test_client_ip__all_trusted_is_the_left_most(settings):
    # The request started at one of our proxies: the farthest one is the best we know.
    settings.AUTH_TOKEN_CLIENT_IP = {"header": "X-Forwarded-For", "trusted_proxies": [CDN, LOAD_BALANCER]}
    assert client_ip(REMOTE_ADDR=LOAD_BALANCER, HTTP_X_FORWARDED_FOR=CDN) == CDN


@pytest.mark.parametrize("config", [None, FORWARDED_FOR], ids=["direct", "proxy"])
@pytest.mark.parametrize("remote", ["", "garbage", "999.1.1.1", f"{NGINX}\x00", None])
def test_client_ip__bad_remote_addr_is_none(settings, config, remote):
    settings.AUTH_TOKEN_CLIENT_IP = config
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR=CLIENT)
    request.META["REMOTE_ADDR"] = remote
    assert services.client_ip(request) is None


def test_client_ip__no_request():
    assert services.client_ip(None) is None


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({"proxy_trusted_ips": [NGINX]}, id="ipware-trusted-ips"),
        pytest.param({"header": "X-Forwarded-For"}, id="no-trusted-proxies"),
        pytest.param({"header": "X-Forwarded-For", "trusted_proxies": ["nginx"]}, id="hostname"),
        pytest.param({"header": "HTTP_X_FORWARDED_FOR", "trusted_proxies": [NGINX]}, id="meta-key"),
    ],
)
def test_client_ip__misconfigured_is_remote_addr(settings, caplog, value):
    # Check E005 reports these at start-up; at run time no header is believed and logins work.
    settings.AUTH_TOKEN_CLIENT_IP = value
    with caplog.at_level(logging.WARNING, logger="auth_token.client_ip"):
        assert client_ip(REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR=f"{SPOOFED}, {CLIENT}") == NGINX
    assert "AUTH_TOKEN_CLIENT_IP" in caplog.text


def api_login(client, **meta):
    body = json.dumps({"username": "alice", "password": "password"})
    return client.post("/api/login/", body, content_type="application/json", **meta)


def test_client_ip__api_login_behind_nginx_stores_the_real_address(client, alice, settings):
    settings.AUTH_TOKEN_CLIENT_IP = FORWARDED_FOR
    response = api_login(client, REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR=f"{SPOOFED}, {CLIENT}")
    assert response.status_code == 201
    assert Token.objects.get(public_id=response.json()["id"]).ip == CLIENT


def test_client_ip__html_login_behind_nginx_stores_the_real_address(client, alice, settings):
    settings.AUTH_TOKEN_CLIENT_IP = FORWARDED_FOR
    client.post(
        "/auth/login/",
        {"username": "alice", "password": "password"},
        REMOTE_ADDR=NGINX,
        HTTP_X_FORWARDED_FOR=f"{SPOOFED}, {CLIENT}",
    )
    assert Token.objects.get(user=alice).ip == CLIENT


def test_client_ip__rotating_fake_addresses_share_the_client_budget(client, alice, settings):
    # Before, each made-up X-Forwarded-For opened a fresh throttle budget.
    settings.AUTH_TOKEN_CLIENT_IP = FORWARDED_FOR
    settings.AUTH_TOKEN_LOGIN_THROTTLE_RATE = "3/min"
    statuses = [
        api_login(client, REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR=f"6.6.6.{n}, {CLIENT}").status_code
        for n in range(4)
    ]
    assert statuses == [201, 201, 201, 429]
