"""What the kiosk shows: the operator's open tasks, the claimable ones, and one card per task."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload

from app import policy
from app.enums import FINISHED_STEP_STATUSES, OPEN_TASK_STATUSES, PRIORITY_RANK
from app.extensions import db
from app.models import Process, Task, WorkOrder, WorkOrderStep
from app.rules.task_claiming import CLAIMABLE_WORK_ORDER_CONDITIONS, claimable_task_conditions, place_in_lists
from app.services.core import settings
from app.services.dispatch import capacity
from app.services.tasks import actions as task_service

# What a card shows of its 施工单 (and what blocker() reads): the rest stays unloaded.
CARD_WORK_ORDER_COLUMNS = (WorkOrder.number, WorkOrder.priority, WorkOrder.delivery_date, WorkOrder.status,
                           WorkOrder.approval_status)
CLAIMABLE_PAGE_SIZE = 12  # about two screens of a 1024×768 kiosk
# Cards after the first page sent along, hidden: when a card leaves the page (another kiosk claimed it), the
# page takes the next one from here in place instead of every kiosk of the workshop asking for the list again
# (static/js/live.js droppedInPlace). Each is a card rendered into a shared render, and most of a workshop's
# claims come from the top of the same list.
CLAIMABLE_RESERVE = 3
# 进行中 / 已暂停 / 待开始, in that order on the kiosk.
MY_GROUPS = ("in_progress", "paused", "pending")


@dataclass(frozen=True)
class KioskCardRow:
    """Everything a task card (tasks/_task_card.html) shows, read once from the task, its 施工单 and
    step: the card is rendered from this alone, and this is also the key its HTML is cached under
    (app.templating.cached_fragment), so a card cannot show a value its key does not hold."""

    id: int
    version: int
    number: str
    status: str
    content: str
    process_name: str
    completed_quantity: int
    target_quantity: int
    defective_quantity: int
    progress_percent: int
    pause_reason: str | None
    pause_note: str | None
    production_requirements: str | None
    work_order_number: str
    priority: str
    delivery_date: date | None
    # The buttons, the primary one first (app.services.tasks.actions.available_actions), and why not others.
    actions: tuple[str, ...]
    reason: str | None
    # Advisory only (DOMAIN §8): the unfinished step before this one; it does not block.
    waiting_for: str | None
    highlighted: bool

    @property
    def order(self) -> str:
        """Where the card stands in a 可认领 list (its data-order): live.js compares an arriving task's place with
        the last card it holds."""
        return "|".join(str(part) for part in (*place_in_lists(self.priority, self.delivery_date), self.id))


def card_row(task: Task, actions, reason, waiting_for: str | None = None, highlighted: bool = False) -> KioskCardRow:
    work_order = task.work_order
    return KioskCardRow(
        task.id, task.version, task.number, task.status, task.content, task.step.process.name,
        task.completed_quantity, task.target_quantity, task.defective_quantity, task.progress_percent,
        task.pause_reason, task.pause_note, task.production_requirements,
        work_order.number, work_order.priority, work_order.delivery_date,
        tuple(actions), str(reason) if reason else None, waiting_for, highlighted,
    )


@dataclass
class Card:
    """A card's row and, after a refused action, the submitted form (errors next to its fields)."""

    row: KioskCardRow
    errors: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)
    open_panel: str | None = None

    def render_key(self) -> KioskCardRow | None:
        """The row: a card's HTML is reused while its row is unchanged (for one language, day and
        session); None when the card shows a submitted form, which is never cached."""
        if self.errors or self.values or self.open_panel:
            return None
        return self.row


def _urgent_first():
    """The kiosk's order: urgent 施工单 first, then by due date (then by task id)."""
    return case(PRIORITY_RANK, value=WorkOrder.priority, else_=1).desc(), WorkOrder.delivery_date


def load_in_order(ids: list[int]) -> list[Task]:
    """The tasks with these ids, in this order, with what a card shows of their 施工单 and step.

    The operator is the viewer (already in the session) or nobody, so it needs no loading.
    """
    if not ids:
        return []
    statement = select(Task).where(Task.id.in_(ids)).options(
        joinedload(Task.work_order).load_only(*CARD_WORK_ORDER_COLUMNS),
        joinedload(Task.step).joinedload(WorkOrderStep.process),
    )
    loaded = {task.id: task for task in db.session.scalars(statement)}
    return [loaded[task_id] for task_id in ids]


def my_open_task_ids(user, work_order_id: int | None = None) -> list[int]:
    # Task ids only: rank narrow rows, load few.
    statement = (select(Task.id).join(WorkOrder, Task.work_order_id == WorkOrder.id)
                 .where(Task.operator_id == user.id, Task.status.in_(OPEN_TASK_STATUSES))
                 .order_by(*_urgent_first(), Task.id))
    if work_order_id:
        statement = statement.where(Task.work_order_id == work_order_id)
    return list(db.session.scalars(statement))


def claimable_task_ids(user, work_order_id: int | None = None, page: int = 1,
                       exclude: list[int] | None = None, reserve: int = 0) -> tuple[list[int], int]:
    """One page of the tasks ``user`` may claim now (app.rules.task_claiming), and their total; with up to
    ``reserve`` of the tasks after the page at its end.

    A department may have thousands of candidates. They are gathered first from the tasks (a
    materialized CTE) and only then joined to their 施工单 and ranked as bare ids, the total riding
    along as a window count; ranking from the 施工单 side instead (the priority index) visits every
    open 施工单 and its tasks, three times slower at 50,000 tasks. Only the page's rows are loaded
    whole afterwards.
    """
    conditions = list(claimable_task_conditions(user))
    if work_order_id:
        conditions.append(Task.work_order_id == work_order_id)
    if exclude:  # a bound kiosk shows its workstation's queue above: each task once on the page
        conditions.append(Task.id.not_in(exclude))
    candidates = (select(Task.id, Task.work_order_id).where(*conditions).cte("candidates")
                  .prefix_with("MATERIALIZED", dialect="postgresql"))
    statement = (
        select(candidates.c.id, func.count().over().label("total"))
        .join(WorkOrder, candidates.c.work_order_id == WorkOrder.id)
        .where(*CLAIMABLE_WORK_ORDER_CONDITIONS)
        .order_by(*_urgent_first(), candidates.c.id)
        .limit(CLAIMABLE_PAGE_SIZE + reserve).offset((max(page, 1) - 1) * CLAIMABLE_PAGE_SIZE)
    )
    rows = db.session.execute(statement).all()
    return [row.id for row in rows], rows[0].total if rows else 0


def waiting_steps(tasks) -> dict[int, str]:
    """Step id → the name of the nearest earlier non-parallel step not yet finished (one query)."""
    work_order_ids = {task.work_order_id for task in tasks}
    if not work_order_ids:
        return {}
    rows = db.session.execute(
        select(WorkOrderStep.id, WorkOrderStep.work_order_id, WorkOrderStep.status, Process.name,
               Process.is_parallel)
        .join(Process, WorkOrderStep.process_id == Process.id)
        .where(WorkOrderStep.work_order_id.in_(work_order_ids))
        .order_by(WorkOrderStep.work_order_id, WorkOrderStep.sequence, WorkOrderStep.id)
    )
    waiting: dict[int, str] = {}
    unfinished_before: dict[int, str | None] = {}
    for step_id, work_order_id, status, name, parallel in rows:
        if parallel:
            continue
        previous = unfinished_before.get(work_order_id)
        if previous:
            waiting[step_id] = previous
        if status not in FINISHED_STEP_STATUSES:
            unfinished_before[work_order_id] = name
    return waiting


def build_cards(tasks, user, *, held: int | None = None, cap: int | None = None, highlight: int | None = None,
                waiting: dict[int, str] | None = None) -> list[Card]:
    """Cards for ``tasks`` as ``user`` sees them; what the caller already knows (the user's open
    task count, the cap, ``waiting_steps``) is passed in rather than queried again."""
    waiting = waiting_steps(tasks) if waiting is None else waiting
    cap = settings.get("operator_task_cap") if cap is None else cap
    cards = []
    for task in tasks:
        actions, reason = task_service.available_actions(task, user, held, cap)
        cards.append(Card(card_row(task, actions, reason, waiting.get(task.step_id), task.id == highlight)))
    return cards


def card_for(task, user, *, highlighted: bool = False, errors: dict | None = None, values: dict | None = None,
             open_panel: str | None = None) -> Card:
    card = build_cards([task], user, highlight=task.id if highlighted else None)[0]
    return Card(card.row, errors or {}, values or {}, open_panel)


def group_by_status(cards: list[Card]) -> list[tuple[str, list[Card]]]:
    return [(status, [c for c in cards if c.row.status == status]) for status in MY_GROUPS]


def kiosk_board(user, *, region: str | None, work_order_id: int | None, highlight: int | None, page: int,
                workstation=None) -> dict:
    """Everything the kiosk page (or one of its regions: mine / claimable / scanned) shows.

    A kiosk bound to ``workstation`` (排产, DOMAIN.md §12) shows that workstation's queue in plan order
    as 我的任务, the next task first; each card with its planned start and finish."""
    board = {
        "filters": {"wo": work_order_id, "highlight": highlight}, "page": page, "page_size": CLAIMABLE_PAGE_SIZE,
        # The live-update channels each region follows (docs/LIVE.md).
        "live_channels": {
            "mine": f"user:{user.id}",
            "claimable": " ".join(f"dept:{d}" for d in sorted(user.department_ids)),
        },
        "work_order": db.session.get(WorkOrder, work_order_id) if work_order_id else None,
    }
    plant = settings.all_values()
    board["idle_seconds"] = plant["kiosk_idle_logout_seconds"]
    queue = []
    if workstation is not None:
        from app.services import planning

        queue = [block for block in planning.queue_for_workstation(workstation.id)
                 if not work_order_id or block.task.work_order_id == work_order_id]
        board["workstation"] = workstation
        board["plan"] = {block.task.id: block for block in queue}
        # The queue's tasks (their events) and its order (the department's plan): 我的任务 shows them, and
        # 可认领 leaves the queue out.
        board["live_channels"]["mine"] += f" dept:{workstation.department_id} plan:{workstation.department_id}"
        board["live_channels"]["claimable"] += f" plan:{workstation.department_id}"
    mine_ids = [block.task.id for block in queue] if workstation is not None else my_open_task_ids(user, work_order_id)
    exclude = mine_ids if workstation is not None else None
    claimable_ids, total = [], 0
    if region in (None, "claimable"):
        claimable_ids, total = claimable_task_ids(user, work_order_id, page, exclude, _reserve(page, highlight))
        if page > 1 and not claimable_ids:  # the list shrank under an old link: back to the first page
            board["page"] = 1
            claimable_ids, total = claimable_task_ids(user, work_order_id, 1, exclude, _reserve(1, highlight))
    loaded = load_in_order(mine_ids + claimable_ids)
    mine, claimable = loaded[:len(mine_ids)], loaded[len(mine_ids):]
    known = {
        "held": capacity.open_task_count(user.id) if work_order_id or workstation is not None else len(mine),
        "cap": plant["operator_task_cap"], "highlight": highlight, "waiting": waiting_steps(mine + claimable),
    }
    # A scanned task is shown once, in 扫码结果 on top: a second copy in its list would repeat every id of its card.
    def listed(tasks):
        return [task for task in tasks if task.id != highlight]

    if region in (None, "mine"):
        if workstation is not None:
            board["queue_cards"] = build_cards(listed(mine), user, **known)
            board["my_groups"] = []
        else:
            board["my_groups"] = group_by_status(build_cards(listed(mine), user, **known))
        board["my_count"] = len(mine)
    if region in (None, "claimable"):
        cards = build_cards(listed(claimable), user, **known)
        board["claimable_cards"], board["claimable_reserve"] = cards[:CLAIMABLE_PAGE_SIZE], cards[CLAIMABLE_PAGE_SIZE:]
        board["claimable_total"] = total
        board["claimable_drops"] = bool(_reserve(board["page"], highlight))
        # Cards arriving after those it holds only raise its count (live.js): not in a kiosk bound to a
        # workstation (an arrival may join its queue instead) nor in one 施工单's list (it may be another's).
        board["claimable_arrivals"] = board["claimable_drops"] and workstation is None and not work_order_id
    if region in (None, "scanned") and highlight:
        board["scanned"] = _scanned_card(highlight, user)
    return board


def _reserve(page: int, highlight: int | None) -> int:
    """How many hidden cards a 可认领 page carries after its own: only the first page without a scanned card (its
    cards are the list's first, all shown) takes a leaving card out in place (live.js), so only it has any."""
    return CLAIMABLE_RESERVE if page == 1 and not highlight else 0


def claimable_region_key(user, *, work_order_id: int | None, highlight: int | None, page: int) -> tuple:
    """What a kiosk's 可认领 region shows that is not the same for every viewer of its department
    (app/shared_regions.py): the viewer's roles and departments (which tasks are listed, which buttons),
    the filters, and the cap when the viewer has reached it (the cards then say so instead of 认领)."""
    held, cap = capacity.open_task_count(user.id), settings.get("operator_task_cap")
    return ("kiosk-claimable", policy.viewer_scope(user), work_order_id, highlight, page,
            held if held >= cap else None, cap)


def _scanned_card(task_id: int, user) -> Card | None:
    task = db.session.get(Task, task_id)
    if task is None or not policy.can(user, "task.view", task):
        return None
    return card_for(task, user, highlighted=True)
