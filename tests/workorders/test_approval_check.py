"""The approval check (DOMAIN.md §5) on unsaved 施工单: every problem at once, in Chinese."""
from datetime import date

import pytest

from app.models import (
    Customer,
    Material,
    Plate,
    Process,
    Product,
    WorkOrder,
    WorkOrderMaterial,
    WorkOrderProduct,
    WorkOrderStep,
)
from app.services.core.errors import Invalid
from app.services.workorders.approval_check import INCOMPLETE_MESSAGE, check, plate_problems, problems


@pytest.fixture()
def context(app):
    with app.test_request_context():
        yield


def process(code, name, plate_kinds=(), **flags):
    values = {f"requires_{kind}": kind in plate_kinds for kind in ("artwork", "die", "foiling", "embossing")}
    values.update({f"{kind}_required": True for kind in ("artwork", "die", "foiling", "embossing")})
    values.update(flags)
    return Process(code=code, name=name, **values)


PRT = process("PRT", "印刷", ("artwork",))
DIE = process("DIE", "模切", ("die",))
FOIL = process("FOIL_G", "烫金", ("foiling",))
EMB = process("EMB", "压凸", ("embossing",))
CTP, CUT, PACK = process("CTP", "制版"), process("CUT", "开料"), process("PACK", "包装")


def work_order(steps=(), plates=(), products=1, materials=(), quantity=100, order=date(2026, 11, 1),
               delivery=date(2026, 11, 20), customer=True):
    return WorkOrder(
        number="SG2026110001", customer_id=1 if customer else None, customer=Customer(name="客户") if customer else None,
        order_date=order, delivery_date=delivery, production_quantity=quantity,
        products=[WorkOrderProduct(product=Product(code=f"P{i}", name=f"产品{i}"), quantity=10) for i in range(products)],
        materials=list(materials), plates=list(plates),
        steps=[WorkOrderStep(process=p, sequence=seq) for p, seq in steps],
    )


def test_a_complete_work_order_has_no_problems(context):
    wo = work_order(steps=[(CTP, 1), (CUT, 2), (PRT, 3), (PACK, 21)], plates=[Plate(kind="artwork")],
                    materials=[WorkOrderMaterial(material=Material(name="铜版纸"), usage="1000张", need_cutting=True)])
    assert problems(wo) == []
    check(wo)


def test_every_problem_is_listed_at_once_with_its_field(context):
    wo = work_order(steps=[(PRT, 3), (CTP, 5), (CUT, 4), (DIE, 13), (FOIL, 8), (EMB, 10)], products=0, quantity=0,
                    order=date(2026, 11, 10), delivery=date(2026, 11, 9), customer=False,
                    materials=[WorkOrderMaterial(material=Material(name="白卡纸"), usage="若干", need_cutting=True)])
    found = [(p.field, p.message) for p in problems(wo)]
    assert found == [
        ("customer_id", "缺少客户信息"),
        ("products", "缺少产品信息"),
        ("delivery_date", "交货日期不能早于下单日期。交货日期：2026-11-09，下单日期：2026-11-10"),
        ("production_quantity", "生产数量必须大于0，当前值为0"),
        ("artwork_ids", "选择了需要图稿的工序（印刷），请至少选择一个图稿"),
        ("die_ids", "选择了需要刀模的工序（模切），请至少选择一个刀模"),
        ("foiling_ids", "选择了需要烫金版的工序（烫金），请至少选择一个烫金版"),
        ("embossing_ids", "选择了需要压凸版的工序（压凸），请至少选择一个压凸版"),
        ("materials", "物料“白卡纸”需要开料，请填写物料用量"),
        ("steps", "制版工序（CTP）应该在印刷工序（PRT）之前，请调整工序顺序"),
        ("steps", "开料工序（CUT）应该在印刷工序（PRT）之前，请调整工序顺序"),
    ]
    with pytest.raises(Invalid) as raised:
        check(wo)
    assert raised.value.message == str(INCOMPLETE_MESSAGE) == "施工单数据不完整，无法审核"
    assert raised.value.details == [message for _field, message in found]
    assert raised.value.fields["steps"] == ("制版工序（CTP）应该在印刷工序（PRT）之前，请调整工序顺序；"
                                            "开料工序（CUT）应该在印刷工序（PRT）之前，请调整工序顺序")


def test_no_steps_is_a_problem(context):
    assert [p.message for p in problems(work_order())] == ["缺少工序信息"]


def test_an_overdue_delivery_date_is_not_a_problem(context):
    wo = work_order(steps=[(PACK, 21)], order=date(2020, 1, 1), delivery=date(2020, 1, 2))
    assert problems(wo) == []


def test_a_plate_kind_is_required_only_when_requires_and_required_are_both_set(context):
    optional_artwork = process("PRT", "印刷", ("artwork",), artwork_required=False)
    no_flag = process("VAN", "过油", (), artwork_required=True)
    assert plate_problems([optional_artwork, no_flag], set()) == []
    assert [p.message for p in plate_problems([PRT, process("PRT2", "双面印刷", ("artwork",))], set())] == [
        "选择了需要图稿的工序（印刷、双面印刷），请至少选择一个图稿"]
    assert plate_problems([PRT], {"artwork"}) == []
