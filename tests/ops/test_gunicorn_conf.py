"""ops/gunicorn.conf.py's worker hook: what the worker has loaded is moved out of the garbage collector's reach,
and a worker that crashes prints the crashing thread's stack."""
import gc
import os
import runpy
import subprocess
import sys

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


def test_a_worker_that_crashes_prints_the_crashing_thread_s_stack_among_hundreds():
    # As a worker holding its pages' sockets: the thread that crashes is older than 150 others.
    crash = ("import os, runpy, signal, threading; settings = runpy.run_path(os.path.join('ops', 'gunicorn.conf.py')); "
             "settings['post_worker_init'](worker=None); stop = threading.Event(); "
             "[threading.Thread(target=stop.wait, daemon=True).start() for _ in range(150)]; "
             "os.kill(os.getpid(), signal.SIGSEGV)")
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONFAULTHANDLER"}
    finished = subprocess.run([sys.executable, "-c", crash], cwd=ROOT, env=environment, capture_output=True,
                              text=True, timeout=60, check=False)
    assert finished.returncode == -11
    assert "Fatal Python error: Segmentation fault" in finished.stderr
    assert 'File "<string>", line 1 in <module>' in finished.stderr


def test_production_logs_json_lines_and_no_text_access_log(monkeypatch, capsys):
    import json
    import logging.config

    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    settings = runpy.run_path(os.path.join(ROOT, "ops", "gunicorn.conf.py"))
    assert settings["accesslog"] is None
    root_handlers = list(logging.getLogger().handlers)
    try:
        logging.config.dictConfig(settings["logconfig_dict"])
        logging.getLogger("gunicorn.error").info("Booting worker with pid: %s", 42)
    finally:
        logging.getLogger("gunicorn.error").handlers.clear()
        logging.getLogger().handlers[:] = root_handlers
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert (line["level"], line["logger"], line["message"]) == ("INFO", "gunicorn.error", "Booting worker with pid: 42")
    assert "time" in line


def test_development_keeps_gunicorn_text_logs(monkeypatch):
    monkeypatch.delenv("APP_ENV", raising=False)
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    settings = runpy.run_path(os.path.join(ROOT, "ops", "gunicorn.conf.py"))
    assert settings["accesslog"] == "-" and "logconfig_dict" not in settings
