from django.contrib.auth.decorators import login_not_required
from django.views.generic import TemplateView


def public_page(template_name: str):
    """A page anyone can read, without an account."""
    return login_not_required(TemplateView.as_view(template_name=template_name))
