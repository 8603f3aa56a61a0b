import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.utils.translation import gettext as _

LAST_SEEN = "last_seen"
AUTH_AT = "auth_at"


class SessionExpiryMiddleware:
    """Ends a logged-in session after an idle spell (20 min by default) or a
    maximum duration (8 h by default), on the server side."""

    def __init__(self, get_response):
        self.get_response = get_response

    # Health checks must not touch the session (nor the database behind it).
    SKIP_PATHS = frozenset({"/healthz", "/readyz"})

    def __call__(self, request):
        if request.path not in self.SKIP_PATHS and request.user.is_authenticated:
            now = time.time()
            session = request.session
            last_seen = session.get(LAST_SEEN, now)
            auth_at = session.get(AUTH_AT, now)
            idle = now - last_seen > settings.PORTAIL_SESSION_IDLE_SECONDS
            too_old = now - auth_at > settings.SESSION_COOKIE_AGE
            if idle or too_old:
                logout(request)
                messages.info(
                    request,
                    _("Vous avez été déconnecté après %(minutes)d minutes sans activité, pour protéger vos données.")
                    % {"minutes": settings.PORTAIL_SESSION_IDLE_SECONDS // 60}
                    if idle
                    else _("Votre session a duré le temps maximum autorisé : reconnectez-vous."),
                )
                return redirect("backoffice:login" if request.path.startswith("/agents/") else settings.LOGIN_URL)
            # Written at most once a minute: a page view need not cost a session write.
            if now - last_seen >= 60 or LAST_SEEN not in session:
                session[LAST_SEEN] = now
            session.setdefault(AUTH_AT, now)
        return self.get_response(request)
