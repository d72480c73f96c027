"""The kiosk world (kiosk_world.py) with everything a job ticket shows: products, materials, plates, colours,
notes, a design file, and the steps around the 印刷 task (制版 done, 开料 under way, 模切 to come).

印刷车间's operator 刘师傅 sees the 印刷 task (with its artwork) and the 开料 task of the paper line.
"""
from __future__ import annotations

import struct
import zlib

import factories as f
from app.extensions import db
from app.services.workorders import design_files
from support.kiosk_world import build_world


def tiny_png(width: int = 60, height: int = 40) -> bytes:
    """A real PNG (solid blue), small enough to write inline, that a browser decodes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\x20\x60\xc0" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


PDF_BYTES = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj "
             b"3 0 obj<</Type/Page/MediaBox[0 0 200 200]/Parent 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def attach_design_file(work_order, name: str, data: bytes) -> None:
    extension = name.rsplit(".", 1)[-1]
    work_order.design_file_path = design_files.store(design_files.CheckedFile(name, extension, data))
    work_order.design_file_name = name
    db.session.commit()


def build_ticket_world():
    world = build_world()
    order = world.work_order
    order.customer.name = "华彩包装有限公司"
    order.printing_type = "front"
    order.cmyk_colors = ["C", "M", "Y", "K"]
    order.other_colors = ["专色528C", "金色"]
    order.notes = "客户来取样，首件签样后再批量"
    world.task.production_requirements = "套准误差≤0.1mm"
    world.task.notes = "用新橡皮布"

    box = f.ProductFactory(name="彩盒", specification="200×150×80mm", unit="个")
    card = f.ProductFactory(name="吊牌", specification="50×90mm", unit="张")
    f.WorkOrderProductFactory(work_order=order, product=box, quantity=1000, unit="个", sort_order=1)
    f.WorkOrderProductFactory(work_order=order, product=card, quantity=2000, unit="张", specification="",
                              sort_order=2)
    paper = f.MaterialFactory(name="300g白卡纸")
    film = f.MaterialFactory(name="哑膜")
    world.paper_line = f.WorkOrderMaterialFactory(work_order=order, material=paper, size="787×1092mm 开4",
                                                  usage="500张", need_cutting=True, sort_order=1)
    f.WorkOrderMaterialFactory(work_order=order, material=film, size="", usage="80平方米", need_cutting=False,
                               sort_order=2)

    artwork = f.PlateFactory(kind="artwork", code="ART2026110001", base_code="ART2026110001", name="彩盒面纸图稿")
    f.PlateProductFactory(plate=artwork, product=box, imposition_quantity=4)
    f.PlateProductFactory(plate=artwork, product=card, imposition_quantity=8)
    die = f.PlateFactory(kind="die", code="DIE2026110001", base_code="DIE2026110001", name="彩盒刀模")
    order.plates = [artwork, die]
    world.task.plate = artwork
    world.die_task.plate = die

    plate_process = f.ProcessFactory(code="CTP", name="制版", sort_order=5)
    cut_process = f.ProcessFactory(code="CUT", name="开料", sort_order=10)
    f.WorkOrderStepFactory(work_order=order, process=plate_process, sequence=5, status="completed")
    world.cut_step = f.WorkOrderStepFactory(work_order=order, process=cut_process, sequence=10, status="in_progress")
    world.cut_task = f.TaskFactory(step=world.cut_step, number="TSG2026110001-03", content="300g白卡纸开料",
                                   task_type="cutting", target_quantity=500, material_line=world.paper_line,
                                   department=world.printing)
    db.session.commit()
    attach_design_file(order, "彩盒面纸.png", tiny_png())
    return world
