"""Django REST framework integration: an authentication class and the token API.

Add ``"rest_framework"`` to ``INSTALLED_APPS`` and list our class first (DRF takes the
``WWW-Authenticate`` header of a 401 from the first class)::

    REST_FRAMEWORK = {
        "DEFAULT_AUTHENTICATION_CLASSES": [
            "auth_token.contrib.rest_framework.authentication.TokenAuthentication",
        ],
    }

and mount the API: ``path("api/", include("auth_token.contrib.rest_framework.urls"))`` (namespace
``auth_token_api``). The API views set their own authentication, permission and throttle classes,
so they need neither setting. With drf-spectacular installed, the schema describes them and the
Bearer scheme.
"""
