"""Apps besides the suite's shared one."""


def variant_app(base_app, database_url: str, **overrides):
    """Another app on the test database, for settings the shared test app must not change."""
    from app import create_app

    config = {"TESTING": True, "SECRET_KEY": base_app.config["SECRET_KEY"], "SQLALCHEMY_DATABASE_URI": database_url,
              "WTF_CSRF_ENABLED": False, "METRICS_ENABLED": False, "UPLOAD_FOLDER": base_app.config["UPLOAD_FOLDER"],
              "VERIFY_CACHED_FRAGMENTS": True}
    return create_app({**config, **overrides})
