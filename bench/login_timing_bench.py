"""Benchmark: a failed login costs the same for a known and an unknown account (issue 19).

    .venv/bin/python bench/login_timing_bench.py [--runs 20]

On a throwaway SQLite database, with production's password hash (scrypt), it times
``authenticate_password`` for a known account with a wrong password, an unknown username, and a known
account without a password; and ``authenticate_pin`` alike. Every attempt comes from its own address
and the account failures are cleared between runs, so no throttle or delay is measured.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs

    from app import create_app
    from app.extensions import db
    from app.models import AuthFailure, User
    from app.services.auth import login as auth
    from app.services.core.errors import DomainError

    folder = tempfile.mkdtemp(prefix="login-bench-")
    app = create_app({"TESTING": True, "METRICS_ENABLED": False, "SECRET_KEY": "login-bench-not-for-production",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.db"})
    with app.app_context():
        db.create_all()
        known = User(username="known", name="甲", employee_no="3001")
        known.set_password("right-password-1")
        known.set_pin("2468")
        db.session.add_all([known, User(username="nopass", name="乙", employee_no="3002")])
        db.session.commit()
        cases = {
            "password, known account": lambda n: auth.authenticate_password("known", "wrong", f"10.1.0.{n}"),
            "password, unknown account": lambda n: auth.authenticate_password("ghost", "wrong", f"10.2.0.{n}"),
            "password, account without one": lambda n: auth.authenticate_password("nopass", "wrong", f"10.3.0.{n}"),
            "PIN, known employee number": lambda n: auth.authenticate_pin("3001", "1111", f"t{n:015d}", f"10.4.0.{n}"),
            "PIN, unknown employee number": lambda n: auth.authenticate_pin("9999", "1111", f"u{n:015d}", f"10.5.0.{n}"),
        }
        for label, attempt in cases.items():
            timings = []
            for n in range(runs):
                db.session.query(AuthFailure).delete()
                db.session.commit()
                started = time.perf_counter()
                try:
                    attempt(n)
                except DomainError:
                    pass
                timings.append((time.perf_counter() - started) * 1000)
            print(f"{label:32s} median {statistics.median(timings):7.1f} ms  "
                  f"min {min(timings):7.1f}  max {max(timings):7.1f}  (n={runs})")


if __name__ == "__main__":
    main()
