"""The cache session store (sessions in Redis), stored once at login: see portail.accounts.sessions."""

from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore

from portail.accounts.sessions import StoredOnceAtLogin


class SessionStore(StoredOnceAtLogin, CacheSessionStore):
    pass
