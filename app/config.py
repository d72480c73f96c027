"""Settings read from the environment. SQLite under instance/ is the embedded default."""
import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = BASE_DIR / "instance"

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
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
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
    }
    config.update(overrides)
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}}
    return config
