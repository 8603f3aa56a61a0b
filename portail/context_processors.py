import functools

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import gettext_lazy as _

# The member space's menu: (URL name, label). The current page is marked aria-current.
MEMBER_MENU = [
    ("accounts:home", _("Accueil du compte")),
    ("benefits:payments", _("Mes paiements")),
    ("benefits:statements", _("Mes relevés")),
    ("benefits:doctor", _("Médecin traitant")),
    ("messaging:threads", _("Messagerie")),
    ("accounts:profile", _("Mon profil")),
]


@functools.lru_cache(maxsize=16)
def _menu_urls(prefix: str, urlconf: str | None) -> tuple[str, ...]:
    """The menu's addresses, reversed once per process (per script prefix and URLconf)."""
    return tuple(reverse(name) for name, _label in MEMBER_MENU)


def portal(request):
    """Values every page needs: the fund's name, whether demo mode is on, and
    for a logged-in member the menu and whether an e-mail address awaits confirmation."""
    user = getattr(request, "user", None)
    account = getattr(user, "account", None) if user is not None and user.is_authenticated else None
    active = account is not None and account.status == "active"
    current = request.resolver_match.view_name if getattr(request, "resolver_match", None) else ""
    return {
        "fund_name": settings.PORTAIL_FUND_NAME,
        "fund_phone": settings.PORTAIL_FUND_PHONE,
        "demo_mode": settings.PORTAIL_DEMO,
        "email_to_confirm": active and not account.is_demo and not account.email_verified,
        "member_account": account if active else None,
        "member_menu": [
            {"url": url, "label": label, "current": name == current}
            for url, (name, label) in zip(_menu_urls(get_script_prefix(), get_urlconf()), MEMBER_MENU, strict=True)
        ]
        if active
        else [],
    }
