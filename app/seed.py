"""Preset data (reference §11) and demo data. Filled in by the seed work."""


def seed_presets() -> str:
    return "nothing yet"


def load_demo() -> str:
    return "nothing yet"
