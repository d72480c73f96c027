"""Settings from the environment: production refuses weak secrets; SQLite under instance/ is the default."""
import pytest

from app import config as config_module
from app.config import ConfigError, load_config

STRONG_SECRET = "9f3c1e7a2b64d850c4e1fa937b26d05e8c1a4f7b92e36d0518ca7e4b3f9d2c61"  # secrets.token_hex(32)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    for name in ("APP_ENV", "SECRET_KEY", "DATABASE_URL", "METRICS_ENABLED"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(config_module, "INSTANCE_DIR", tmp_path / "instance")
    return tmp_path / "instance"


def test_production_without_secret_key_refuses_to_start(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config()


@pytest.mark.parametrize("secret", [
    "dev", "change-me", "short-secret-123", "x" * 31,
    # long enough, but guessable: an estimated entropy under 128 bits
    "a" * 32, "a1" * 32, "abcd" * 8, "abcdefgh" * 4,
])
def test_production_with_a_weak_secret_key_refuses_to_start(monkeypatch, secret):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", secret)
    with pytest.raises(ConfigError):
        load_config()
    with pytest.raises(ConfigError):
        load_config({"PRODUCTION": True, "SECRET_KEY": secret})


def test_the_estimated_entropy_of_a_secret():
    from app.config import estimated_entropy_bits

    assert estimated_entropy_bits("a" * 32) == 0
    assert estimated_entropy_bits("ab" * 32) == 64
    assert estimated_entropy_bits(STRONG_SECRET) > 200
    assert estimated_entropy_bits("") == 0


def test_production_flag_in_overrides_also_demands_a_secret():
    with pytest.raises(ConfigError):
        load_config({"PRODUCTION": True})


def test_production_with_a_strong_secret_starts(monkeypatch, tmp_path):
    from app import create_app

    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG_SECRET)
    monkeypatch.setenv("METRICS_ENABLED", "0")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.db'}")
    app = create_app({"TESTING": True})  # TESTING only keeps the socket blueprint off the process's signals
    assert (app.config["PRODUCTION"], app.config["SECRET_KEY"]) == (True, STRONG_SECRET)
    assert app.config["SESSION_COOKIE_SECURE"] is True and app.config["WTF_CSRF_SSL_STRICT"] is True


def test_passwords_and_pins_are_hashed_with_scrypt_unless_configured_otherwise(tmp_path):
    from app import create_app
    from app.models import User

    app = create_app({"TESTING": True, "METRICS_ENABLED": False,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'hash.db'}"})
    assert app.config["PASSWORD_HASH_METHOD"] == "scrypt"
    user = User(username="zhang")
    with app.app_context():
        user.set_password("good-pass-1")
        user.set_pin("2468")
    assert user.password_hash.startswith("scrypt:") and user.pin_hash.startswith("scrypt:")
    assert user.check_password("good-pass-1") and user.check_pin("2468") and not user.check_pin("2469")


@pytest.mark.parametrize("given", [
    "postgresql://plant:pw@db.example:5432/plant", "postgres://plant:pw@db.example:5432/plant"])
def test_postgresql_url_uses_psycopg3(monkeypatch, given):
    monkeypatch.setenv("DATABASE_URL", given)
    assert load_config()["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://plant:pw@db.example:5432/plant"


def test_explicit_driver_is_kept(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://plant@/plant?host=/run/postgresql")
    assert load_config()["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://plant@/plant?host=/run/postgresql"


def test_default_database_is_sqlite_under_instance(clean_environment):
    config = load_config()
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{clean_environment / 'workorders.db'}"
    assert config["SQLALCHEMY_ENGINE_OPTIONS"] == {"connect_args": {"timeout": 30}}
    assert config["PRODUCTION"] is False and config["BABEL_DEFAULT_LOCALE"] == "zh_Hans_CN"


def test_development_secret_is_generated_once_and_kept_private(clean_environment):
    first = load_config()["SECRET_KEY"]
    assert len(first) == 64 and load_config()["SECRET_KEY"] == first
    assert (clean_environment / "secret_key").stat().st_mode & 0o777 == 0o600


def test_a_postgresql_process_keeps_every_connection_of_its_pool(monkeypatch):
    """A burst of live re-fetches would otherwise open and close PostgreSQL connections above the five kept."""
    from sqlalchemy import create_engine

    monkeypatch.setenv("DATABASE_URL", "postgresql://plant:pw@db.example:5432/plant")
    config = load_config()
    pool = create_engine(config["SQLALCHEMY_DATABASE_URI"], **config["SQLALCHEMY_ENGINE_OPTIONS"]).pool
    assert pool.size() == 15 and config_module.DATABASE_POOL_SIZE == 15  # docs/DEPLOYMENT.md sizes max_connections by it
    assert config["SQLALCHEMY_ENGINE_OPTIONS"]["max_overflow"] == 0  # none opened for a burst and closed after it
