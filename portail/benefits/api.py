"""The push API of the payment feed: `POST /api/paiements/` (see docs/payment-feed.md).

A machine API: authenticated by a bearer token per sending system (no cookie, so no CSRF check and no
login session), answered in JSON. Each batch commits on its own (no request-wide transaction), like a file
import, and the payments are on the member's pages at the next load.
"""

import json
import logging
from decimal import Decimal
from http import HTTPStatus

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from portail.benefits.feed import feed_source_authenticate, payments_import

logger = logging.getLogger(__name__)

CONTENT_TYPES = frozenset({"application/json", "application/x-ndjson", "application/jsonl"})


def max_body_bytes() -> int:
    return settings.PORTAIL_FEED_MAX_BODY_BYTES


def _error(status: HTTPStatus, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status, json_dumps_params={"ensure_ascii": False})


def _unauthorized() -> JsonResponse:
    """The same answer for a missing, unknown or revoked token: it tells nothing about which."""
    response = _error(
        HTTPStatus.UNAUTHORIZED,
        _("Jeton d'accès absent, inconnu ou révoqué : envoyez l'en-tête « Authorization: Bearer <jeton> »."),
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


def _is_json(text: str) -> bool:
    try:
        json.loads(text, parse_float=Decimal)
    except (ValueError, RecursionError):
        return False
    return True


def _read_body(request, limit: int) -> bytes | None:
    """The body, or None when it is larger than `limit` (whatever Content-Length says)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return None
    # request.read(), not request.body: the limit here is ours, not DATA_UPLOAD_MAX_MEMORY_SIZE.
    body = request.read(limit + 1)
    return None if len(body) > limit else body


def _payment_lines(text: str) -> list[str] | None:
    """The lines to import: the whole body when it is one JSON object (even spread over several lines),
    else its lines (JSON Lines). None when the body is not JSON at all."""
    try:
        whole = json.loads(text, parse_float=Decimal)
    except (ValueError, RecursionError):
        lines = text.split("\n")  # not splitlines(): U+2028 and the like may sit inside JSON strings
        return lines if any(_is_json(line) for line in lines if line.strip()) else None
    return [text] if isinstance(whole, dict) else None


@csrf_exempt
@login_not_required
@transaction.non_atomic_requests
@require_POST
def payments_push_view(request):
    source = feed_source_authenticate(authorization=request.headers.get("Authorization"))
    if source is None:
        return _unauthorized()
    limit = max_body_bytes()
    body = _read_body(request, limit)
    if body is None:
        return _error(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            _("Requête trop grande : %(limit)d octets au plus. Envoyez les paiements en plusieurs requêtes.")
            % {"limit": limit},
        )
    if body.strip() and request.content_type not in CONTENT_TYPES:
        return _error(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            _("Type de contenu « %(type)s » refusé : application/json ou application/x-ndjson attendu.")
            % {"type": request.content_type},
        )
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _error(HTTPStatus.BAD_REQUEST, _("Le corps de la requête n'est pas en UTF-8."))
    lines = _payment_lines(text) if text.strip() else None
    if lines is None:
        return _error(
            HTTPStatus.BAD_REQUEST,
            _(
                "Le corps de la requête n'est pas du JSON : un objet JSON (un paiement), ou une ligne JSON par "
                "paiement, est attendu."
            ),
        )
    run = payments_import(lines=lines, source=f"api:{source.name}")
    logger.info(
        "Payments pushed by %s: %d created, %d already known, %d rejected (import run %d)",
        source.name,
        run.created_count,
        run.unchanged_count,
        run.rejected_count,
        run.pk,
    )
    return JsonResponse(
        {
            "created": run.created_count,
            "already_known": run.unchanged_count,
            "rejected": run.rejections,
            "rejected_count": run.rejected_count,
        },
        status=HTTPStatus.ACCEPTED,
        json_dumps_params={"ensure_ascii": False},
    )
