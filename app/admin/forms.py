"""Forms of the admin pages. They only carry and render the input: the services validate it
(one place for every rule) and their field errors are attached back here for display."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    PasswordField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.widgets import CheckboxInput, ListWidget

from app.enums import PLATE_KINDS, FoilingType, PlateKind, RoleCode
from app.services.admin.plates import CMYK
from app.services.admin.users import PIN_RULE
from app.services.core.passwords import PASSWORD_RULE
from app.services.core.settings import SETTINGS
from app.utils.fields import CreateOnceMixin, SelectField
from app.utils.wording import separator

ALL = ("", _l("全部"))
YES_NO = [ALL, ("1", _l("是")), ("0", _l("否"))]
ACTIVE = [ALL, ("1", _l("启用")), ("0", _l("停用"))]
KEEP_BLANK = _l("留空则不修改")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def sort_choices(*pairs) -> list[tuple[str, str]]:
    """Each sort key ascending and descending, e.g. ("name", 名称) → 名称 ↑ / 名称 ↓."""
    choices = []
    for key, label in pairs:
        choices += [(key, _l("%(label)s ↑", label=label)), (f"-{key}", _l("%(label)s ↓", label=label))]
    return choices


class FilterForm(Form):
    """A list's GET form; the subclasses add their filters."""

    q = StringField(_l("搜索"))
    sort = SelectField(_l("排序方式"))


def filter_form(form_class, args, **choices):
    form = form_class(args)
    for name, values in choices.items():
        form[name].choices = values
    return form


class UserFilter(FilterForm):
    role = SelectField(_l("角色"), choices=[ALL, *RoleCode.choices()])
    department = SelectField(_l("部门"))
    active = SelectField(_l("状态"), choices=ACTIVE)
    sort = SelectField(_l("排序方式"), choices=sort_choices(("username", _l("用户名")), ("name", _l("姓名")),
                                                          ("employee_no", _l("工号")), ("created", _l("创建时间")),
                                                          ("last_login", _l("最后登录"))))


class DepartmentFilter(FilterForm):
    active = SelectField(_l("状态"), choices=ACTIVE)
    sort = SelectField(_l("同级排序"), choices=sort_choices(("sort", _l("排序")), ("name", _l("名称")),
                                                          ("code", _l("编码"))))


class ProcessFilter(FilterForm):
    active = SelectField(_l("状态"), choices=ACTIVE)
    builtin = SelectField(_l("内置"), choices=YES_NO)
    parallel = SelectField(_l("可并行"), choices=YES_NO)
    plate = SelectField(_l("需要的版"), choices=[ALL, *[(k, PlateKind.labels[k]) for k in PLATE_KINDS]])
    sort = SelectField(_l("排序方式"), choices=sort_choices(("sort", _l("排序")), ("code", _l("编码")),
                                                          ("name", _l("名称")), ("hours", _l("标准工时"))))


class CustomerFilter(FilterForm):
    salesperson = SelectField(_l("业务员"))
    sort = SelectField(_l("排序方式"), choices=sort_choices(("name", _l("客户名称")), ("contact", _l("联系人")),
                                                          ("created", _l("创建时间"))))


class ProductFilter(FilterForm):
    active = SelectField(_l("状态"), choices=ACTIVE)
    # Not "process": that name is taken by the Form's own method.
    process_id = SelectField(_l("默认工序"))
    sort = SelectField(_l("排序方式"), choices=sort_choices(("code", _l("编码")), ("name", _l("名称")),
                                                          ("price", _l("单价")), ("created", _l("创建时间"))))


class MaterialFilter(FilterForm):
    active = SelectField(_l("状态"), choices=ACTIVE)
    cutting = SelectField(_l("需要开料"), choices=YES_NO)
    sort = SelectField(_l("排序方式"), choices=sort_choices(("code", _l("编码")), ("name", _l("名称")),
                                                          ("created", _l("创建时间"))))


class PlateFilter(FilterForm):
    kind = SelectField(_l("类别"), choices=[ALL, *PlateKind.choices()])
    confirmed = SelectField(_l("确认状态"), choices=[ALL, ("1", _l("已确认")), ("0", _l("未确认"))])
    active = SelectField(_l("状态"), choices=ACTIVE)
    sort = SelectField(_l("排序方式"), default="-created",
                       choices=sort_choices(("created", _l("创建时间")), ("code", _l("编码")), ("name", _l("名称")),
                                            ("confirmed", _l("确认时间"))))


class AuditFilter(Form):
    object_type = SelectField(_l("对象类型"))
    user = SelectField(_l("操作人"))
    date_from = StringField(_l("开始日期"), render_kw={"type": "date"})
    date_to = StringField(_l("结束日期"), render_kw={"type": "date"})


# ---------------------------------------------------------------- edit forms

class UserForm(CreateOnceMixin, FlaskForm):
    username = StringField(_l("用户名"), description=_l("登录用，3到50个字母、数字、下划线、点或连字符"))
    name = StringField(_l("姓名"))
    employee_no = StringField(_l("工号"), description=_l("工位机登录用，可扫工牌输入"))
    email = StringField(_l("邮箱"))
    phone = StringField(_l("电话"))
    roles = MultiCheckboxField(_l("角色"), choices=RoleCode.choices(), validate_choice=False)
    departments = MultiCheckboxField(_l("所属部门"), validate_choice=False)
    is_active = BooleanField(_l("启用"), default=True)
    password = PasswordField(_l("密码"), render_kw={"autocomplete": "new-password"})
    pin = PasswordField(_l("工位机 PIN"), render_kw={"autocomplete": "off", "inputmode": "numeric"})

    @classmethod
    def of(cls, user):
        return cls(formdata=None, data={
            **{name: getattr(user, name) for name in ("username", "name", "employee_no", "email", "phone",
                                                      "is_active")},
            "roles": [role.code for role in user.roles], "departments": [str(d.id) for d in user.departments]})

    def describe_secrets(self, editing: bool) -> None:
        suffix = f"{separator('clauses')}{KEEP_BLANK}" if editing else ""
        self.password.description = f"{PASSWORD_RULE}{suffix}"
        self.pin.description = f"{PIN_RULE}{suffix}"


class DepartmentForm(CreateOnceMixin, FlaskForm):
    name = StringField(_l("部门名称"))
    code = StringField(_l("部门编码"), description=_l("2到20个小写字母、数字或下划线，创建后不可修改"))
    parent_id = SelectField(_l("上级部门"), description=_l("最多3级"), validate_choice=False)
    sort_order = StringField(_l("排序"), default="0", description=_l("数字越小越靠前"),
                             render_kw={"inputmode": "numeric"})
    is_active = BooleanField(_l("启用"), default=True, description=_l("禁用后部门将不可用于新的施工单"))
    processes = MultiCheckboxField(_l("负责的工序"), validate_choice=False)

    @classmethod
    def of(cls, department):
        return cls(formdata=None, data={
            "name": department.name, "code": department.code, "sort_order": str(department.sort_order),
            "parent_id": str(department.parent_id or ""), "is_active": department.is_active,
            "processes": [str(p.id) for p in department.processes]})


class ProcessForm(CreateOnceMixin, FlaskForm):
    code = StringField(_l("工序编码"))
    name = StringField(_l("工序名称"))
    description = TextAreaField(_l("工序描述"))
    sort_order = StringField(_l("排序"), default="0", render_kw={"inputmode": "numeric"})
    standard_hours = StringField(_l("标准工时(小时)"), default="0", render_kw={"inputmode": "decimal"})
    is_parallel = BooleanField(_l("可并行执行"), description=_l("无需等待上一道工序即可开始"))
    requires_artwork = BooleanField(_l("需要图稿"))
    artwork_required = BooleanField(_l("图稿必选"), default=True)
    requires_die = BooleanField(_l("需要刀模"))
    die_required = BooleanField(_l("刀模必选"), default=True)
    requires_foiling = BooleanField(_l("需要烫金版"))
    foiling_required = BooleanField(_l("烫金版必选"), default=True)
    requires_embossing = BooleanField(_l("需要压凸版"))
    embossing_required = BooleanField(_l("压凸版必选"), default=True)
    is_active = BooleanField(_l("启用"), default=True)

    def plate_pairs(self):
        return [(self[f"requires_{kind}"], self[f"{kind}_required"]) for kind in PLATE_KINDS]


class CustomerForm(CreateOnceMixin, FlaskForm):
    name = StringField(_l("客户名称"))
    contact_person = StringField(_l("联系人"))
    phone = StringField(_l("联系电话"))
    email = StringField(_l("邮箱"))
    address = StringField(_l("地址"))
    salesperson_id = SelectField(_l("业务员"), validate_choice=False)
    notes = TextAreaField(_l("备注"))


class MaterialForm(CreateOnceMixin, FlaskForm):
    code = StringField(_l("物料编码"))
    name = StringField(_l("物料名称"))
    specification = StringField(_l("规格"))
    unit = StringField(_l("单位"), default="个")
    need_cutting = BooleanField(_l("需要开料"), description=_l("新建施工单物料行时的默认值"))
    is_active = BooleanField(_l("启用"), default=True)


class ProcessRowForm(Form):
    process_id = HiddenField()
    selected = BooleanField()
    order = StringField(_l("顺序"), render_kw={"inputmode": "numeric"})


class MaterialRowForm(Form):
    material_id = SelectField(_l("物料"), validate_choice=False)
    size = StringField(_l("尺寸"))
    usage = StringField(_l("用量"))
    need_cutting = BooleanField(_l("需要开料"))
    notes = StringField(_l("备注"))


class ProductForm(CreateOnceMixin, FlaskForm):
    code = StringField(_l("产品编码"))
    name = StringField(_l("产品名称"))
    specification = StringField(_l("规格"))
    unit = StringField(_l("单位"), default="件")
    unit_price = StringField(_l("单价"), default="0", render_kw={"inputmode": "decimal"})
    description = TextAreaField(_l("描述"))
    is_active = BooleanField(_l("启用"), default=True)
    processes = FieldList(FormField(ProcessRowForm))
    materials = FieldList(FormField(MaterialRowForm))

    def to_input(self) -> dict:
        data = self.data
        data["processes"] = [{"process_id": row["process_id"], "order": row["order"]}
                             for row in data["processes"] if row["selected"]]
        return data


class PlateProductRowForm(Form):
    product_id = SelectField(_l("产品"), validate_choice=False)
    imposition_quantity = StringField(_l("拼版数量"), default="1", render_kw={"inputmode": "numeric"})


class PlateForm(CreateOnceMixin, FlaskForm):
    kind = HiddenField()
    name = StringField(_l("名称"))
    cmyk_colors = MultiCheckboxField(_l("CMYK颜色"), choices=[(c, c) for c in CMYK], validate_choice=False)
    other_colors = StringField(_l("专色"), description=_l("多个专色用逗号分隔，例如：528C，金色"))
    foiling_type = SelectField(_l("烫金类型"), choices=[("", _l("请选择")), *FoilingType.choices()])
    size = StringField(_l("尺寸"))
    material = StringField(_l("材质"))
    thickness = StringField(_l("厚度"))
    notes = TextAreaField(_l("备注"))
    is_active = BooleanField(_l("启用"), default=True)
    products = FieldList(FormField(PlateProductRowForm))


class SettingsForm(FlaskForm):
    auto_dispatch_enabled = BooleanField(SETTINGS["auto_dispatch_enabled"][1],
                                         description=_l("关闭后，审核通过的任务进入待分派，由主管手动分派"))
    operator_task_cap = StringField(SETTINGS["operator_task_cap"][1], render_kw={"inputmode": "numeric"})
    kiosk_idle_logout_seconds = StringField(SETTINGS["kiosk_idle_logout_seconds"][1],
                                            render_kw={"inputmode": "numeric"})
    notification_retention_days = StringField(SETTINGS["notification_retention_days"][1],
                                              render_kw={"inputmode": "numeric"})
    planning_enabled = BooleanField(SETTINGS["planning_enabled"][1],
                                    description=_l("关闭后不再排产：机台队列、计划时间和延期风险都不显示"))

    def describe_ranges(self) -> None:
        for key, (_default, _label, low, high) in SETTINGS.items():
            if low is not None:
                self[key].description = _l("%(low)s 到 %(high)s", low=low, high=high)
