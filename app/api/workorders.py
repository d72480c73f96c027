"""施工单: list, detail, create, and the approval steps (submit, approve, reject)."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.api import bp
from app.api.resources import (
    WORK_ORDER,
    WORK_ORDER_DETAIL,
    WORK_ORDER_RESULT,
    page_of,
    page_schema,
    work_order_detail_json,
    work_order_json,
)
from app.api.spec import (
    DATE,
    ID,
    PAGE_SIZES,
    QUANTITY_MAX,
    array,
    enum,
    integer,
    obj,
    operation,
    pagination,
    parse_date,
    string,
)
from app.enums import ApprovalStatus, PrintingType, Priority, WorkOrderStatus
from app.extensions import db
from app.models import WorkOrder
from app.policy import require
from app.services.workorders import common, editing, inputs, queries
from app.services.workorders.transitions import transition as take_transition
from app.services.workorders.transitions import transition_message
from app.views import create_once

TAG = "施工单"
TEXT_MAX = 1000

LIST_QUERY = {
    "q": string(100, description="搜索：施工单号、产品名称/编码、客户名称"),
    "approval_status": enum(ApprovalStatus.values(), description="审核状态"),
    "status": enum(WorkOrderStatus.values(), description="生产状态"),
    "priority": enum(Priority.values(), description="优先级"),
    "customer_id": integer(1, description="客户编号"),
    "salesperson_id": integer(1, description="业务员编号"),
    "created_by_id": integer(1, description="制单人编号"),
    "delivery_from": {**DATE, "description": "交货日期从（含）"},
    "delivery_to": {**DATE, "description": "交货日期至（含）"},
    "overdue": {"type": "boolean", "description": "仅看逾期未完成"},
    "sort": enum(queries.SORTS, description="排序"),
    **pagination(),
}

QUANTITY = integer(0, QUANTITY_MAX)
CREATE_BODY = obj({
    "customer_id": {**ID, "description": "客户编号"},
    "order_date": {**DATE, "description": "下单日期"},
    "delivery_date": {**DATE, "description": "交货日期（不早于下单日期）"},
    "production_quantity": {**QUANTITY, "description": "生产数量（车）"},
    "spoilage_quantity": {**QUANTITY, "description": "预损数量（车）"},
    "priority": enum(Priority.values(), description="优先级，默认 normal"),
    "printing_type": enum(PrintingType.values(), description="印刷形式，默认 none"),
    "cmyk_colors": array(enum(common.CMYK), uniqueItems=True, maxItems=4),
    "other_colors": array(string(30, 1), maxItems=20, description="专色"),
    "notes": string(TEXT_MAX),
    "products": array(obj({"product_id": ID, "quantity": integer(1, QUANTITY_MAX), "unit": string(10),
                           "specification": string(100)}, required=("product_id", "quantity")), maxItems=50),
    "materials": array(obj({"material_id": ID, "size": string(100), "usage": string(100),
                            "need_cutting": {"type": "boolean"}, "notes": string(255)},
                           required=("material_id",)), maxItems=50),
    "steps": array(obj({"process_id": ID, "sequence": integer(0, 10_000), "department_id": ID},
                       required=("process_id",)), maxItems=50, description="工序；不填部门则按分派规则"),
    "plate_ids": array(ID, uniqueItems=True, maxItems=50, description="使用的版型编号"),
    "submit": {"type": "boolean", "description": "true = 保存后立即提交审核"},
}, required=("customer_id", "order_date", "delivery_date"))

VERSION = integer(1, description="施工单的 version（乐观锁）：原样提交读到的值")
TRANSITION_BODIES = {
    "submit": obj({"version": VERSION}, required=("version",)),
    "approve": obj({"version": VERSION, "comment": {**string(TEXT_MAX), "description": "审核意见"}},
                   required=("version",)),
    "reject": obj({"version": VERSION, "reason": {**string(TEXT_MAX), "description": "拒绝原因（必填）"}},
                  required=("version", "reason")),
}
TRANSITION_SUMMARIES = {"submit": _l("提交施工单审核"), "approve": _l("审核通过施工单（任务随即分派）"),
                        "reject": _l("审核拒绝施工单（须填写原因）")}


@operation(bp, "GET", "/workorders", summary=_l("施工单列表（筛选、搜索、排序与分页）"), tag=TAG, query=LIST_QUERY,
           response=page_schema(WORK_ORDER), errors=(403,))
def work_order_list(query: dict):
    require(current_user, "workorder.list")
    filters = queries.ListFilters(
        **{name: query[name] for name in ("q", "approval_status", "status", "priority", "customer_id",
                                           "salesperson_id", "created_by_id", "overdue", "sort") if name in query},
        delivery_from=parse_date(query.get("delivery_from")), delivery_to=parse_date(query.get("delivery_to")))
    result = queries.list_work_orders(current_user, filters, query.get("page", 1), query.get("per_page", PAGE_SIZES[0]))
    return page_of([work_order_json(wo) for wo in result.items], result)


@operation(bp, "GET", "/workorders/{work_order_id}", summary=_l("施工单详情（含产品、物料、工序和任务）"), tag=TAG,
           response=WORK_ORDER_DETAIL, errors=(403, 404))
def work_order_detail(work_order_id: int):
    work_order = queries.get_for_detail(work_order_id)
    require(current_user, "workorder.view", work_order)
    return work_order_detail_json(work_order)


@operation(bp, "POST", "/workorders", summary=_l("新建施工单（草稿，可选择立即提交审核）"), tag=TAG, body=CREATE_BODY,
           response=WORK_ORDER_RESULT, status=201, errors=(403, 409, 422),
           description=_l("请求头 Idempotency-Key（8–100 个字母、数字或 _.:-）使重试安全：同一用户以同一个键再次请求时，"
                          "不会再建新的施工单，而是返回第一次创建的施工单。"))
def work_order_create(body: dict):
    require(current_user, "workorder.create")
    submit = body.get("submit", False)
    work_order = create_once(WorkOrder, lambda: editing.create(current_user, _input(body), submit=submit)).record
    number = work_order.number
    db.session.commit()
    message = _("施工单 %(number)s 已提交审核", number=number) if submit else \
        _("施工单 %(number)s 已保存为草稿", number=number)
    return {"message": message, "work_order": work_order_detail_json(queries.get_for_detail(work_order.id))}


def _input(body: dict) -> inputs.WorkOrderInput:
    return inputs.WorkOrderInput(
        customer_id=body["customer_id"], order_date=parse_date(body["order_date"]),
        delivery_date=parse_date(body["delivery_date"]),
        production_quantity=body.get("production_quantity", 0), spoilage_quantity=body.get("spoilage_quantity", 0),
        priority=body.get("priority", "normal"), printing_type=body.get("printing_type", "none"),
        cmyk_colors=body.get("cmyk_colors", []), other_colors=[c.strip() for c in body.get("other_colors", [])],
        notes=body.get("notes", "").strip(),
        products=[inputs.ProductLineInput(product_id=line["product_id"], quantity=line["quantity"],
                                          unit=line.get("unit", "").strip(),
                                          specification=line.get("specification", "").strip())
                  for line in body.get("products", [])],
        materials=[inputs.MaterialLineInput(material_id=line["material_id"], size=line.get("size", "").strip(),
                                            usage=line.get("usage", "").strip(),
                                            need_cutting=line.get("need_cutting", False),
                                            notes=line.get("notes", "").strip())
                   for line in body.get("materials", [])],
        steps=[inputs.StepInput(process_id=step["process_id"], sequence=step.get("sequence", index),
                                department_id=step.get("department_id"))
               for index, step in enumerate(body.get("steps", []))],
        plate_ids=body.get("plate_ids", []),
    )


def _register_transition(action: str) -> None:
    """POST /workorders/{id}/<action>: the page's transition; the service checks policy."""
    text_field = {"approve": "comment", "reject": "reason"}.get(action)

    def transition(work_order_id: int, body: dict):
        take_transition(action, current_user, work_order_id, body["version"],
                        body.get(text_field, "") if text_field else "")
        db.session.commit()
        return {"message": transition_message(action, work_order_id),
                "work_order": work_order_detail_json(queries.get_for_detail(work_order_id))}

    transition.__name__ = f"work_order_{action}"
    operation(bp, "POST", f"/workorders/{{work_order_id}}/{action}", summary=TRANSITION_SUMMARIES[action], tag=TAG,
              body=TRANSITION_BODIES[action], response=WORK_ORDER_RESULT, errors=(403, 404, 409, 422))(transition)


for _action in TRANSITION_SUMMARIES:
    _register_transition(_action)
