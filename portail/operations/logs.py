"""Structured logs: one JSON object a line, with the request id, and never a
NIR, a code or an answer in clear.

Nothing in the portal logs a secret on purpose; the filter below is the safety
net: any run of 8 digits or more (a NIR, with or without spaces, 2A/2B
included, or a code) is masked down to its last 3 characters.
"""

import contextvars
import datetime as dt
import json
import logging
import re

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

# 8+ characters of digits, allowing the spaces, dots and dashes people type, and 2A/2B.
_SECRET_RUN = re.compile(r"(?<![\w])(?:\d[\s.\-]?|2[AaBb][\s.\-]?){7,}\d(?![\w])")


def mask_secrets(text: str) -> str:
    def mask(match: re.Match) -> str:
        digits = re.sub(r"[\s.\-]", "", match.group(0))
        return "***" + digits[-3:]

    return _SECRET_RUN.sub(mask, text)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """{"time", "level", "logger", "request_id", "message", and "exception" when there is one}."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": mask_secrets(record.getMessage()),
        }
        if record.exc_info:
            entry["exception"] = mask_secrets(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class PlainFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask_secrets(super().format(record))
