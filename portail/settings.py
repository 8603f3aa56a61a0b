"""Settings for Portail assuré: one module, configured by environment variables.

Every variable has a default that works on a laptop (SQLite under var/, demo
mode on). `.env.example` lists them all with a one-line explanation.
"""

import os
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from portail.secretfiles import read_or_create_secret


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PORTAIL_VAR_DIR", BASE_DIR / "var"))

# Demo mode: demo letterbox instead of a post office and a mail server, demo
# data, cookies allowed over plain HTTP on 127.0.0.1. Off in production.
PORTAIL_DEMO = env_bool("PORTAIL_DEMO", True)

SECRET_KEY = read_or_create_secret(env_var="SECRET_KEY", path=VAR_DIR / "secret_key")
# Mixed into every code and answer hash: a stolen database alone cannot be
# brute-forced without it.
PORTAIL_PEPPER = read_or_create_secret(env_var="PORTAIL_PEPPER", path=VAR_DIR / "pepper")
DEBUG = env_bool("PORTAIL_DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",
    "django_tasks_db",
    "portail.registry",
    "portail.accounts",
    "portail.benefits",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "portail.backoffice",
    "portail.messaging",
    "portail.post",
    "portail.operations",
    "portail.public",
    "portail.demo",
]

MIDDLEWARE = [
    "portail.operations.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "portail.operations.middleware.MaintenanceMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "portail.accounts.middleware.SessionExpiryMiddleware",
    "portail.demo.account_views.DemoReadOnlyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "portail.urls"
# Every form renders through one set of templates (label, hint, error tied by
# aria-describedby, error summary): see portail/templates/forms/.
FORM_RENDERER = "portail.forms.PortailFormRenderer"
WSGI_APPLICATION = "portail.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "portail" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portail.context_processors.portal",
            ],
        },
    },
]

# Database: SQLite in WAL mode under var/ by default; PostgreSQL (or any engine
# dj-database-url knows) when DATABASE_URL says so.
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'portail.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # The web server and the task worker write to the same file: WAL lets
        # readers go on while one writes, IMMEDIATE avoids upgrade deadlocks.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DATABASES["default"]["ATOMIC_REQUESTS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL:
    # Redis holds the cache (lockout and rate-limit counters), the sessions and
    # the task queue (RQ), shared by every web and worker process on every host.
    CACHES = {"default": {"BACKEND": "portail.operations.cache.RedisCache", "LOCATION": REDIS_URL}}
    SESSION_ENGINE = "portail.accounts.sessions.cache"
    INSTALLED_APPS.append("django_rq")
    RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 300}}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
else:
    # Database cache, shared by every process using the same database (the
    # lockout and rate-limit counters must hold across processes).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "portail_cache",
            # Counters must not be culled by a busy day: keep up to a million entries.
            "OPTIONS": {"MAX_ENTRIES": 1_000_000},
        }
    }
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    SESSION_ENGINE = "portail.accounts.sessions"

# Per process, never shared, emptied at each restart: markup that depends only on what its key says (the
# footer per language, the payments filter per data and choices). See PortailForm.memoize_rendering.
CACHES["local"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "portail-local",
    "OPTIONS": {"MAX_ENTRIES": 2000},
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["portail.accounts.backends.PortailModelBackend"]
# Argon2id with the server-side pepper, for personal codes, provisional codes,
# secret answers and agents' passwords alike.
PASSWORD_HASHERS = ["portail.accounts.hashers.PepperedArgon2PasswordHasher"]
PORTAIL_ARGON2_TIME_COST = env_int("PORTAIL_ARGON2_TIME_COST", 1)
PORTAIL_ARGON2_MEMORY_KIB = env_int("PORTAIL_ARGON2_MEMORY_KIB", 47104)
PORTAIL_ARGON2_PARALLELISM = env_int("PORTAIL_ARGON2_PARALLELISM", 1)

# Internationalisation: French first, complete English translation.
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "portail" / "locale"]
USE_I18N = True
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Paris")
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "portail" / "static"]
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns at start-up when it is missing
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": VAR_DIR / "media"}},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Sessions and cookies.
SESSION_COOKIE_AGE = env_int("PORTAIL_SESSION_ABSOLUTE_SECONDS", 8 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
SECURE_COOKIES = env_bool("PORTAIL_SECURE_COOKIES", not PORTAIL_DEMO)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
LANGUAGE_COOKIE_SECURE = SECURE_COOKIES

# Security headers.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("PORTAIL_SSL_REDIRECT", not PORTAIL_DEMO)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("PORTAIL_BEHIND_PROXY", False) else None
SECURE_HSTS_SECONDS = env_int("PORTAIL_HSTS_SECONDS", 0 if PORTAIL_DEMO else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env_bool("PORTAIL_HSTS_PRELOAD", SECURE_HSTS_SECONDS > 0)
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "frame-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
}

LOGIN_URL = "public:member_space"
LOGIN_REDIRECT_URL = "accounts:home"

# Enrolment, login and recovery rules (see docs/security.md).
PORTAIL_PROVISIONAL_CODE_DAYS = env_int("PORTAIL_PROVISIONAL_CODE_DAYS", 15)
PORTAIL_CODE_MAX_ATTEMPTS = env_int("PORTAIL_CODE_MAX_ATTEMPTS", 3)
PORTAIL_CODE_ORDERS_PER_NIR = env_int("PORTAIL_CODE_ORDERS_PER_NIR", 3)
PORTAIL_CODE_ORDERS_WINDOW_DAYS = env_int("PORTAIL_CODE_ORDERS_WINDOW_DAYS", 30)
PORTAIL_CODE_ORDERS_PER_CLIENT = env_int("PORTAIL_CODE_ORDERS_PER_CLIENT", 20)
PORTAIL_CODE_ORDERS_CLIENT_WINDOW_HOURS = env_int("PORTAIL_CODE_ORDERS_CLIENT_WINDOW_HOURS", 24)
PORTAIL_LOGIN_MAX_FAILURES = env_int("PORTAIL_LOGIN_MAX_FAILURES", 3)
PORTAIL_LOCK_BASE_MINUTES = env_int("PORTAIL_LOCK_BASE_MINUTES", 15)
PORTAIL_LOCK_MAX_MINUTES = env_int("PORTAIL_LOCK_MAX_MINUTES", 24 * 60)
PORTAIL_LOGIN_FAILURES_PER_CLIENT = env_int("PORTAIL_LOGIN_FAILURES_PER_CLIENT", 30)
PORTAIL_LOGIN_CLIENT_WINDOW_SECONDS = env_int("PORTAIL_LOGIN_CLIENT_WINDOW_SECONDS", 15 * 60)
PORTAIL_SESSION_IDLE_SECONDS = env_int("PORTAIL_SESSION_IDLE_SECONDS", 20 * 60)
PORTAIL_EMAIL_LINK_HOURS = env_int("PORTAIL_EMAIL_LINK_HOURS", 48)
PORTAIL_RECOVERY_LINK_MINUTES = env_int("PORTAIL_RECOVERY_LINK_MINUTES", 30)
# "digits": the personal code is 8 to 13 digits (the historical rule);
# "passphrase": 8 to 64 characters of any kind, checked against common passwords.
PORTAIL_PERSONAL_CODE_POLICY = os.environ.get("PORTAIL_PERSONAL_CODE_POLICY", "digits")
# Member services.
PORTAIL_PAYMENTS_DEFAULT_MONTHS = env_int("PORTAIL_PAYMENTS_DEFAULT_MONTHS", 6)
# Statements stay online at least this long (the historical service kept 6 months).
PORTAIL_STATEMENTS_KEEP_MONTHS = env_int("PORTAIL_STATEMENTS_KEEP_MONTHS", 24)
# Paper duplicates are never refused; this only stops obvious abuse (per member, per 30 days).
PORTAIL_DUPLICATES_PER_30_DAYS = env_int("PORTAIL_DUPLICATES_PER_30_DAYS", 20)
# Largest body the payment push API accepts (bytes).
PORTAIL_FEED_MAX_BODY_BYTES = env_int("PORTAIL_FEED_MAX_BODY_BYTES", 5 * 1024 * 1024)
# A profile change needs the personal code again when the login is older than this.
PORTAIL_RECENT_LOGIN_SECONDS = env_int("PORTAIL_RECENT_LOGIN_SECONDS", 5 * 60)
# Agents' login: how long the password step stays valid while the agent types the TOTP code (or enrols).
PORTAIL_AGENT_LOGIN_STEP_SECONDS = env_int("PORTAIL_AGENT_LOGIN_STEP_SECONDS", 5 * 60)
# Agents' inbox: the service target for a first answer, in hours since the member's message waiting for
# the fund; past it, the inbox and the thread page warn in words (not by colour alone).
PORTAIL_MESSAGE_TARGET_HOURS = env_int("PORTAIL_MESSAGE_TARGET_HOURS", 48)

# The address members see in links sent by e-mail (no trailing slash).
PORTAIL_BASE_URL = os.environ.get("PORTAIL_BASE_URL", "http://127.0.0.1:8000")

# E-mail: SMTP in production; in demo mode the demo letterbox keeps every
# message instead of sending it.
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Portail assuré <ne-pas-repondre@portail-assure.example>")
if PORTAIL_DEMO and not env_bool("PORTAIL_DEMO_SMTP", False):
    # Nothing leaves the machine: each message stays in the demo letterbox.
    MAILERS = {"default": {"BACKEND": "portail.post.mail.DemoLetterboxBackend"}}
else:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ.get("EMAIL_HOST", "localhost"),
                "port": env_int("EMAIL_PORT", 25),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", False),
                "timeout": 30,
            },
        }
    }

# Letters: where rendered PDFs and print batches are filed.
PORTAIL_LETTERS_DIR = VAR_DIR / "letters"
PORTAIL_PRINT_BATCHES_DIR = VAR_DIR / "print-batches"

# Who runs the portal: shown on public pages, in the legal notice and letters.
PORTAIL_FUND_NAME = os.environ.get("PORTAIL_FUND_NAME", "Caisse d'assurance maladie de démonstration")
PORTAIL_FUND_PHONE = os.environ.get("PORTAIL_FUND_PHONE", "01 00 00 00 00")
PORTAIL_FUND_ADDRESS = os.environ.get("PORTAIL_FUND_ADDRESS", "1 rue de l'Exemple, 75000 Paris")

# Planned maintenance from the environment (also: `manage.py maintenance on`).
PORTAIL_MAINTENANCE_UNTIL = os.environ.get("PORTAIL_MAINTENANCE_UNTIL", "")
PORTAIL_MAINTENANCE_REASON = os.environ.get("PORTAIL_MAINTENANCE_REASON", "")
PORTAIL_PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"

# Logs: one JSON object a line with the request id (PORTAIL_LOG_FORMAT=plain for
# a terminal); NIRs and codes are masked by the formatter in every case.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "portail.operations.logs.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "portail.operations.logs.JsonFormatter"},
        "plain": {
            "()": "portail.operations.logs.PlainFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": os.environ.get("PORTAIL_LOG_FORMAT", "json"),
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
