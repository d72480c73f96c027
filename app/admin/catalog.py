"""客户 (/admin/customers), 产品 (/admin/products) and 物料 (/admin/materials)."""
from flask import request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.access import requires
from app.admin import bp
from app.admin.common import blank_row, commit_and_finish, list_args, list_query, render, save
from app.admin.forms import (
    ALL,
    CustomerFilter,
    CustomerForm,
    MaterialFilter,
    MaterialForm,
    ProductFilter,
    ProductForm,
    filter_form,
)
from app.models import Customer, Material, Product
from app.policy import can
from app.services.admin import customers as admin_customers
from app.services.admin import departments as admin_departments
from app.services.admin import products as admin_products
from app.services.admin.master_data import ids
from app.services.core.errors import NotFound
from app.utils.wording import named

NOBODY = ("", "—")


# ---------------------------------------------------------------- customers

def _salesperson_choices():
    return [(str(user.id), user.name) for user in admin_customers.salespeople()]


def _customer(customer_id: int):
    """A customer the user may manage; another salesperson's customer does not exist for them."""
    customer = admin_customers.get_customer(customer_id)
    if not can(current_user, "customer.edit", customer):
        raise NotFound(_("客户不存在"))
    return customer


@bp.route("/admin/customers")
@requires("admin.customers")
def customers():
    form = filter_form(CustomerFilter, request.args, salesperson=[ALL, *_salesperson_choices()])
    if not can(current_user, "customer.assign_salesperson"):
        del form.salesperson  # a salesperson's list holds only their own customers
    query = list_query(ids=("salesperson",))
    return render("admin/customers/index.html", "admin/customers/_list.html", title=_("客户"), form=form,
                  page=admin_customers.list_customers(current_user, query), query=list_args())


def _customer_form_page(form, customer=None, status=200):
    form.salesperson_id.choices = [NOBODY, *_salesperson_choices()]
    title = _("编辑客户：%(name)s", name=customer.name) if customer else _("新建客户")
    return render("admin/form_page.html", "admin/customers/_form.html", status, title=title, form=form,
                  customer=customer, back=url_for("admin.customers"))


@bp.route("/admin/customers/new")
@requires("admin.customers")
def customer_new():
    return _customer_form_page(CustomerForm(formdata=None))


@bp.route("/admin/customers", methods=["POST"])
@requires("admin.customers")
def customer_create():
    form = CustomerForm()
    return save(form, lambda: admin_customers.create_customer(current_user, form.data),
                lambda status: _customer_form_page(form, None, status),
                lambda c: _("已创建客户：%(name)s", name=c.name), url_for("admin.customers"), creates=Customer)


@bp.route("/admin/customers/<int:customer_id>/edit")
@requires("admin.customers")
def customer_edit(customer_id: int):
    customer = _customer(customer_id)
    form = CustomerForm(formdata=None, obj=customer)
    form.salesperson_id.data = str(customer.salesperson_id or "")
    return _customer_form_page(form, customer)


@bp.route("/admin/customers/<int:customer_id>", methods=["POST"])
@requires("admin.customers")
def customer_update(customer_id: int):
    customer = _customer(customer_id)
    form = CustomerForm()
    return save(form, lambda: admin_customers.update_customer(current_user, customer, form.data),
                lambda status: _customer_form_page(form, customer, status),
                lambda c: _("已保存客户：%(name)s", name=c.name), url_for("admin.customers"))


@bp.route("/admin/customers/<int:customer_id>/delete", methods=["POST"])
@requires("admin.customers")
def customer_delete(customer_id: int):
    customer = _customer(customer_id)
    name = customer.name
    admin_customers.delete_customer(current_user, customer)
    return commit_and_finish(_("已删除客户：%(name)s", name=name), "admin.customers")


# ---------------------------------------------------------------- materials

@bp.route("/admin/materials")
def materials():
    query = list_query("active", "cutting")
    return render("admin/materials/index.html", "admin/materials/_list.html", title=_("物料"),
                  form=MaterialFilter(request.args), page=admin_products.list_materials(query), query=list_args())


def _material_form_page(form, material=None, status=200):
    title = _("编辑物料：%(name)s", name=material.name) if material else _("新建物料")
    return render("admin/form_page.html", "admin/materials/_form.html", status, title=title, form=form,
                  material=material, back=url_for("admin.materials"))


@bp.route("/admin/materials/new")
def material_new():
    return _material_form_page(MaterialForm(formdata=None))


@bp.route("/admin/materials", methods=["POST"])
def material_create():
    form = MaterialForm()
    return save(form, lambda: admin_products.create_material(current_user, form.data),
                lambda status: _material_form_page(form, None, status),
                lambda m: _("已创建物料：%(name)s", name=m.name), url_for("admin.materials"), creates=Material)


@bp.route("/admin/materials/<int:material_id>/edit")
def material_edit(material_id: int):
    material = admin_products.get_material(material_id)
    return _material_form_page(MaterialForm(formdata=None, obj=material), material)


@bp.route("/admin/materials/<int:material_id>", methods=["POST"])
def material_update(material_id: int):
    material = admin_products.get_material(material_id)
    form = MaterialForm()
    return save(form, lambda: admin_products.update_material(current_user, material, form.data),
                lambda status: _material_form_page(form, material, status),
                lambda m: _("已保存物料：%(name)s", name=m.name), url_for("admin.materials"))


@bp.route("/admin/materials/<int:material_id>/delete", methods=["POST"])
def material_delete(material_id: int):
    material = admin_products.get_material(material_id)
    name = material.name
    admin_products.delete_material(current_user, material)
    return commit_and_finish(_("已删除物料：%(name)s", name=name), "admin.materials")


# ---------------------------------------------------------------- products

@bp.route("/admin/products")
def products():
    processes = admin_departments.all_processes()
    form = filter_form(ProductFilter, request.args, process_id=[ALL, *[(str(p.id), p.name) for p in processes]])
    query = list_query("active", ids=("process_id",))
    return render("admin/products/index.html", "admin/products/_list.html", title=_("产品"), form=form,
                  page=admin_products.list_products(query), query=list_args())


def _material_choices():
    return [NOBODY, *[(str(m.id), named(m.name, m.code)) for m in admin_products.active_materials()]]


def _product_form_page(form, product=None, status=200):
    processes = {p.id: p for p in admin_departments.all_processes()}
    material_choices = _material_choices()
    for entry in form.materials:
        entry.form.material_id.choices = material_choices
    title = _("编辑产品：%(name)s", name=product.name) if product else _("新建产品")
    return render("admin/form_page.html", "admin/products/_form.html", status, title=title, form=form,
                  product=product, processes=processes, back=url_for("admin.products"))


def _product_data(product=None) -> dict:
    """Initial form data: one row per process (checked if a default), the default materials, a blank row."""
    chosen = {line.process_id: index + 1 for index, line in enumerate(product.default_processes)} if product else {}
    visible = [p for p in admin_departments.all_processes() if p.is_active or p.id in chosen]
    data = {"processes": [{"process_id": str(p.id), "selected": p.id in chosen, "order": str(chosen.get(p.id, ""))}
                          for p in visible]}
    data["materials"] = [
        {"material_id": str(line.material_id), "size": line.size, "usage": line.usage,
         "need_cutting": line.need_cutting, "notes": line.notes} for line in product.default_materials
    ] if product else [{}]
    if product:
        data.update({name: getattr(product, name) for name in admin_products.PRODUCT_FIELDS})
    return data


@bp.route("/admin/products/new")
def product_new():
    return _product_form_page(ProductForm(formdata=None, data=_product_data()))


@bp.route("/admin/products", methods=["POST"])
def product_create():
    form = ProductForm()
    return save(form, lambda: admin_products.create_product(current_user, form.to_input()),
                lambda status: _product_form_page(form, None, status),
                lambda p: _("已创建产品：%(name)s", name=p.name), url_for("admin.products"), creates=Product)


@bp.route("/admin/products/<int:product_id>/edit")
def product_edit(product_id: int):
    product = admin_products.get_product(product_id)
    return _product_form_page(ProductForm(formdata=None, data=_product_data(product)), product)


@bp.route("/admin/products/<int:product_id>", methods=["POST"])
def product_update(product_id: int):
    product = admin_products.get_product(product_id)
    form = ProductForm()
    return save(form, lambda: admin_products.update_product(current_user, product, form.to_input()),
                lambda status: _product_form_page(form, product, status),
                lambda p: _("已保存产品：%(name)s", name=p.name), url_for("admin.products"))


@bp.route("/admin/products/<int:product_id>/delete", methods=["POST"])
def product_delete(product_id: int):
    product = admin_products.get_product(product_id)
    name = product.name
    admin_products.delete_product(current_user, product)
    return commit_and_finish(_("已删除产品：%(name)s", name=name), "admin.products")


@bp.route("/admin/products/material-row")
def product_material_row():
    """One more blank material row for the product form (添加物料)."""
    index = (ids([request.args.get("material_next")]) or [0])[0]
    entry = blank_row(ProductForm(formdata=None).materials, index)
    entry.form.material_id.choices = _material_choices()
    return render("admin/products/_material_row.html", entry=entry, next_index=index + 1)
