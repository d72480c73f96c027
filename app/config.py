"""Settings read from the environment. SQLite under instance/ is the embedded default."""
import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = BASE_DIR / "instance"

# How long a new PostgreSQL connection may take before the database counts as away (libpq's minimum).
DATABASE_CONNECT_TIMEOUT_SECONDS = 2

# Secrets that must never protect a production plant.
KNOWN_WEAK_SECRETS = {"", "dev", "change-me", "changeme", "secret", "development"}


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


def _split(value: str) -> list[str]:
    return value.replace(",", " ").split()


def load_config(overrides: dict | None = None) -> dict:
    overrides = overrides or {}
    production = overrides.get("PRODUCTION", os.environ.get("APP_ENV", "development") == "production")
    secret = overrides.get("SECRET_KEY", os.environ.get("SECRET_KEY"))
    if production:
        if not secret or secret in KNOWN_WEAK_SECRETS or len(secret) < 32:
            raise ConfigError(
                "生产模式必须通过环境变量 SECRET_KEY 提供至少 32 个字符的随机密钥 "
                "(production mode requires SECRET_KEY of at least 32 random characters)"
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
            "connect_args": {"connect_timeout": DATABASE_CONNECT_TIMEOUT_SECONDS},
        },
        "UPLOAD_FOLDER": os.environ.get("UPLOAD_FOLDER", str(INSTANCE_DIR / "uploads")),
        "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
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
        # Kiosk PIN throttling: this many failures per window, per user and per terminal.
        "KIOSK_MAX_FAILURES": 5,
        "KIOSK_FAILURE_WINDOW_SECONDS": 60,
        "LOGIN_MAX_FAILURES": 10,
        "LOGIN_FAILURE_WINDOW_SECONDS": 300,
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
    }
    config.update(overrides)
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}}
    return config
