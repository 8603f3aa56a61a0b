"""Opening the demo account, and keeping it read-only."""

from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from portail.demo.account import demo_account_ensure


@login_not_required
@require_POST
def demo_account_open(request):
    """ "Voir la démo": log in as the demo account, no credentials needed."""
    account = demo_account_ensure()
    login(request, account.user, backend="portail.accounts.backends.PortailModelBackend")
    return redirect("accounts:home")


class DemoReadOnlyMiddleware:
    """In the demo account, pages can be read but nothing can be changed: any
    other POST than logging out or switching language gets a clear page."""

    ALLOWED = ("accounts:logout", "set_language")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method in ("GET", "HEAD", "OPTIONS") or not request.user.is_authenticated:
            return None
        account = getattr(request.user, "account", None)
        if account is None or not account.is_demo:
            return None
        if request.resolver_match and request.resolver_match.view_name in self.ALLOWED:
            return None
        return render(request, "demo/read_only.html", status=403)
