"""Design files of 施工单: checked by size, extension AND leading bytes, stored under a random name.

A file is never served from its stored name or with a guessed type: the download route sends it
as an attachment with ``X-Content-Type-Options: nosniff``.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l

from app.services.core.errors import Invalid
from app.utils.wording import join_list

MAX_BYTES = 20 * 1024 * 1024
_PDF, _ZIP = (b"%PDF",), (b"PK\x03\x04", b"PK\x05\x06")
# extension → the leading bytes a real file of that type starts with
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "pdf": _PDF,
    "ai": _PDF + (b"%!PS",),  # Illustrator saves PDF-compatible files; old ones are PostScript
    "psd": (b"8BPS",),
    "cdr": (b"RIFF",) + _ZIP,  # CorelDRAW: RIFF up to X3, a zip container since X4
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "tif": (b"II*\x00", b"MM\x00*"),
    "tiff": (b"II*\x00", b"MM\x00*"),
    "zip": _ZIP,
}
ALLOWED_TYPES_SHOWN = ("pdf", "ai", "psd", "cdr", "jpg", "png", "tif", "zip")
SUBFOLDER = "design"


@dataclass(frozen=True)
class CheckedFile:
    original_name: str
    extension: str
    data: bytes


def check(upload) -> CheckedFile | None:
    """Read and check an uploaded file (anything with ``filename`` and ``read``); None when empty."""
    filename = (getattr(upload, "filename", "") or "").strip()
    if not filename:
        return None
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in SIGNATURES:
        raise _invalid(_l("不支持的文件类型，只能上传 %(types)s 文件", types=join_list(ALLOWED_TYPES_SHOWN)))
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise _invalid(_l("文件不能超过 20 MB"))
    if not data:
        raise _invalid(_l("上传的文件是空的"))
    if not data.startswith(SIGNATURES[extension]):
        raise _invalid(_l("文件内容与扩展名 .%(ext)s 不符，请上传真实的 %(ext)s 文件", ext=extension))
    # Only the last path part of the name is kept, for display and the download name.
    original = filename.replace("\\", "/").rsplit("/", 1)[-1][:200]
    return CheckedFile(original, extension, data)


def store(checked: CheckedFile) -> str:
    """Write the file under UPLOAD_FOLDER with a random name; returns the stored relative path."""
    relative = f"{SUBFOLDER}/{secrets.token_hex(16)}.{checked.extension}"
    path = absolute_path(relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(checked.data)
    return relative


def absolute_path(relative: str) -> str:
    root = os.path.abspath(current_app.config["UPLOAD_FOLDER"])
    path = os.path.abspath(os.path.join(root, relative))
    if not path.startswith(root + os.sep):
        raise Invalid(_l("文件路径无效"))
    return path


def _invalid(message) -> Invalid:
    return Invalid(message, fields={"design_file": message}, code="design_file")
