"""Settings read from the environment. SQLite under instance/ is the embedded default."""
import math
import os
import secrets
from collections import Counter
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = BASE_DIR / "instance"

# How long a new PostgreSQL connection may take before the database counts as away (libpq's minimum).
DATABASE_CONNECT_TIMEOUT_SECONDS = 2
# Connections a process keeps to PostgreSQL; docs/DEPLOYMENT.md sizes max_connections by it.
DATABASE_POOL_SIZE = 15

# Secrets that must never protect a production plant.
KNOWN_WEAK_SECRETS = {"", "dev", "change-me", "changeme", "secret", "development"}
# A session cookie signed with a guessable key can be forged: production wants at least this much.
MIN_SECRET_ENTROPY_BITS = 128


class ConfigError(RuntimeError):
    """Raised when the environment cannot run the app safely."""


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        INSTANCE_DIR.mkdir(exist_ok=True)
        return f"sqlite:///{INSTANCE_DIR / 'workorders.db'}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _development_secret() -> str:
    """A per-checkout secret kept under instance/ so sessions survive restarts."""
    INSTANCE_DIR.mkdir(exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def parse_log_levels(text: str) -> dict[str, str]:
    """``"app.realtime=DEBUG, app.sql=WARNING"`` → ``{"app.realtime": "DEBUG", "app.sql": "WARNING"}``."""
    levels = {}
    for item in text.replace(",", " ").split():
        name, _, level = item.partition("=")
        if name and level:
            levels[name] = level.upper()
    return levels


def estimated_entropy_bits(secret: str) -> float:
    """Length × the Shannon entropy of the secret's own characters: ``'a' * 32`` has none, 64 random
    hex digits about 240 bits. Only an estimate (a key typed from a pattern can score high), but it
    refuses repeated, short and small-alphabet keys."""
    if not secret:
        return 0.0
    length = len(secret)
    per_character = -sum(count / length * math.log2(count / length) for count in Counter(secret).values())
    return length * per_character


def _split(value: str) -> list[str]:
    return value.replace(",", " ").split()


def load_config(overrides: dict | None = None) -> dict:
    overrides = overrides or {}
    production = overrides.get("PRODUCTION", os.environ.get("APP_ENV", "development") == "production")
    secret = overrides.get("SECRET_KEY", os.environ.get("SECRET_KEY"))
    if production:
        if (not secret or secret in KNOWN_WEAK_SECRETS or len(secret) < 32
                or estimated_entropy_bits(secret) < MIN_SECRET_ENTROPY_BITS):
            raise ConfigError(
                "生产模式必须通过环境变量 SECRET_KEY 提供随机密钥：至少 32 个字符，估计熵不低于 128 位，"
                "可用 python3 -c 'import secrets; print(secrets.token_hex(32))' 生成 "
                "(production mode requires a random SECRET_KEY: at least 32 characters and an estimated "
                "entropy of 128 bits or more)"
            )
    elif not secret:
        secret = _development_secret()

    config = {
        "PRODUCTION": production,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": _database_url(),
        "SQLALCHEMY_ENGINE_OPTIONS": {
            # A pooled connection is tested before use, so one broken by a database restart is replaced
            # instead of failing the request; a server that does not answer costs at most
            # connect_timeout (libpq's minimum, 2 s) before the request is answered 503.
            "pool_pre_ping": True,
            # Fifteen connections a process, all kept: with the default five kept and ten more opened for a
            # burst and closed after it, every push that made a workshop's screens re-fetch at once opened
            # and closed connections (474 during one `make bench-plant` step), each a new PostgreSQL backend
            # that plans its statements afresh.
            "pool_size": DATABASE_POOL_SIZE,
            "max_overflow": 0,
            "connect_args": {"connect_timeout": DATABASE_CONNECT_TIMEOUT_SECONDS},
        },
        "UPLOAD_FOLDER": os.environ.get("UPLOAD_FOLDER", str(INSTANCE_DIR / "uploads")),
        "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
        # The text of a form (every field but files): far above any real 施工单, far below a flood.
        "MAX_FORM_MEMORY_SIZE": 500 * 1024,
        "BABEL_DEFAULT_LOCALE": "zh_Hans_CN",
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("APP_TIMEZONE", "Asia/Shanghai"),
        "BABEL_TRANSLATION_DIRECTORIES": str(BASE_DIR / "translations"),
        "LANGUAGES": ["zh_Hans_CN", "en"],
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_CSRF_SSL_STRICT": production,
        "PAGE_SIZE": 20,
        # Login throttles (app/services/auth/login.py): failures per window refused per (account, address)
        # and per address — and for the kiosk's PIN per terminal too; per account only delayed, and
        # a burst reported to the administrators.
        "LOGIN_MAX_FAILURES": 10,
        "LOGIN_MAX_FAILURES_PER_ADDRESS": 50,
        "LOGIN_FAILURE_WINDOW_SECONDS": 300,
        "LOGIN_BURST_FAILURES": 20,
        "KIOSK_MAX_FAILURES": 5,
        "KIOSK_MAX_FAILURES_PER_ADDRESS": 10,
        "KIOSK_FAILURE_WINDOW_SECONDS": 60,
        "KIOSK_BURST_FAILURES": 10,
        # The delay before answering for an account with recent failures: from the 3rd on, 0.25 s
        # doubling up to 3 s.
        "LOGIN_DELAY_AFTER_FAILURES": 3,
        "LOGIN_DELAY_FIRST_SECONDS": 0.25,
        "LOGIN_DELAY_MAX_SECONDS": 3.0,
        "BEHIND_PROXY": os.environ.get("BEHIND_PROXY", "1" if production else "0") == "1",
        "METRICS_ENABLED": os.environ.get("METRICS_ENABLED", "1") == "1",
        # Who may scrape /metrics: client addresses (after ProxyFix) and/or a bearer token.
        "METRICS_ALLOW": _split(os.environ.get("METRICS_ALLOW", "127.0.0.1 ::1")),
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN", ""),
        # CSP frame-ancestors for the TV board (/board/...), e.g. "https://signage.example.com"; unset = DENY.
        "BOARD_FRAME_ANCESTORS": os.environ.get("BOARD_FRAME_ANCESTORS", ""),
        # werkzeug's method for password and PIN hashes. Only the test suite picks a cheaper one: scrypt
        # costs ~0.1 s a hash by design, and the suite creates and checks thousands.
        "PASSWORD_HASH_METHOD": "scrypt",
        # Logs (app/observability.py): JSON lines in production, readable lines for `make run`.
        "LOG_FORMAT": os.environ.get("LOG_FORMAT", "json" if production else "console"),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO").upper(),
        "LOG_LEVELS": parse_log_levels(os.environ.get("LOG_LEVELS", "")),
        "LOG_SLOW_REQUEST_MS": float(os.environ.get("LOG_SLOW_REQUEST_MS", "1000")),
        "LOG_SLOW_QUERY_MS": float(os.environ.get("LOG_SLOW_QUERY_MS", "200")),
        # What ops/backup.sh writes for the node exporter; 系统状态 shows the last backup from it.
        "BACKUP_METRICS_FILE": os.environ.get("BACKUP_METRICS_FILE", os.path.join(
            os.environ.get("TEXTFILE_COLLECTOR_DIR", "/var/lib/prometheus/node-exporter"), "workorder_backup.prom")),
        # Every cached fragment (app.templating.cached_fragment) also rendered fresh and compared: the test
        # suite's check that no cache key misses a value its fragment shows. Doubles their cost; off by default.
        "VERIFY_CACHED_FRAGMENTS": False,
    }
    config.update(overrides)
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}}
    return config
