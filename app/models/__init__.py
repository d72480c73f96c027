"""All models, importable from one place (and registered with the metadata for Alembic)."""
from app.models.api import ApiToken
from app.models.catalog import Customer, Material, Plate, PlateProduct, Product, ProductMaterial, ProductProcess
from app.models.dispatch import AssignmentRule
from app.models.org import Department, Process, Role, User, department_processes, user_departments, user_roles
from app.models.planning import PlanEntry, PlanState, WorkOrderProjection, Workstation, WorkstationProcess
from app.models.submission import Submission
from app.models.system import AuthFailure, Counter, Notification, ServerError, Setting
from app.models.task import AuditLog, Task, TimeLog
from app.models.workorder import (
    ApprovalLog,
    WorkOrder,
    WorkOrderMaterial,
    WorkOrderProduct,
    WorkOrderStep,
    work_order_plates,
)

__all__ = [
    "ApiToken", "ApprovalLog", "AssignmentRule", "AuditLog", "AuthFailure", "Counter", "Customer", "Department",
    "Material", "Notification", "Plate", "PlateProduct", "Process", "Product", "ProductMaterial",
    "PlanEntry", "PlanState", "ProductProcess", "Role", "ServerError", "Setting", "Submission", "Task", "TimeLog",
    "User", "WorkOrder",
    "WorkOrderMaterial", "WorkOrderProjection", "Workstation", "WorkstationProcess",
    "WorkOrderProduct", "WorkOrderStep", "department_processes", "user_departments", "user_roles",
    "work_order_plates",
]
