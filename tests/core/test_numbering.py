from app.models import Counter
from app.services.core.numbering import monthly_code, next_value
from app.utils.timeutil import plant_now


def test_next_value_starts_at_one_and_increments(db):
    assert [next_value("X"), next_value("X"), next_value("Y")] == [1, 2, 1]
    db.session.commit()
    assert db.session.get(Counter, "X").value == 2


def test_monthly_code_has_no_999_limit(db):
    month = plant_now().strftime("%Y%m")
    db.session.add(Counter(key=f"SG{month}", value=9999))
    db.session.commit()
    assert monthly_code("SG", 4) == f"SG{month}10000"
