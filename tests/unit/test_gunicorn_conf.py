"""ops/gunicorn.conf.py's worker hook: what the worker has loaded is moved out of the garbage collector's reach."""
import gc
import os
import runpy

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_a_started_worker_freezes_what_it_has_loaded():
    settings = runpy.run_path(os.path.join(ROOT, "ops", "gunicorn.conf.py"))
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        settings["post_worker_init"](worker=None)
        frozen = gc.get_freeze_count()
        # This test process has pytest, SQLAlchemy and Flask loaded: far more than a few objects.
        assert frozen > 10_000
        gc.collect()
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
