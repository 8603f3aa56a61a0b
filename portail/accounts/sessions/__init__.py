"""Session stores that write a login's new session once, with its data, instead of three or four times.

Django's cycle_key() (called by login() against session fixation) stores the new key at once, empty, then
the response stores it again with the data login() and the request added; before the first, it asks the
store whether the random key is taken. Here the new key is drawn when the response saves the session, and
stored once, with its data. The old key is deleted at once, as in Django's stores, so a stolen pre-login
session still dies at login.

- portail.accounts.sessions: in the database (no REDIS_URL): one INSERT instead of a SELECT, an INSERT
  and an UPDATE;
- portail.accounts.sessions.cache: in the cache (Redis): one SET NX instead of EXISTS, SET NX, GET, SET.
"""

from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.utils.crypto import get_random_string


class StoredOnceAtLogin:
    def cycle_key(self):
        data = self._session
        old_key = self.session_key
        self._session_key = None  # save() then calls create(): a fresh key, stored once with the data
        self._session_cache = data
        self.modified = True
        if old_key:
            self.delete(old_key)

    def _get_new_session_key(self):
        # create() stores a new key with must_create, which refuses a key already taken (the table's primary
        # key, the cache's add) and draws another: asking first whether it is taken only costs a round trip.
        return get_random_string(32, VALID_KEY_CHARS)


class SessionStore(StoredOnceAtLogin, DatabaseSessionStore):
    pass
