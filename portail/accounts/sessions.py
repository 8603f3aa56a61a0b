"""The database session store, writing a login's new session once instead of twice.

Django's cycle_key() (called by login() against session fixation) inserts a row for the new key at once,
then the response updates it with the data login() and the request added: two writes and a savepoint for
every login. Here the new key is drawn when the response saves the session, and the row is inserted once,
with its data. The old key is deleted at once, as in Django's store, so a stolen pre-login session still
dies at login. Used when sessions live in the database (no REDIS_URL).
"""

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore


class SessionStore(DatabaseSessionStore):
    def cycle_key(self):
        data = self._session
        old_key = self.session_key
        self._session_key = None  # save() then calls create(): a fresh key, one INSERT with the data
        self._session_cache = data
        self.modified = True
        if old_key:
            self.delete(old_key)
