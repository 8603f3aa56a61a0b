"""Letters: one renderer module per kind, registered in `base.RENDERERS`."""

from portail.post.letters import provisional_code  # noqa: F401  (registers its renderer)
from portail.post.letters.base import RENDERERS, LetterRenderer, register, renderer_for

__all__ = ["RENDERERS", "LetterRenderer", "register", "renderer_for"]
