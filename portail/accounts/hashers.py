"""Argon2id with a server-side pepper.

Codes are short and numeric: on their own, their hashes would fall to a brute
force in minutes. Before Argon2id, each secret goes through HMAC-SHA256 keyed
with settings.PORTAIL_PEPPER, which lives outside the database (environment or
var/pepper): a stolen database is useless without it.
"""

import hashlib
import hmac

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher


def pepper(secret: str) -> str:
    key = settings.PORTAIL_PEPPER.encode()
    return hmac.new(key, secret.encode("utf-8"), hashlib.sha256).hexdigest()


class PepperedArgon2PasswordHasher(Argon2PasswordHasher):
    algorithm = "argon2pepper"

    # RFC 9106 / OWASP: Argon2id, 46 MiB, one pass, one lane (about 50 ms here).
    # Settings let an operator raise them; old hashes are upgraded at next login.
    @property
    def time_cost(self):
        return settings.PORTAIL_ARGON2_TIME_COST

    @property
    def memory_cost(self):
        return settings.PORTAIL_ARGON2_MEMORY_KIB

    @property
    def parallelism(self):
        return settings.PORTAIL_ARGON2_PARALLELISM

    def encode(self, password, salt):
        return super().encode(pepper(password), salt)

    def verify(self, password, encoded):
        return super().verify(pepper(password), encoded)

    def harden_runtime(self, password, encoded):
        # Django calls this to equalise time with a cheaper old hash; ours are
        # all the same cost, and an extra hash would only double the work.
        return None
