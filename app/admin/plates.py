"""版型 (/admin/plates): admins and designers create, edit, version and confirm plates."""
from flask import request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.access import requires
from app.admin import bp
from app.admin.common import blank_row, commit_and_finish, finished, list_args, list_query, render, save
from app.admin.forms import PlateFilter, PlateForm
from app.enums import PlateKind
from app.extensions import db
from app.models import Plate
from app.services.admin import plates as admin_plates
from app.services.admin.master_data import ids
from app.services.core.errors import Invalid
from app.utils.wording import join_list, named

NOTHING = ("", "—")


@bp.route("/admin/plates")
@requires("admin.plates")
def plates():
    query = list_query("kind", "confirmed", "active")
    return render("admin/plates/index.html", "admin/plates/_list.html", title=_("版型"),
                  form=PlateFilter(request.args), page=admin_plates.list_plates(query), query=list_args(),
                  PlateKind=PlateKind)


def _product_choices():
    return [NOTHING, *[(str(p.id), named(p.name, p.code)) for p in admin_plates.active_products()]]


def _plate_form_page(form, kind: str, plate=None, status=200):
    choices = _product_choices()
    for entry in form.products:
        entry.form.product_id.choices = choices
    form.kind.data = kind
    title = _("编辑%(kind)s：%(code)s", kind=PlateKind.label_of(kind), code=plate.code) if plate \
        else _("新建%(kind)s", kind=PlateKind.label_of(kind))
    return render("admin/form_page.html", "admin/plates/_form.html", status, title=title, form=form, plate=plate,
                  kind=kind, in_use=plate is not None and admin_plates.is_in_use(plate), back=url_for("admin.plates"))


def _kind(value: str | None) -> str:
    if value not in PlateKind.values():
        raise Invalid(_("请选择版型类别"), code="plate_kind")
    return value


@bp.route("/admin/plates/new")
@requires("admin.plates")
def plate_new():
    form = PlateForm(formdata=None, data={"products": [{}]})
    return _plate_form_page(form, _kind(request.args.get("kind")))


@bp.route("/admin/plates", methods=["POST"])
@requires("admin.plates")
def plate_create():
    form = PlateForm()
    kind = _kind(form.kind.data)
    return save(form, lambda: admin_plates.create_plate(current_user, kind, form.data),
                lambda status: _plate_form_page(form, kind, None, status),
                lambda p: _("已创建%(kind)s %(code)s", kind=PlateKind.label_of(p.kind), code=p.code),
                url_for("admin.plates"), creates=Plate)


@bp.route("/admin/plates/<int:plate_id>/edit")
@requires("admin.plates")
def plate_edit(plate_id: int):
    plate = admin_plates.get_plate(plate_id)
    data = {name: getattr(plate, name) for name in ("name", "cmyk_colors", "foiling_type", "size", "material",
                                                     "thickness", "notes", "is_active")}
    data["other_colors"] = join_list(plate.other_colors or [], "words")
    data["products"] = [{"product_id": str(link.product_id), "imposition_quantity": str(link.imposition_quantity)}
                        for link in plate.products] or [{}]
    return _plate_form_page(PlateForm(formdata=None, data=data), plate.kind, plate)


@bp.route("/admin/plates/<int:plate_id>", methods=["POST"])
@requires("admin.plates")
def plate_update(plate_id: int):
    plate = admin_plates.get_plate(plate_id)
    form = PlateForm()
    return save(form, lambda: admin_plates.update_plate(current_user, plate, form.data),
                lambda status: _plate_form_page(form, plate.kind, plate, status),
                lambda p: _("已保存 %(code)s", code=p.code), url_for("admin.plates"))


@bp.route("/admin/plates/<int:plate_id>/delete", methods=["POST"])
@requires("admin.plates")
def plate_delete(plate_id: int):
    plate = admin_plates.get_plate(plate_id)
    code = plate.code
    admin_plates.delete_plate(current_user, plate)
    return commit_and_finish(_("已删除 %(code)s", code=code), "admin.plates")


@bp.route("/admin/plates/<int:plate_id>/confirm", methods=["POST"])
@requires("plate.confirm")
def plate_confirm(plate_id: int):
    plate = admin_plates.get_plate(plate_id)
    completed = admin_plates.confirm(current_user, plate)
    message = _("已确认 %(code)s", code=plate.code)
    if completed:
        message += _("，%(n)s 个制版任务已完成", n=len(completed))
    return commit_and_finish(message, "admin.plates", stay=True)


@bp.route("/admin/plates/<int:plate_id>/new-version", methods=["POST"])
@requires("admin.plates")
def plate_new_version(plate_id: int):
    copy = admin_plates.new_version(current_user, admin_plates.get_plate(plate_id))
    db.session.commit()
    return finished(_("已创建新版本 %(code)s", code=copy.code), url_for("admin.plate_edit", plate_id=copy.id))


@bp.route("/admin/plates/product-row")
@requires("admin.plates")
def plate_product_row():
    """One more blank linked-product row for the plate form (添加产品)."""
    index = (ids([request.args.get("product_next")]) or [0])[0]
    entry = blank_row(PlateForm(formdata=None).products, index)
    entry.form.product_id.choices = _product_choices()
    return render("admin/plates/_product_row.html", entry=entry, next_index=index + 1)
