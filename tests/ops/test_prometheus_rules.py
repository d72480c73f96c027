"""The alert rules and the dashboard: promtool accepts and unit-tests the rules, and every metric they query
exists — in a real /metrics scrape of the app, in the textfile ops/backup.sh writes for the node exporter,
or among the few metrics of the exporters docs/DEPLOYMENT.md installs."""
import json
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "ops" / "prometheus" / "alerts.yml"
RULE_TESTS = ROOT / "ops" / "prometheus" / "alerts_test.yml"
DASHBOARD = ROOT / "ops" / "grafana" / "workorder.json"

# Metrics of other programs that the rules and the dashboard use, by the program that exports them
# (Debian packages, docs/DEPLOYMENT.md §监控与告警). Everything else must come from a real scrape.
EXPORTER_METRICS = {
    "prometheus (every scrape target)": {"up"},
    "prometheus-postgres-exporter": {"pg_up"},
    "prometheus-node-exporter": {"node_filesystem_avail_bytes", "node_filesystem_size_bytes"},
}
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool",
                "offset", "inf", "nan"}


def promtool() -> str:
    found = shutil.which("promtool")
    if not found:
        if os.environ.get("CI") or os.environ.get("REQUIRE_POSTGRES"):
            pytest.fail("promtool is missing (apt-get install --no-install-recommends prometheus)")
        pytest.skip("promtool is not installed (apt-get install --no-install-recommends prometheus)")
    return found


def test_promtool_accepts_the_rules():
    result = subprocess.run([promtool(), "check", "rules", str(RULES)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 10 rules found" in result.stdout


def test_promtool_unit_tests_of_every_alert_pass():
    result = subprocess.run([promtool(), "test", "rules", str(RULE_TESTS)], capture_output=True, text=True,
                            cwd=RULE_TESTS.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_has_a_unit_test_that_fires_and_one_that_stays_quiet():
    alerts = {rule["alert"] for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]}
    fired, quiet = set(), set()
    for case in yaml.safe_load(RULE_TESTS.read_text())["tests"]:
        for check in case.get("alert_rule_test", []):
            (fired if check.get("exp_alerts") else quiet).add(check["alertname"])
    assert fired == alerts and quiet == alerts


def test_every_alert_has_a_chinese_summary_and_a_runbook_section():
    deployment = (ROOT / "docs" / "DEPLOYMENT.md").read_text()
    for group in yaml.safe_load(RULES.read_text())["groups"]:
        for rule in group["rules"]:
            assert re.search(r"[\u4e00-\u9fff]", rule["annotations"]["summary"]), rule["alert"]
            assert rule["annotations"]["runbook"] == f"docs/DEPLOYMENT.md#告警-{rule['alert'].lower()}"
            assert f"#### 告警 {rule['alert']}" in deployment, rule["alert"]


def metric_names(expression: str) -> set[str]:
    """The metric names a PromQL expression selects: what is left once strings, label matchers, ranges,
    grouping clauses, function calls, keywords and numbers are taken out."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', "", expression)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        following = text[match.end():].lstrip()[:1]
        if following != "(" and match.group().lower() not in PROMQL_WORDS:
            names.add(match.group())
    return names


def test_metric_names_are_read_from_promql():
    assert metric_names('sum by (le, url_rule) (rate(flask_http_request_duration_seconds_bucket'
                        '{job="workorder", status=~"5.."}[5m])) / time() > 0.5 or absent(up)') == {
        "flask_http_request_duration_seconds_bucket", "up"}


def queried_metrics() -> set[str]:
    expressions = [rule["expr"] for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]
    expressions += [target["expr"] for panel in json.loads(DASHBOARD.read_text())["panels"]
                    for target in panel["targets"]]
    return set().union(*(metric_names(expression) for expression in expressions))


def exposed_names(exposition: str) -> set[str]:
    """Every sample name of a Prometheus text exposition (``_bucket``, ``_total`` … included)."""
    return {sample.name for family in text_string_to_metric_families(exposition) for sample in family.samples}


@pytest.mark.postgres
def test_every_metric_the_dashboard_and_the_alerts_query_is_exported(pg_cluster, tmp_path):
    """A real scrape of the app after a few requests (one of them a 500), a real backup's textfile."""
    import factories
    from app import create_app
    from app.extensions import db

    url = pg_cluster.create_database(f"metrics_scrape_{uuid.uuid4().hex[:8]}")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "METRICS_ENABLED": True,
                      "SECRET_KEY": "x" * 40, "PASSWORD_HASH_METHOD": factories.CHEAP_HASH_METHOD,
                      "PROPAGATE_UNEXPECTED": False})

    @app.route("/boom")
    def boom():
        raise RuntimeError("boom")

    with app.app_context():
        db.create_all()
        factories.TaskFactory()
        db.session.commit()
        client = app.test_client()
        assert client.get("/healthz").status_code == 200
        assert client.get("/boom").status_code == 500
        scrape = client.get("/metrics")
        db.session.remove()
        db.engine.dispose()
    assert scrape.status_code == 200
    app_metrics = exposed_names(scrape.get_data(as_text=True))

    textfile_dir = tmp_path / "textfile"
    textfile_dir.mkdir()
    env = {**os.environ, "DATABASE_URL": url, "UPLOAD_FOLDER": str(tmp_path / "uploads"),
           "BACKUP_DIR": str(tmp_path / "backups"), "TEXTFILE_COLLECTOR_DIR": str(textfile_dir),
           "PATH": f"{pg_cluster.bin_dir}:{os.environ['PATH']}"}
    backup = subprocess.run(["bash", str(ROOT / "ops" / "backup.sh")], env=env, capture_output=True, text=True)
    assert backup.returncode == 0, backup.stderr
    backup_metrics = exposed_names((textfile_dir / "workorder_backup.prom").read_text())

    known = app_metrics | backup_metrics | set().union(*EXPORTER_METRICS.values())
    assert queried_metrics() - known == set()
    # The scrape really holds what the dashboard is about (not only names from the exporters' lists).
    assert {"flask_http_request_total", "flask_http_request_duration_seconds_bucket", "workorder_open_tasks",
            "workorder_websocket_connections", "workorder_event_delivery_seconds_bucket",
            "workorder_db_pool_checked_out", "workorder_event_listener_down",
            "workorder_event_listener_reconnects_total", "workorder_plan_lock_wait_seconds_bucket",
            "workorder_plan_replan_seconds_bucket"} <= app_metrics
    assert backup_metrics == {"workorder_backup_last_success_timestamp_seconds", "workorder_backup_last_size_bytes"}


def test_promtool_accepts_the_prometheus_configuration(tmp_path):
    config = (ROOT / "ops" / "prometheus.yml").read_text().replace("/opt/workorder/ops/prometheus/alerts.yml",
                                                                   str(RULES))
    assert str(RULES) in config
    (tmp_path / "prometheus.yml").write_text(config)
    result = subprocess.run([promtool(), "check", "config", str(tmp_path / "prometheus.yml")], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr
