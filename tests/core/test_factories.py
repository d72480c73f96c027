"""Every factory builds a row that the database accepts."""
import pytest

import factories as f

ALL_FACTORIES = [
    f.DepartmentFactory, f.ProcessFactory, f.UserFactory, f.CustomerFactory, f.MaterialFactory, f.ProductFactory,
    f.ProductProcessFactory, f.ProductMaterialFactory, f.PlateFactory, f.PlateProductFactory, f.WorkOrderFactory,
    f.WorkOrderProductFactory, f.WorkOrderMaterialFactory, f.WorkOrderStepFactory, f.TaskFactory, f.TimeLogFactory,
    f.AuditLogFactory, f.ApprovalLogFactory, f.AssignmentRuleFactory, f.SettingFactory, f.CounterFactory,
    f.NotificationFactory, f.AuthFailureFactory,
]


@pytest.mark.parametrize("factory_class", ALL_FACTORIES, ids=lambda c: c.__name__)
def test_factory_persists(db, factory_class):
    obj = factory_class()
    model = factory_class._meta.model
    assert db.session.get(model, db.inspect(obj).identity) is obj
