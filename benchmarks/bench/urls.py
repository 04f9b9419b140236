from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView


class Ping(APIView):
    """The same DRF view for every system; only the authentication classes differ."""

    def get(self, request):
        return Response({"ok": True})


urlpatterns = [path("ping/", Ping.as_view())]
