"""Forms of the 施工单 pages; each turns into the service's plain input objects."""
from __future__ import annotations

import re

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FileField,
    Form,
    FormField,
    HiddenField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, NumberRange, Optional

from app.enums import PLATE_KINDS, PrintingType, Priority
from app.services.workorders import common, inputs
from app.services.workorders.design_files import ALLOWED_TYPES_SHOWN
from app.utils.fields import (
    CreateOnceMixin,
    IdField,
    IntegerField,
    MultiCheckboxField,
    SelectField,
    database_int,
    optional_int,
)
from app.utils.wording import join_list

NOT_NEGATIVE = _l("不能为负数")


class ProductLineForm(Form):
    line_id = IdField()
    product_id = SelectField(_l("产品"), coerce=optional_int, validate_choice=False)
    quantity = IntegerField(_l("数量"), validators=[Optional(), NumberRange(min=1, message=_l("数量必须大于0"))])
    unit = StringField(_l("单位"))
    specification = StringField(_l("产品规格"))


class MaterialLineForm(Form):
    line_id = IdField()
    material_id = SelectField(_l("物料"), coerce=optional_int, validate_choice=False)
    size = StringField(_l("尺寸"))
    usage = StringField(_l("用量"))
    need_cutting = BooleanField(_l("需要开料"))
    notes = StringField(_l("备注"))


class StepForm(Form):
    process_id = IdField()
    selected = BooleanField(_l("选择"))
    sequence = IntegerField(_l("顺序"), validators=[Optional()])
    department_id = SelectField(_l("生产部门"), coerce=optional_int, validate_choice=False)


class WorkOrderForm(CreateOnceMixin, FlaskForm):
    """The whole 施工单 before approval. Choices are filled by ``fill_choices``."""

    version = HiddenField()
    customer_id = SelectField(_l("客户"), coerce=optional_int,
                              validators=[InputRequired(message=_l("请选择客户"))], validate_choice=False)
    priority = SelectField(_l("优先级"), choices=Priority.choices(), default="normal")
    order_date = DateField(_l("下单日期"), validators=[InputRequired(message=_l("请填写下单日期"))])
    delivery_date = DateField(_l("交货日期"), validators=[InputRequired(message=_l("请填写交货日期"))])
    production_quantity = IntegerField(_l("生产数量"), default=0, description=_l("单位：车"), validators=[
        InputRequired(message=_l("请填写生产数量")), NumberRange(min=0, message=NOT_NEGATIVE)])
    spoilage_quantity = IntegerField(_l("预损数量"), default=0, description=_l("单位：车"),
                                     validators=[Optional(), NumberRange(min=0, message=NOT_NEGATIVE)])
    printing_type = SelectField(_l("印刷形式"), choices=PrintingType.choices(), default="none")
    cmyk_colors = MultiCheckboxField(_l("CMYK颜色"), choices=[(c, c) for c in common.CMYK])
    other_colors = StringField(_l("专色"), description=_l("多个专色用逗号分隔，例如：528C，金色"))
    artwork_ids = MultiCheckboxField(_l("图稿（CTP版）"), coerce=database_int, validate_choice=False)
    die_ids = MultiCheckboxField(_l("刀模"), coerce=database_int, validate_choice=False)
    foiling_ids = MultiCheckboxField(_l("烫金版"), coerce=database_int, validate_choice=False)
    embossing_ids = MultiCheckboxField(_l("压凸版"), coerce=database_int, validate_choice=False)
    notes = TextAreaField(_l("备注"))
    design_file = FileField(_l("设计文件"), description=_l("不超过 20 MB，可上传 %(types)s",
                                                           types=LazyString(join_list, ALLOWED_TYPES_SHOWN)))
    products = FieldList(FormField(ProductLineForm))
    materials = FieldList(FormField(MaterialLineForm))
    steps = FieldList(FormField(StepForm))

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if self.order_date.data and self.delivery_date.data and self.delivery_date.data < self.order_date.data:
            self.delivery_date.errors.append(_l("交货日期不能早于下单日期"))
            valid = False
        return valid

    def plate_ids(self) -> list[int]:
        return [i for kind in PLATE_KINDS for i in (getattr(self, f"{kind}_ids").data or [])]

    def to_input(self) -> inputs.WorkOrderInput:
        return inputs.WorkOrderInput(
            customer_id=self.customer_id.data,
            order_date=self.order_date.data,
            delivery_date=self.delivery_date.data,
            production_quantity=self.production_quantity.data or 0,
            spoilage_quantity=self.spoilage_quantity.data or 0,
            priority=self.priority.data,
            printing_type=self.printing_type.data,
            cmyk_colors=list(self.cmyk_colors.data or []),
            other_colors=split_colors(self.other_colors.data),
            notes=self.notes.data or "",
            products=[
                inputs.ProductLineInput(product_id=entry.product_id.data, quantity=entry.quantity.data or 1,
                                        id=optional_int(entry.line_id.data), unit=(entry.unit.data or "").strip(),
                                        specification=(entry.specification.data or "").strip())
                for entry in self.products if entry.product_id.data
            ],
            materials=[
                inputs.MaterialLineInput(material_id=entry.material_id.data, id=optional_int(entry.line_id.data),
                                         size=(entry.size.data or "").strip(), usage=(entry.usage.data or "").strip(),
                                         need_cutting=bool(entry.need_cutting.data),
                                         notes=(entry.notes.data or "").strip())
                for entry in self.materials if entry.material_id.data
            ],
            steps=[
                inputs.StepInput(process_id=entry.process_id.data, sequence=entry.sequence.data or 0,
                                 department_id=entry.department_id.data)
                for entry in self.steps if entry.selected.data and optional_int(entry.process_id.data)
            ],
            plate_ids=self.plate_ids(),
        )


def split_colors(text: str | None) -> list[str]:
    return [part for part in re.split(r"[,，、;；\s]+", text or "") if part]


class ApprovedWorkOrderForm(FlaskForm):
    """What stays editable once approved (DOMAIN.md §3)."""

    version = HiddenField()
    delivery_date = DateField(_l("交货日期"), validators=[InputRequired(message=_l("请填写交货日期"))])
    priority = SelectField(_l("优先级"), choices=Priority.choices())
    notes = TextAreaField(_l("备注"))
    design_file = WorkOrderForm.design_file

    def to_input(self) -> inputs.LimitedInput:
        return inputs.LimitedInput(delivery_date=self.delivery_date.data, priority=self.priority.data,
                                   notes=self.notes.data or "")


class DraftForm(FlaskForm):
    version = IntegerField(validators=[Optional()])
    step_id = SelectField(_l("工序"), coerce=optional_int, validate_choice=False)
    content = StringField(_l("施工内容"))
    quantity = IntegerField(_l("数量"), validators=[InputRequired(message=_l("请填写数量")),
                                                   NumberRange(min=0, message=NOT_NEGATIVE)])
    production_requirements = TextAreaField(_l("生产要求"))
    notes = StringField(_l("备注"))


class BulkDraftForm(FlaskForm):
    task_ids = SelectMultipleField(coerce=database_int, validate_choice=False)
    quantity = IntegerField(_l("数量"), validators=[Optional(), NumberRange(min=0, message=NOT_NEGATIVE)])
    production_requirements = TextAreaField(_l("生产要求"))
    notes = StringField(_l("备注"))
