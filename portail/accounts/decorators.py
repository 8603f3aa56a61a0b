from functools import wraps

from django.shortcuts import redirect

from portail.accounts.enums import AccountStatus


def member_view(view):
    """A page of the member space: needs a logged-in member with an active
    account, and sets `request.account` and `request.member` for the view.
    Every lookup of member data in the view must go through `request.member`."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        account = getattr(request.user, "account", None) if request.user.is_authenticated else None
        if account is None or account.status != AccountStatus.ACTIVE:
            return redirect("public:member_space")
        request.account = account
        request.member = account.member
        return view(request, *args, **kwargs)

    return wrapper
