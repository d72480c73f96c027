"""Statistics on the hand-built plant of reports_world: every figure exact, every definition checked.

Defect rate = defective ÷ (good + defective); working time = closed time logs per completed task,
averaged over the timed ones; lead time = approval → completion; on time = completion date (plant
time) ≤ delivery date. The period is March 2026 in plant time (UTC+8).
"""
import json
import re
from datetime import date

import pytest

from app.services.reports import assignment_history as stats_assignment_history
from app.services.reports import periods as stats_periods
from app.services.reports import statistics as stats
from support.reports_world import MARCH

MARCH_PERIOD = stats_periods.Period(date(2026, 3, 1), date(2026, 3, 31))
WO1_LEAD = (10 * 24 + 2) * 3600  # 03-02 08:00 → 03-12 10:00
WO2_LEAD = (7 * 24 + 17) * 3600  # 03-03 00:00 → 03-10 17:00


def march(**kwargs) -> stats_periods.StatsFilters:
    return stats_periods.StatsFilters(MARCH_PERIOD, **kwargs)


def test_completion_totals(world):
    totals = stats.completion_totals(world.admin, march())
    assert (totals.tasks, totals.quantity, totals.defective, totals.timed_tasks) == (4, 2600, 220, 3)
    assert totals.defect_rate == pytest.approx(220 / 2820)
    # T1 3.5 h, T2 1 h, T4 0.5 h + 0.5 h (two operators); T3 has no time log and is left out.
    assert totals.average_work_seconds == pytest.approx((12600 + 3600 + 3600) / 3)


def test_operator_ranking(world):
    rows = stats.operator_rows(world.admin, march())
    assert [(r.operator.name, r.completed_tasks, r.completed_quantity, r.defective_quantity, r.timed_tasks)
            for r in rows] == [("刘师傅", 2, 1800, 220, 1), ("黄师傅", 1, 500, 0, 1), ("杨师傅", 1, 300, 0, 1)]
    assert rows[0].defect_rate == pytest.approx(220 / 2020)  # not 220 / 1800, not 220 / target
    assert [r.average_work_seconds for r in rows] == pytest.approx([12600, 3600, 3600])
    assert rows[2].defect_rate == 0


@pytest.mark.parametrize("granularity, expected", [
    ("month", [("2026-03", 4, 2600)]),
    ("week", [("03-01~03-01", 0, 0), ("03-02~03-08", 3, 2300), ("03-09~03-15", 1, 300), ("03-16~03-22", 0, 0),
              ("03-23~03-29", 0, 0), ("03-30~03-31", 0, 0)]),
])
def test_completions_per_week_and_month(world, granularity, expected):
    series = stats.completions_over_time(world.admin, march(granularity=granularity))
    assert [(b.label, b.tasks, b.quantity) for b in series] == expected


def test_completions_per_day_count_on_the_plant_date(world):
    series = stats.completions_over_time(world.admin, march())
    assert len(series) == 31
    # T2 finished at 16:30 UTC on 03-05: 00:30 on 03-06 at the plant.
    assert {b.label: (b.tasks, b.quantity) for b in series if b.tasks} == {
        "2026-03-05": (1, 1000), "2026-03-06": (2, 1300), "2026-03-10": (1, 300)}


def test_tasks_by_department_and_status(world):
    rows = stats.tasks_by_department(world.admin, march())
    assert [(r.name, {k: v for k, v in r.counts.items() if v}, r.total) for r in rows] == [
        ("印刷车间", {"completed": 3, "in_progress": 1, "cancelled": 1}, 5),
        ("模切车间", {"completed": 1, "pending": 1}, 2),
        ("未分派", {"pending": 1}, 1),
    ]


def test_lead_time_and_on_time_delivery(world):
    lead = stats.lead_time(world.admin, march())
    assert (lead.completed, lead.on_time) == (2, 1)  # WO2 finished 01:00 on 03-11 at the plant, due 03-10
    assert lead.average_seconds == pytest.approx((WO1_LEAD + WO2_LEAD) / 2)
    assert lead.on_time_rate == 0.5


@pytest.mark.parametrize("department, tasks, quantity, defective, average, lead, on_time", [
    ("printing", 3, 2100, 220, (12600 + 3600) / 2, (WO1_LEAD + WO2_LEAD) / 2, 1),
    ("die_cutting", 1, 500, 0, 3600, WO1_LEAD, 1),
    ("production", 4, 2600, 220, 6600, (WO1_LEAD + WO2_LEAD) / 2, 1),  # its workshops included
    ("design", 0, 0, 0, None, None, 0),
])
def test_the_department_filter_applies_to_tasks_and_work_orders(world, department, tasks, quantity, defective,
                                                                average, lead, on_time):
    filters = march(department_id=getattr(world, department).id)
    totals = stats.completion_totals(world.admin, filters)
    assert (totals.tasks, totals.quantity, totals.defective) == (tasks, quantity, defective)
    assert totals.average_work_seconds == (pytest.approx(average) if average else None)
    result = stats.lead_time(world.admin, filters)
    assert result.average_seconds == (pytest.approx(lead) if lead else None)
    assert result.on_time == on_time


@pytest.mark.parametrize("who, tasks, quantity, work_orders", [
    ("maker", 4, 2600, 2),
    ("other_maker", 0, 0, 0),  # WO3 is not completed, T10 was completed in February
    ("sales", 2, 1500, 1),  # 客户甲's WO1 only
    ("designer", 0, 0, 2),  # designers see every 施工单 but no task
])
def test_statistics_count_only_what_the_viewer_sees(world, who, tasks, quantity, work_orders):
    user = getattr(world, who)
    totals = stats.completion_totals(user, march())
    assert (totals.tasks, totals.quantity) == (tasks, quantity)
    assert stats.lead_time(user, march()).completed == work_orders


def test_period_edges_are_plant_days(world):
    february_27 = stats_periods.StatsFilters(stats_periods.Period(date(2026, 2, 27), date(2026, 2, 27)))
    assert stats.completion_totals(world.admin, february_27).tasks == 1
    march_5 = stats_periods.StatsFilters(stats_periods.Period(date(2026, 3, 5), date(2026, 3, 5)))
    assert stats.completion_totals(world.admin, march_5).tasks == 1  # T1; T2 is 03-06 at the plant


def figures(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-figure="(\w+)"><span class="label">[^<]*</span><div class="num">([^<]*)</div>', html))


def test_the_statistics_page(client, sign_in, world):
    sign_in(world.admin)
    response = client.get("/stats", query_string={**MARCH, "granularity": "week"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert figures(html) == {"completed_tasks": "4", "completed_quantity": "2600", "defect_rate": "7.8%",
                             "average_work": "1.8 小时", "lead_time": "8.9 天", "on_time_rate": "50.0%"}
    ranking = re.findall(r'<tr data-operator="\d+"><td>(\d+)</td><td>([^<]+)</td>\s*<td>[^<]*</td><td>(\d+)</td>\s*'
                         r'<td>(\d+)</td><td>(\d+)</td><td>([^<]+)</td>\s*<td>([^<]+)</td></tr>', html)
    assert ranking == [("1", "刘师傅", "2", "1800", "220", "10.9%", "3.5 小时"),
                       ("2", "黄师傅", "1", "500", "0", "0.0%", "1.0 小时"),
                       ("3", "杨师傅", "1", "300", "0", "0.0%", "1.0 小时")]
    chart = json.loads(re.search(r"id=\"chart-completions\"[^>]*data-chart='([^']+)'", html).group(1))
    assert chart["data"]["labels"][1] == "03-02~03-08"
    assert chart["data"]["datasets"][0]["data"] == [0, 3, 1, 0, 0, 0]
    table = re.search(r'<table class="table" id="table-completions">(.*?)</table>', html, re.S).group(1)
    assert "<td>03-02~03-08</td><td>3</td><td>2300</td>" in table
    departments = json.loads(re.search(r"id=\"chart-departments\"[^>]*data-chart='([^']+)'", html).group(1))
    assert departments["data"]["labels"] == ["印刷车间", "模切车间", "未分派"]
    assert "<td>印刷车间</td><td>0</td><td>1</td><td>0</td><td>3</td><td>1</td><td>5</td>" in html
    assert 'src="/static/js/vendor/chart-4.6.1.umd.min.js"' in html


def test_an_empty_period_shows_dashes_not_zero_percent(client, sign_in, world):
    sign_in(world.admin)
    html = client.get("/stats", query_string={"date_from": "2025-01-01", "date_to": "2025-01-31"}).get_data(as_text=True)
    assert figures(html) == {"completed_tasks": "0", "completed_quantity": "0", "defect_rate": "—",
                             "average_work": "—", "lead_time": "—", "on_time_rate": "—"}
    assert "期间内没有完成的任务" in html


def test_the_default_period_is_the_last_30_days(client, sign_in, world):
    from datetime import timedelta

    from app.utils.timeutil import plant_today

    sign_in(world.admin)
    html = client.get("/stats").get_data(as_text=True)
    today = plant_today()
    assert f"统计期间：{today - timedelta(days=29)} 至 {today}" in html


@pytest.mark.parametrize("query, field, error", [
    ({"date_from": "2026-03-31", "date_to": "2026-03-01"}, "date_to", "结束日期不能早于开始日期"),
    ({"date_from": "2026-13-01", "date_to": "2026-03-01"}, "date_from", "请输入有效日期（年-月-日）"),
    ({"date_from": "2024-01-01", "date_to": "2026-03-01"}, "date_to", "统计期间最长 366 天"),
])
@pytest.mark.parametrize("path", ["/stats", "/stats/collaboration", "/stats/assignments"])
def test_a_bad_period_is_explained_next_to_its_field(client, sign_in, world, path, query, field, error):
    sign_in(world.admin)
    response = client.get(path, query_string=query)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert re.search(rf'name="{field}"[^>]*>\s*<span class="field-error">{error}</span>', html)
    assert 'data-figure=' not in html


# ---------------------------------------------------------------- 协作统计

def test_collaboration_rows(world):
    rows = stats.operator_rows(world.admin, march(), with_workload=True)
    assert [(r.operator.name, r.completed_tasks, dict(r.open_counts), r.work_seconds) for r in rows] == [
        ("刘师傅", 2, {"pending": 0, "in_progress": 1, "paused": 0}, 14400),  # T1 3.5 h + T4 0.5 h; T5 still open
        ("黄师傅", 1, {"pending": 0, "in_progress": 0, "paused": 0}, 3600),
        ("杨师傅", 1, {"pending": 0, "in_progress": 0, "paused": 0}, 1800),
    ]
    assert rows[0].completion_rate == pytest.approx(2 / 3)
    summary = stats.team_summary(rows)
    assert (summary.operators, summary.tasks, summary.completed_tasks, summary.quantity, summary.defective) == \
        (3, 5, 4, 2600, 220)


@pytest.mark.parametrize("filters, expected", [
    ({"operator": "liu"}, [("刘师傅", 2, 1, 14400)]),
    ({"department": "die_cutting"}, [("黄师傅", 1, 0, 3600)]),
    ({"department": "printing"}, [("刘师傅", 2, 1, 14400), ("杨师傅", 1, 0, 1800)]),
])
def test_collaboration_filters_apply_to_the_tasks_too(world, filters, expected):
    kwargs = {}
    if "operator" in filters:
        kwargs["operator_id"] = getattr(world, filters["operator"]).id
    if "department" in filters:
        kwargs["department_id"] = getattr(world, filters["department"]).id
    rows = stats.operator_rows(world.admin, march(**kwargs), with_workload=True)
    assert [(r.operator.name, r.completed_tasks, r.open_tasks, r.work_seconds) for r in rows] == expected


def test_the_collaboration_page(client, sign_in, world):
    sign_in(world.supervisor)
    html = client.get("/stats/collaboration", query_string=MARCH).get_data(as_text=True)
    assert figures(html) == {"operators": "3", "tasks": "5", "completed_tasks": "4", "quantity": "2600",
                             "defective": "220", "defect_rate": "7.8%"}
    row = re.search(rf'<tr data-operator="{world.liu.id}">(.*?)</tr>', html, re.S).group(1)
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", row, re.S)]
    assert cells == ["刘师傅", "印刷车间", "2", "1", "0", "0", "66.7%", "1800", "220", "10.9%", "3.5 小时", "4.0 小时"]


# ---------------------------------------------------------------- 分派历史

def test_assignment_history(world):
    history = stats_assignment_history.assignment_history(march())
    assert (history.total, history.tasks, history.departments, history.operators) == (7, 5, 2, 3)
    assert [(r.entry.action, r.task.number, r.change) for r in history.rows] == [
        ("unassign", world.t6.number, "取消 黄师傅 的分配"),
        ("assign", world.t5.number, "指派给 刘师傅（自动）"),
        ("reassign", world.t4.number, "刘师傅 → 杨师傅；原因：刘师傅请假"),
        ("move", world.t2.number, "印刷车间 → 模切车间；原因：印刷车间设备故障"),
        ("assign", world.t4.number, "指派给 刘师傅"),
        ("claim", world.t1.number, "刘师傅 认领"),
        ("dispatch", world.t1.number, "分派到 印刷车间"),
    ]


@pytest.mark.parametrize("filters, total", [
    ({"department": "die_cutting"}, 2),  # moved in, and unassigned there
    ({"department": "printing"}, 6),  # includes the move out of 印刷车间
    ({"department": "production"}, 7),
    ({"department": "design"}, 0),
    ({"operator": "huang"}, 1),
    ({"operator": "liu"}, 4),  # claimed, assigned, reassigned away, assigned automatically
    ({"operator": "yang"}, 1),
])
def test_assignment_history_filters(world, filters, total):
    kwargs = {}
    if "operator" in filters:
        kwargs["operator_id"] = getattr(world, filters["operator"]).id
    if "department" in filters:
        kwargs["department_id"] = getattr(world, filters["department"]).id
    assert stats_assignment_history.assignment_history(march(**kwargs)).total == total


def test_the_assignment_history_page(client, sign_in, world):
    sign_in(world.admin)
    html = client.get("/stats/assignments", query_string={**MARCH, "operator": world.liu.id}).get_data(as_text=True)
    assert figures(html) == {"total": "4", "tasks": "3", "departments": "1", "operators": "2"}
    actions = re.findall(r'<tr data-action="(\w+)">', html)
    assert actions == ["assign", "reassign", "assign", "claim"]
    assert "系统" in html and "当前分派" in html and "印刷车间 / 刘师傅" in html
