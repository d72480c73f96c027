"""Shared set-up of the 施工单 tests: a small plant on top of the preset data, and input builders."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.models import Department, Process, Task, WorkOrder
from app.services.workorders import approval, editing, inputs
from app.utils.timeutil import plant_today
from factories import CustomerFactory, MaterialFactory, PlateFactory, ProductFactory, UserFactory

WALK_THROUGH_PROCESSES = ("PRT", "LAM_G", "DIE", "PACK")


@dataclass
class Plant:
    maker: object
    sales: object
    other_sales: object
    supervisor: object
    admin: object
    designer: object
    operator: object
    customer: object
    other_customer: object
    brochure: object
    poster: object
    paper: object
    artwork: object
    artwork2: object
    die: object
    extra: dict = field(default_factory=dict)

    def process(self, code: str) -> Process:
        return db.session.scalar(select(Process).where(Process.code == code))

    def department(self, code: str) -> Department:
        return db.session.scalar(select(Department).where(Department.code == code))

    def work_order_input(self, processes=WALK_THROUGH_PROCESSES, plates=None, products=None, materials=(),
                         customer=None, quantity=500, **overrides) -> inputs.WorkOrderInput:
        plates = [self.artwork, self.die] if plates is None else plates
        products = [(self.brochure, 800), (self.poster, 300)] if products is None else products
        steps = []
        for code in processes:
            process = self.process(code)
            steps.append(inputs.StepInput(process.id, process.sort_order))
        values = dict(
            customer_id=(customer or self.customer).id, order_date=plant_today(),
            delivery_date=plant_today() + timedelta(days=10), production_quantity=quantity,
            products=[inputs.ProductLineInput(product.id, qty) for product, qty in products],
            materials=list(materials), steps=steps, plate_ids=[plate.id for plate in plates],
        )
        values.update(overrides)
        return inputs.WorkOrderInput(**values)

    def edit_input(self, work_order, **kwargs) -> inputs.WorkOrderInput:
        """Like the edit form: the saved product and material lines keep their ids, in order."""
        data = self.work_order_input(**kwargs)
        saved = fresh(work_order.id)
        for line, row in zip(data.products, saved.products):
            line.id = row.id
        for line, row in zip(data.materials, saved.materials):
            line.id = row.id
        return data


def build_plant(seeded) -> Plant:
    """Users of every role, two customers (one of sales1's), products, a paper and three plates."""
    departments = {d.code: d for d in db.session.scalars(select(Department))}
    sales = UserFactory(username="sales1", name="王业务", roles=["salesperson"], departments=[departments["business"]])
    other_sales = UserFactory(username="sales2", name="赵业务", roles=["salesperson"])
    customer = CustomerFactory(name="华美包装有限公司", salesperson=sales)
    return Plant(
        maker=UserFactory(username="maker1", name="李制单", roles=["maker"], departments=[departments["business"]]),
        sales=sales,
        other_sales=other_sales,
        supervisor=UserFactory(username="sup_printing", name="孙印刷", roles=["supervisor"],
                               departments=[departments["printing"]]),
        admin=UserFactory(username="admin", name="系统管理员", roles=["admin"]),
        designer=UserFactory(username="designer1", name="陈设计", roles=["designer"], departments=[departments["design"]]),
        operator=UserFactory(username="op_printing1", name="刘师傅", roles=["operator"],
                             departments=[departments["printing"]]),
        customer=customer,
        other_customer=CustomerFactory(name="远航物流集团", salesperson=other_sales),
        brochure=ProductFactory(code="PR001", name="宣传册", unit="本"),
        poster=ProductFactory(code="PR003", name="海报", unit="张"),
        paper=MaterialFactory(code="M001", name="铜版纸"),
        artwork=PlateFactory(kind="artwork", base_code="ART202611001", name="宣传册图稿"),
        artwork2=PlateFactory(kind="artwork", base_code="ART202611002", name="海报图稿"),
        die=PlateFactory(kind="die", base_code="DIE202611001", name="宣传册刀模"),
    )


def create(actor, data, *, submit=False) -> WorkOrder:
    work_order = editing.create(actor, data, submit=submit)
    db.session.commit()
    return work_order


def fresh(work_order_id: int) -> WorkOrder:
    db.session.expire_all()
    return db.session.get(WorkOrder, work_order_id)


def tasks_of(work_order_id: int) -> list[Task]:
    db.session.expire_all()
    return list(db.session.scalars(select(Task).where(Task.work_order_id == work_order_id).order_by(Task.id)))


def task_rows(work_order_id: int) -> list[tuple]:
    """(process code, type, content, target, status, department code or None) of every task."""
    return [
        (t.step.process.code, t.task_type, t.content, t.target_quantity, t.status,
         t.department.code if t.department else None)
        for t in tasks_of(work_order_id)
    ]


def submitted_rejected_resubmitted(plant: Plant, work_order_id: int, reason: str) -> None:
    """maker1 submits, sales1 rejects with ``reason``, maker1 resubmits: one commit each, as the pages do
    (``fresh()`` expires what is not yet written)."""
    approval.submit(plant.maker, work_order_id, fresh(work_order_id).version)
    db.session.commit()
    approval.reject(plant.sales, work_order_id, fresh(work_order_id).version, reason)
    db.session.commit()
    approval.resubmit(plant.maker, work_order_id, fresh(work_order_id).version)
    db.session.commit()


def approved(plant: Plant, data=None) -> WorkOrder:
    """A 施工单 created by maker1, submitted and approved by sales1."""
    work_order = create(plant.maker, data or plant.work_order_input(), submit=True)
    approval.approve(plant.sales, work_order.id, work_order.version)
    db.session.commit()
    return fresh(work_order.id)


def form_data(plant, processes=WALK_THROUGH_PROCESSES, plates=None, products=None, intent="draft",
              work_order=None, **overrides) -> MultiDict:
    """What the browser posts for a 施工单 (the edit form carries the saved line ids)."""
    plates = [plant.artwork, plant.die] if plates is None else plates
    products = [(plant.brochure, 800), (plant.poster, 300)] if products is None else products
    data = MultiDict({
        "customer_id": str(plant.customer.id), "priority": "normal", "order_date": plant_today().isoformat(),
        "delivery_date": (plant_today() + timedelta(days=10)).isoformat(), "production_quantity": "500",
        "spoilage_quantity": "0", "printing_type": "front", "other_colors": "528C，金色", "notes": "",
        "intent": intent,
    })
    saved_lines = fresh(work_order.id).products if work_order else []
    for index, (product, quantity) in enumerate(products):
        data[f"products-{index}-product_id"] = str(product.id)
        data[f"products-{index}-quantity"] = str(quantity)
        if index < len(saved_lines):
            data[f"products-{index}-line_id"] = str(saved_lines[index].id)
    for index, code in enumerate(processes):
        process = plant.process(code)
        data[f"steps-{index}-process_id"] = str(process.id)
        data[f"steps-{index}-selected"] = "y"
        data[f"steps-{index}-sequence"] = str(process.sort_order)
    for plate in plates:
        data.add(f"{plate.kind}_ids", str(plate.id))
    for color in ("C", "M", "Y", "K"):
        data.add("cmyk_colors", color)
    if work_order is not None:
        data["version"] = str(fresh(work_order.id).version)
    for key, value in overrides.items():
        data[key] = value
    return data
