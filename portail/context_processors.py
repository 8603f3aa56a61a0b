from django.conf import settings


def portal(request):
    """Values every page needs: the fund's name and whether demo mode is on."""
    return {
        "fund_name": settings.PORTAIL_FUND_NAME,
        "fund_phone": settings.PORTAIL_FUND_PHONE,
        "demo_mode": settings.PORTAIL_DEMO,
    }
