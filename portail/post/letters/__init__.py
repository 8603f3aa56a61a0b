"""Letters: one renderer module per kind, registered in `base.RENDERERS`."""

from portail.post.letters import provisional_code, statement, termination  # noqa: F401  (register their renderers)
from portail.post.letters.base import RENDERERS, LetterRenderer, register, renderer_for

__all__ = ["RENDERERS", "LetterRenderer", "register", "renderer_for"]
