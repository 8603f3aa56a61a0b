"""Locust scenario: members log in with their NIR and personal code and open their payments.

Run by `python -m bench.load` (which starts the portal and seeds the members); it reads the members'
NIRs from the file named by PORTAIL_LOAD_NIRS (one a line) and their personal code from
PORTAIL_LOAD_CODE. Each simulated member takes its own NIR, then repeats a visit: a fresh session,
the login page, the login itself (one Argon2id verify on the server), the payments summary, the detailed
view, the summary again, with a few seconds of reading between pages.
"""

import itertools
import os
import re
from pathlib import Path

from locust import HttpUser, between, task

NIRS = Path(os.environ["PORTAIL_LOAD_NIRS"]).read_text().split("\n")
NIRS = [nir for nir in NIRS if nir.strip()]
CODE = os.environ["PORTAIL_LOAD_CODE"]
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_next_member = itertools.count()


class Member(HttpUser):
    wait_time = between(2, 5)

    def on_start(self):
        self.nir = NIRS[next(_next_member) % len(NIRS)]

    def _get(self, path: str, name: str, *, expect: str):
        with self.client.get(path, name=name, catch_response=True) as response:
            # A lost session would be redirected to the login page: check where we landed, and what is there.
            landed = response.url.split("?")[0].endswith(path.split("?")[0])
            if response.status_code != 200 or not landed or expect not in response.text:
                response.failure(f"{response.status_code} at {response.url}: {expect!r} expected")
            return response

    @task
    def visit(self):
        self.client.cookies.clear()
        page = self._get("/mon-compte/", "GET login page", expect="csrfmiddlewaretoken")
        match = CSRF_INPUT.search(page.text)
        if match is None:
            return
        with self.client.post(
            "/mon-compte/",
            {"nir": self.nir, "code": CODE, "csrfmiddlewaretoken": match.group(1)},
            name="POST login (Argon2id verify)",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"login answered {response.status_code}, not a redirect")
                return
        self.wait()
        self._get("/mon-compte/paiements/", "GET payments (summary)", expect="Mes paiements")
        self.wait()
        self._get("/mon-compte/paiements/?view=detail", "GET payments (detail)", expect="Mes paiements")
        self.wait()
        self._get("/mon-compte/paiements/", "GET payments (summary)", expect="Mes paiements")
