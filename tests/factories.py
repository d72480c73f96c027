"""factory_boy factories for every model (Faker zh_CN)."""
from __future__ import annotations

from datetime import timedelta

import factory
from factory.alchemy import SQLAlchemyModelFactory
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from app import models as m
from app.extensions import db
from app.services.admin import api_tokens
from app.utils.timeutil import plant_today
from testkit.live import CHEAP_HASH_METHOD, PASSWORD  # noqa: F401  (re-exported: tests import them from here)

factory.Faker._DEFAULT_LOCALE = "zh_CN"

# The suite's PASSWORD_HASH_METHOD (CHEAP_HASH_METHOD): a single PBKDF2 round makes hashing and every login
# check nearly free (production's scrypt costs ~0.1 s each). Checks read the method from the stored hash.
# Hashing once keeps the suite fast; every factory user has the password "demo123456" (testkit's, which
# bench/ uses too) and PIN "1234".
PIN = "1234"
PASSWORD_HASH = generate_password_hash(PASSWORD, method=CHEAP_HASH_METHOD)
PIN_HASH = generate_password_hash(PIN, method=CHEAP_HASH_METHOD)


class Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


def role(code: str) -> m.Role:
    existing = db.session.scalar(select(m.Role).where(m.Role.code == code))
    if existing:
        return existing
    created = m.Role(code=code, name=code)
    db.session.add(created)
    db.session.flush()
    return created


class DepartmentFactory(Base):
    class Meta:
        model = m.Department

    code = factory.Sequence(lambda n: f"dept{n}")
    name = factory.Sequence(lambda n: f"部门{n}")
    sort_order = factory.Sequence(lambda n: n)
    is_active = True


class ProcessFactory(Base):
    class Meta:
        model = m.Process

    code = factory.Sequence(lambda n: f"P{n}")
    name = factory.Sequence(lambda n: f"工序{n}")
    sort_order = factory.Sequence(lambda n: 100 + n)
    is_active = True


class UserFactory(Base):
    class Meta:
        model = m.User
        exclude = ("roles_codes",)
        # One commit for the person, their roles and their departments (nearly every test makes a few people).
        sqlalchemy_session_persistence = "flush"

    username = factory.Sequence(lambda n: f"user{n}")
    name = factory.Faker("name")
    password_hash = PASSWORD_HASH
    pin_hash = PIN_HASH
    employee_no = factory.Sequence(lambda n: f"E{n:04d}")
    is_active = True

    @factory.post_generation
    def roles(obj, create, extracted, **kwargs):
        for code in extracted or ():
            obj.roles.append(code if isinstance(code, m.Role) else role(code))

    @factory.post_generation
    def departments(obj, create, extracted, **kwargs):
        for department in extracted or ():
            obj.departments.append(department)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            db.session.commit()


class CustomerFactory(Base):
    class Meta:
        model = m.Customer

    name = factory.Sequence(lambda n: f"客户{n}有限公司")
    contact_person = factory.Faker("name")
    phone = factory.Faker("phone_number")
    salesperson = None


class MaterialFactory(Base):
    class Meta:
        model = m.Material

    code = factory.Sequence(lambda n: f"M{n:04d}")
    name = factory.Sequence(lambda n: f"物料{n}")
    unit = "张"


class ProductFactory(Base):
    class Meta:
        model = m.Product

    code = factory.Sequence(lambda n: f"PR{n:04d}")
    name = factory.Sequence(lambda n: f"产品{n}")
    unit = "个"
    unit_price = 10


class ProductProcessFactory(Base):
    class Meta:
        model = m.ProductProcess

    product = factory.SubFactory(ProductFactory)
    process = factory.SubFactory(ProcessFactory)
    sort_order = 0


class ProductMaterialFactory(Base):
    class Meta:
        model = m.ProductMaterial

    product = factory.SubFactory(ProductFactory)
    material = factory.SubFactory(MaterialFactory)
    usage = "1000张"
    need_cutting = True


class PlateFactory(Base):
    class Meta:
        model = m.Plate

    kind = "artwork"
    base_code = factory.Sequence(lambda n: f"ART202611{n:04d}")
    version = 1
    code = factory.LazyAttribute(lambda o: m.Plate.full_code(o.base_code, o.version))
    name = factory.Sequence(lambda n: f"版{n}")


class PlateProductFactory(Base):
    class Meta:
        model = m.PlateProduct

    plate = factory.SubFactory(PlateFactory)
    product = factory.SubFactory(ProductFactory)
    imposition_quantity = 1


class WorkOrderFactory(Base):
    class Meta:
        model = m.WorkOrder

    number = factory.Sequence(lambda n: f"FX{n + 1:06d}")
    customer = factory.SubFactory(CustomerFactory)
    order_date = factory.LazyFunction(plant_today)
    delivery_date = factory.LazyFunction(lambda: plant_today() + timedelta(days=10))
    production_quantity = 1000
    approval_status = "draft"
    status = "pending"
    priority = "normal"
    created_by = None


class WorkOrderProductFactory(Base):
    class Meta:
        model = m.WorkOrderProduct

    work_order = factory.SubFactory(WorkOrderFactory)
    product = factory.SubFactory(ProductFactory)
    quantity = 1000


class WorkOrderMaterialFactory(Base):
    class Meta:
        model = m.WorkOrderMaterial

    work_order = factory.SubFactory(WorkOrderFactory)
    material = factory.SubFactory(MaterialFactory)
    usage = "1000张"
    need_cutting = True


class WorkOrderStepFactory(Base):
    class Meta:
        model = m.WorkOrderStep

    work_order = factory.SubFactory(WorkOrderFactory)
    process = factory.SubFactory(ProcessFactory)
    sequence = factory.LazyAttribute(lambda o: o.process.sort_order)


class TaskFactory(Base):
    class Meta:
        model = m.Task

    step = factory.SubFactory(WorkOrderStepFactory)
    work_order = factory.LazyAttribute(lambda o: o.step.work_order)
    number = factory.Sequence(lambda n: f"T-{n:05d}")
    task_type = "general"
    content = factory.LazyAttribute(lambda o: f"{o.step.process.name}：{o.step.work_order.number}")
    target_quantity = 1000
    status = "pending"
    department = None
    operator = None


class TimeLogFactory(Base):
    class Meta:
        model = m.TimeLog

    task = factory.SubFactory(TaskFactory)
    operator = factory.SubFactory(UserFactory)

    @factory.post_generation
    def worked_seconds(log, create, extracted, **kwargs):
        """A closed period counts in its task's worked seconds, as app.services.core.work_periods keeps them."""
        if log.ended_at is not None:
            log.task.worked_seconds = (log.task.worked_seconds or 0) + log.duration_seconds


class AuditLogFactory(Base):
    class Meta:
        model = m.AuditLog

    object_type = "task"
    object_id = 1
    action = "update"


class ApprovalLogFactory(Base):
    class Meta:
        model = m.ApprovalLog

    work_order = factory.SubFactory(WorkOrderFactory)
    action = "approve"


class AssignmentRuleFactory(Base):
    class Meta:
        model = m.AssignmentRule

    process = factory.SubFactory(ProcessFactory)
    department = factory.SubFactory(DepartmentFactory)
    priority = 50
    is_active = True
    operator_strategy = "manual"


class SettingFactory(Base):
    class Meta:
        model = m.Setting

    key = "operator_task_cap"
    value = 10


class CounterFactory(Base):
    class Meta:
        model = m.Counter

    key = factory.Sequence(lambda n: f"K{n}")
    value = 0


class NotificationFactory(Base):
    class Meta:
        model = m.Notification

    recipient = factory.SubFactory(UserFactory)
    type = "system"
    title = "系统通知"
    content = "内容"


class AuthFailureFactory(Base):
    class Meta:
        model = m.AuthFailure

    key = "pw:user:nobody"


class ApiTokenFactory(Base):
    """A token whose secret is known to the test: ``ApiTokenFactory(owner=user, secret="…")``."""

    class Meta:
        model = m.ApiToken
        exclude = ("secret",)

    secret = factory.Sequence(lambda n: f"wot_test_secret_{n}")
    name = factory.Sequence(lambda n: f"令牌{n}")
    owner = factory.SubFactory(UserFactory)
    token_hash = factory.LazyAttribute(lambda token: api_tokens.hash_secret(token.secret))
