from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class PortailModelBackend(ModelBackend):
    """Django's backend, loading a member's account and register entry with the
    user in one query: every member page needs all three."""

    def get_user(self, user_id):
        user = get_user_model()._default_manager.select_related("account__member").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
