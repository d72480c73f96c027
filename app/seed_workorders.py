"""Demo 施工单 in every state, made through the real services as the demo users.

Called by ``app.seed.load_demo()`` after the demo users, customers, products and plates exist.
Idempotent: each demo 施工单 carries its marker in 备注 and is made only once. Anything it needs
that is missing (a user, customer, product or plate) makes it skip that 施工单, never fail.
Like the other loaders it does not commit.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Customer, Plate, Process, Product, User, WorkOrder
from app.services.workorders import approval, editing, inputs, production
from app.utils.timeutil import plant_today


@dataclass(frozen=True)
class DemoWorkOrder:
    marker: str
    maker: str
    customer: str
    products: tuple[tuple[str, int], ...]
    plates: tuple[str, ...]
    quantity: int
    due_in_days: int
    priority: str = "normal"
    # after creation: "draft", "submit", "reject", "approve" or "pause"
    state: str = "draft"


DEMO_WORK_ORDERS = (
    DemoWorkOrder("【演示】草稿：宣传册", "maker1", "青禾文化传媒", (("PR001", 2000),), ("ART202611002",), 2000, 14),
    DemoWorkOrder("【演示】待审核：包装盒", "maker1", "华美包装有限公司", (("PR005", 5000),),
                  ("ART202611001", "DIE202611001", "FP202611001"), 1250, 10, "high", "submit"),
    DemoWorkOrder("【演示】已拒绝：名片", "sales1", "青禾文化传媒", (("PR002", 100),), ("ART202611002",), 50, 7,
                  state="reject"),
    DemoWorkOrder("【演示】已审核：画册", "maker1", "青禾文化传媒", (("PR004", 800),), ("ART202611003", "EP202611001"),
                  800, 5, "urgent", "approve"),
    DemoWorkOrder("【演示】已暂停：展示牌与海报", "maker1", "华美包装有限公司", (("PR006", 300), ("PR003", 500)),
                  ("ART202611001", "DIE202611002"), 400, 12, state="pause"),
)
APPROVER = "sales1"
MANAGER = "admin"
REJECT_REASON = "客户要求更换纸张，请修改后重新提交"
PAUSE_REASON = "等待客户确认颜色"


def load_demo_work_orders() -> None:
    existing = set(db.session.scalars(select(WorkOrder.notes).where(WorkOrder.notes.like("【演示】%"))))
    for demo in DEMO_WORK_ORDERS:
        if demo.marker not in existing:
            make_demo_work_order(demo)


def make_demo_work_order(demo: DemoWorkOrder) -> WorkOrder | None:
    """The 施工单 taken as far as ``demo.state`` says, or None when something it needs is missing."""
    users = {u.username: u for u in db.session.scalars(
        select(User).where(User.username.in_((demo.maker, APPROVER, MANAGER))))}
    customer = db.session.scalar(select(Customer).where(Customer.name == demo.customer))
    products = {p.code: p for p in db.session.scalars(
        select(Product).options(selectinload(Product.default_processes), selectinload(Product.default_materials))
        .where(Product.code.in_([code for code, _qty in demo.products])))}
    plates = list(db.session.scalars(select(Plate).where(Plate.code.in_(demo.plates))))
    if (demo.maker not in users or customer is None or len(products) != len(demo.products)
            or len(plates) != len(demo.plates)):
        return None
    process_ids = []
    for code, _quantity in demo.products:
        for item in products[code].default_processes:
            if item.process_id not in process_ids:
                process_ids.append(item.process_id)
    processes = {p.id: p for p in db.session.scalars(select(Process).where(Process.id.in_(process_ids)))}
    materials = [item for code, _quantity in demo.products for item in products[code].default_materials]
    today = plant_today()
    data = inputs.WorkOrderInput(
        customer_id=customer.id, order_date=today, delivery_date=today + timedelta(days=demo.due_in_days),
        production_quantity=demo.quantity, priority=demo.priority, printing_type="front",
        cmyk_colors=["C", "M", "Y", "K"], notes=demo.marker,
        products=[inputs.ProductLineInput(products[code].id, quantity, unit=products[code].unit)
                  for code, quantity in demo.products],
        materials=[inputs.MaterialLineInput(item.material_id, size=item.size, usage=item.usage,
                                            need_cutting=item.need_cutting, notes=item.notes) for item in materials],
        steps=[inputs.StepInput(pid, processes[pid].sort_order) for pid in process_ids],
        plate_ids=[plate.id for plate in plates],
    )
    work_order = editing.create(users[demo.maker], data, submit=demo.state != "draft")
    approver, manager = users.get(APPROVER), users.get(MANAGER)
    if demo.state == "reject" and approver:
        approval.reject(approver, work_order.id, work_order.version, REJECT_REASON)
    if demo.state in ("approve", "pause") and approver:
        approval.approve(approver, work_order.id, work_order.version, "演示：同意生产")
    if demo.state == "pause" and manager and work_order.approval_status == "approved":
        production.pause(manager, work_order.id, work_order.version, PAUSE_REASON)
    db.session.flush()
    return work_order
