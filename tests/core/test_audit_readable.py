"""Every audit and history line reads in words: labels, statuses, reasons and names, never keys, codes or ids.

The kinds of rows come from the code itself (every action and detail key the services write), and a day of
the plant made through the services is read back on the 操作日志, the task pages and the 施工单 page.
"""
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import select

from app.enums import TaskAction, TaskStatus, WorkOrderStatus
from app.extensions import db
from app.models import AuditLog, Department, Task
from app.services.core import audit_text, settings
from app.services.dispatch import assignment
from app.services.tasks import actions as tasks
from app.services.workorders import approval, production
from app.services.workorders import drafts as workorder_drafts
from factories import UserFactory
from support.workorders import build_plant, create, fresh, submitted_rejected_resubmitted, tasks_of

APP = Path(__file__).resolve().parents[2] / "app"
# The action of every audit row the code writes: record(actor, type, id, "action"…), _record(actor, x, "action"…),
# record_change(actor, type, id, "action"…), or action="…" in a row of record_many.
ACTION_PATTERNS = [
    re.compile(r'audit\.record\(\s*\w+,\s*"\w+",\s*[\w.]+,\s*"(\w+)"'),
    re.compile(r'_record\(\s*actor,\s*\w+,\s*"(\w+)"'),
    re.compile(r'record_change\(\s*actor,\s*"\w+",\s*[\w.]+,\s*"(\w+)"'),
    re.compile(r'action="(\w+)"'),
]
DETAIL = re.compile(r'detail=\{([^{}]*)\}')
# How a change is written, not what it says: {"before": …, "after": …} and a setting's {"key": …}.
STRUCTURE = {"after", "key"}
DETAIL_KEY = re.compile(r'"(\w+)":')


def _source() -> str:
    return "\n".join(path.read_text() for path in APP.rglob("*.py"))


def test_every_action_the_services_write_has_words():
    source = _source()
    actions = {action for pattern in ACTION_PATTERNS for action in pattern.findall(source)}
    # The variable actions: the shop floor's (assign/reassign, report/complete…) and the step's roll-up.
    actions |= set(TaskAction.labels) | {"complete", "skip", "reopen", "submit", "resubmit"}
    assert {"release", "draft_update", "claim", "dispatch", "purge"} <= actions
    unlabeled = {action for action in actions if audit_text.action_label(action) == action}
    assert unlabeled == set()


def test_every_detail_key_the_services_write_has_a_label():
    keys = {key for body in DETAIL.findall(_source()) for key in DETAIL_KEY.findall(body)}
    assert {"from_operator_id", "pause_reason", "completed_before", "drafts_deleted"} <= keys
    assert {key for key in keys - STRUCTURE if key not in audit_text.FIELDS} == set()


class _Text(HTMLParser):
    """The words a person sees: text outside <script>/<style>, attributes left out."""

    def __init__(self):
        super().__init__()
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style") and self._skip > 0

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(response) -> str:
    assert response.status_code == 200
    parser = _Text()
    parser.feed(response.get_data(as_text=True))
    return " ".join(parser.parts)


@pytest.fixture()
def plant_day(seeded):
    """A 施工单's life through the services: drafts edited, rejected, approved, tasks assigned, moved,
    claimed, worked, paused for a reason, reported and completed, the 施工单 paused and resumed."""
    plant = build_plant(seeded)
    second_operator = UserFactory(username="op_printing2", name="杨师傅", roles=["operator"],
                                  departments=[plant.department("printing")])
    work_order = create(plant.maker, plant.work_order_input())
    drafts = tasks_of(work_order.id)
    workorder_drafts.update_draft(plant.maker, work_order.id, drafts[0].id, drafts[0].version, quantity=777,
                                  requirements="加急", notes="先做")
    workorder_drafts.add_draft(plant.maker, work_order.id, drafts[0].step_id, quantity=10, content="补印")
    db.session.commit()
    workorder_drafts.bulk_delete_drafts(plant.maker, work_order.id, [tasks_of(work_order.id)[-1].id])
    db.session.commit()
    submitted_rejected_resubmitted(plant, work_order.id, "纸张不对")
    approval.approve(plant.sales, work_order.id, fresh(work_order.id).version)
    db.session.commit()

    printing = plant.department("printing")
    printing_tasks = [t for t in tasks_of(work_order.id) if t.department_id == printing.id]
    worked, moved = printing_tasks[0], printing_tasks[-1]
    assignment.assign(worked.id, second_operator.id, plant.supervisor, worked.version)
    db.session.commit()
    assignment.assign(worked.id, plant.operator.id, plant.supervisor, db.session.get(Task, worked.id).version,
                      reason="换人")
    db.session.commit()
    assignment.unassign(worked.id, plant.supervisor, db.session.get(Task, worked.id).version, reason="重排")
    db.session.commit()
    task = db.session.get(Task, worked.id)
    tasks.claim(task, plant.operator, task.version)
    tasks.start(task, plant.operator, task.version)
    tasks.pause(task, plant.operator, task.version, "equipment", "换辊")
    tasks.resume(task, plant.operator, task.version)
    tasks.report(task, plant.operator, task.version, 100, 3, "套色不准")
    db.session.commit()
    production.pause(plant.admin, work_order.id, fresh(work_order.id).version, "等客户")
    db.session.commit()
    production.resume(plant.admin, work_order.id, fresh(work_order.id).version)
    db.session.commit()
    task = db.session.get(Task, worked.id)
    tasks.complete(task, plant.operator, task.version, "数量已够")
    if moved.id != worked.id:
        other = db.session.scalar(select(Department).where(Department.code != "printing",
                                                           Department.code == "die_cutting"))
        moved = db.session.get(Task, moved.id)
        try:
            assignment.move(moved.id, other.id, plant.admin, moved.version, "转模切")
        except Exception:  # the preset die-cutting department may not handle this process: no move then
            db.session.rollback()
    settings.update(plant.admin, {"operator_task_cap": 12})
    db.session.commit()
    return plant, work_order, worked, [plant.operator, second_operator]


def _raw_words(rows) -> set[str]:
    """What must never be read on a page: the codes and keys the rows store."""
    words = set()
    for row in rows:
        words.add(row.action)
        words.update(key for key in (row.detail or {}) if "_" in key or key in ("release", "manual", "auto"))
        for status in (row.from_status, row.to_status):
            if status and "_" in status:
                words.add(status)
    words.update(value for value in TaskStatus.values() + WorkOrderStatus.values() if "_" in value)
    words.update({"equipment", "_id"})
    return {word for word in words if not re.fullmatch(r"[\u4e00-\u9fff]+", word)}


def _assert_readable(text: str, raw: set[str]) -> None:
    leaked = {word for word in raw if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text)}
    assert leaked == set(), text[:3000]
    # No field shown by an id: "原操作员：12", "#12".
    assert re.findall(r"(?:操作员|部门|工序|客户|物料)\s*[:：]\s*\d+\b", text) == []
    assert re.findall(r"#\d+", text) == []


def test_the_operations_log_reads_in_words(plant_day, client, login):
    plant, _work_order, _task, operators = plant_day
    rows = db.session.scalars(select(AuditLog)).all()
    assert {"release", "dispatch", "draft_update", "draft_add", "draft_delete", "assign", "reassign", "unassign",
            "claim", "pause", "report", "reject"} <= {row.action for row in rows}
    login(plant.admin)
    pages = -(-len(rows) // 20)  # the log shows 20 rows a page
    text = " ".join(visible_text(client.get(f"/admin/audit?page={page}")) for page in range(1, pages + 1))
    _assert_readable(text, _raw_words(rows))
    for words in ("下达", "修改草稿任务", "设备故障", "完成数量", "新操作员", operators[1].name):
        assert words in text


def test_a_task_history_reads_in_words(plant_day, client, login):
    plant, _work_order, task, operators = plant_day
    rows = db.session.scalars(select(AuditLog).where(AuditLog.task_id == task.id)).all()
    login(plant.admin)
    text = visible_text(client.get(f"/tasks/{task.id}"))
    _assert_readable(text, _raw_words(rows))
    # Who the task went from and to, by name; the release in words.
    assert "新部门：印刷车间" in text
    assert "下达" in text and f"原操作员：{operators[1].name}" in text and f"新操作员：{operators[0].name}" in text


def test_the_work_order_history_reads_in_words(plant_day, client, login):
    plant, work_order, _task, _operators = plant_day
    rows = db.session.scalars(select(AuditLog).where(AuditLog.work_order_id == work_order.id)).all()
    login(plant.admin)
    text = visible_text(client.get(f"/workorders/{work_order.id}"))
    _assert_readable(text, _raw_words(rows))
    assert "修改草稿任务" in text and "删除草稿任务" in text
