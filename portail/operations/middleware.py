import re
import uuid

from django.conf import settings
from django.shortcuts import render

from portail.operations.logs import request_id_var
from portail.operations.maintenance import maintenance_current

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9\-]{8,64}$")


class RequestIdMiddleware:
    """Gives every request an id (the proxy's X-Request-ID when it looks sane),
    puts it in every log line of the request and in the response headers; adds
    the Permissions-Policy header Django does not set."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request.id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request.id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request.id
        response.setdefault("Permissions-Policy", settings.PORTAIL_PERMISSIONS_POLICY)
        return response


class MaintenanceMiddleware:
    """During planned maintenance, the member space and the payment API answer
    503 with Retry-After and a page saying until when; public pages, health
    checks and the agents' back office go on."""

    CLOSED_PREFIXES = ("/mon-compte/", "/demo/compte/", "/api/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(self.CLOSED_PREFIXES) and (maintenance := maintenance_current()):
            response = render(request, "operations/maintenance.html", {"maintenance": maintenance}, status=503)
            response["Retry-After"] = str(maintenance.retry_after)
            return response
        return self.get_response(request)
