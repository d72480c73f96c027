"""The draft generator (DOMAIN.md §4, reference §5) and the sync diff, as pure functions."""
import pytest

from app.services.workorders.task_generation import (
    ExistingTask,
    MaterialLineShape,
    PlateShape,
    ProcessShape,
    ProductLineShape,
    TaskSpec,
    WorkOrderShape,
    generate,
    plan_sync,
    usage_quantity,
)

CTP, CUT, PRT, LAM, FOIL_G, FOIL_S, EMB, DIE, PACK, UV = (
    ProcessShape(1, "CTP", "制版"), ProcessShape(2, "CUT", "开料"), ProcessShape(3, "PRT", "印刷"),
    ProcessShape(5, "LAM_G", "覆光膜"), ProcessShape(8, "FOIL_G", "烫金"), ProcessShape(9, "FOIL_S", "烫银"),
    ProcessShape(10, "EMB", "压凸"), ProcessShape(13, "DIE", "模切"), ProcessShape(21, "PACK", "包装"),
    ProcessShape(7, "UV", "UV"),
)
ART, ART2, DIE_PLATE, GOLD, SILVER, UNTYPED_FOIL, EMBOSS = (
    PlateShape(101, "artwork"), PlateShape(102, "artwork"), PlateShape(201, "die"), PlateShape(301, "foiling", "gold"),
    PlateShape(302, "foiling", "silver"), PlateShape(303, "foiling", None), PlateShape(401, "embossing"),
)
N = "SG2026110001"


def shape(processes, plates=(), products=(), materials=(), quantity=500):
    return WorkOrderShape(N, quantity, tuple(processes), tuple(plates), tuple(products), tuple(materials))


def rows(specs):
    return [(s.process_id, s.task_type, s.content, s.target_quantity, s.auto_complete, s.plate_id, s.material_key,
             s.product_key) for s in specs]


@pytest.mark.parametrize("usage,expected", [("1000张", 1000), ("12.5张", 12), ("", 0), ("若干", 0), (None, 0),
                                            ("约 2 卷", 2)])
def test_usage_quantity_is_the_first_integer(usage, expected):
    assert usage_quantity(usage) == expected


def test_the_issue_walk_through_yields_exactly_these_drafts():
    products = (ProductLineShape(11, "宣传册", 800), ProductLineShape(12, "海报", 300))
    specs = generate(shape([CTP, PRT, LAM, DIE, PACK], [ART, DIE_PLATE], products))
    assert rows(specs) == [
        (1, "plate_making", f"{N}制版审核", 1, True, 101, None, None),
        (1, "plate_making", f"{N}制版审核", 1, True, 201, None, None),
        (3, "printing", f"{N}印刷", 500, False, 101, None, None),
        (5, "general", f"覆光膜：{N}", 500, False, None, None, None),
        (13, "die_cutting", f"{N}模切", 500, False, 201, None, None),
        (21, "packaging", "宣传册包装", 800, False, None, None, 11),
        (21, "packaging", "海报包装", 300, False, None, None, 12),
    ]


def test_plate_making_covers_every_plate_kind_artworks_first():
    specs = generate(shape([CTP], [EMBOSS, GOLD, DIE_PLATE, ART]))
    assert [s.plate_id for s in specs] == [101, 201, 301, 401]
    assert {(s.target_quantity, s.auto_complete) for s in specs} == {(1, True)}


def test_cutting_only_for_lines_marked_for_cutting_with_the_usage_number():
    materials = (MaterialLineShape(1, "铜版纸", "1000张", True), MaterialLineShape(2, "光膜", "2卷", False),
                 MaterialLineShape(3, "白卡纸", "12.5张", True))
    specs = generate(shape([CUT], materials=materials))
    assert rows(specs) == [(2, "cutting", f"{N}开料", 1000, True, None, 1, None),
                           (2, "cutting", f"{N}开料", 12, True, None, 3, None)]


def test_gold_and_silver_foiling_take_their_own_plates_an_untyped_plate_counts_as_gold():
    specs = generate(shape([FOIL_G, FOIL_S], [GOLD, SILVER, UNTYPED_FOIL]))
    assert [(s.process_id, s.content, s.plate_id) for s in specs] == [
        (8, f"{N}烫金", 301), (8, f"{N}烫金", 303), (9, f"{N}烫银", 302)]


def test_embossing_and_printing_one_per_matching_plate():
    specs = generate(shape([PRT, EMB], [ART, ART2, EMBOSS]))
    assert [(s.process_id, s.task_type, s.plate_id, s.target_quantity) for s in specs] == [
        (3, "printing", 101, 500), (3, "printing", 102, 500), (10, "embossing", 401, 500)]


def test_other_processes_get_one_general_task_with_a_full_width_colon():
    assert rows(generate(shape([UV], quantity=100))) == [(7, "general", f"UV：{N}", 100, False, None, None, None)]


def test_a_step_without_its_objects_yields_nothing():
    assert generate(shape([PRT, DIE, PACK, CUT])) == []


def existing(task_id, spec: TaskSpec, status="draft", **changes):
    values = dict(id=task_id, process_id=spec.process_id, status=status, plate_id=spec.plate_id,
                  material_key=spec.material_key, product_key=spec.product_key, content=spec.content,
                  target_quantity=spec.target_quantity, task_type=spec.task_type)
    values.update(changes)
    return ExistingTask(**values)


def test_sync_removes_a_dropped_process_adds_a_new_one_and_keeps_the_rest_with_their_edits():
    before = generate(shape([PRT, LAM, PACK], [ART], [ProductLineShape(11, "宣传册", 800)]))
    tasks = [existing(i + 1, spec) for i, spec in enumerate(before)]
    tasks[0] = existing(1, before[0], target_quantity=450)  # edited by hand
    manual = ExistingTask(9, 3, "draft", None, None, None, "加印样张", 20, "general")
    after = generate(shape([PRT, UV, PACK], [ART], [ProductLineShape(11, "宣传册", 800)]))
    plan = plan_sync(tasks + [manual], before, after)
    assert plan.delete_ids == [2]
    assert [(s.process_id, s.content) for s in plan.add] == [(7, f"UV：{N}")]
    assert plan.updates == {}
    assert plan.needs_confirmation


def test_sync_follows_quantity_changes_only_where_the_user_did_not_edit():
    before = generate(shape([PRT, LAM], [ART], quantity=500))
    tasks = [existing(1, before[0]), existing(2, before[1], target_quantity=480)]
    plan = plan_sync(tasks, before, generate(shape([PRT, LAM], [ART], quantity=600)))
    assert plan.updates == {1: {"target_quantity": 600}}
    assert not plan.needs_confirmation and not plan.delete_ids and not plan.add


def test_a_new_artwork_adds_a_plate_making_and_a_printing_draft_a_removed_die_takes_its_two():
    before = generate(shape([CTP, PRT, DIE], [ART, DIE_PLATE]))
    tasks = [existing(i + 1, spec) for i, spec in enumerate(before)]
    plan = plan_sync(tasks, before, generate(shape([CTP, PRT, DIE], [ART, ART2])))
    removed = {t.id for t in tasks if t.plate_id == 201}
    assert set(plan.delete_ids) == removed and len(removed) == 2
    assert [(s.task_type, s.plate_id) for s in plan.add] == [("plate_making", 102), ("printing", 102)]


def test_sync_never_touches_tasks_that_are_no_longer_drafts():
    before = generate(shape([PRT, LAM], [ART]))
    tasks = [existing(1, before[0], status="pending"), existing(2, before[1], status="in_progress")]
    plan = plan_sync(tasks, before, generate(shape([], [])))
    assert plan.is_empty


def test_regenerating_with_the_same_shape_restores_only_what_is_missing():
    specs = generate(shape([PRT, LAM], [ART]))
    assert plan_sync([], specs, specs).add == specs
    assert plan_sync([existing(1, specs[0])], specs, specs).add == specs[1:]
