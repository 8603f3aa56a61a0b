from django.conf import settings


def portal(request):
    """Values every page needs: the fund's name, whether demo mode is on, and
    whether the logged-in member still has to confirm an e-mail address."""
    account = getattr(getattr(request, "user", None), "account", None) if request.user.is_authenticated else None
    return {
        "fund_name": settings.PORTAIL_FUND_NAME,
        "fund_phone": settings.PORTAIL_FUND_PHONE,
        "demo_mode": settings.PORTAIL_DEMO,
        "email_to_confirm": account is not None and account.status == "active" and not account.email_verified,
        "member_account": account,
    }
