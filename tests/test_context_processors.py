import pytest
from django.http import HttpResponse
from django.template import RequestContext, Template
from django.test import RequestFactory

from auth_token.middleware import TokenAuthenticationMiddleware

pytestmark = pytest.mark.django_db


def render(template, **meta):
    request = RequestFactory().get("/", **meta)
    TokenAuthenticationMiddleware(lambda request: HttpResponse()).process_request(request)
    return Template(template).render(RequestContext(request))


def test_token__unused_costs_nothing(alice_header, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert render("page", **alice_header) == "page"


def test_token__used(alice_header, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert (
            render("{{ token.user.get_username }} {{ token.is_from_header }}", **alice_header) == "alice True"
        )


def test_token__anonymous():
    assert render("{{ token.is_authenticated }}") == "False"


def test_token__without_middleware():
    request = RequestFactory().get("/")
    assert Template("{{ token.is_authenticated }}").render(RequestContext(request)) == "False"
