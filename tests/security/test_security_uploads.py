"""Uploaded design files: refused by extension, by leading bytes and by size with a Chinese message;
kept inside the upload folder; served only as an attachment that the browser may not sniff."""
import io
from urllib.parse import unquote

import pytest
from werkzeug.datastructures import FileStorage

from app.services.core.errors import Invalid
from app.services.workorders import design_files

GOOD_STARTS = {
    "pdf": b"%PDF-1.7", "ai": b"%!PS-Adobe", "psd": b"8BPS", "cdr": b"RIFF", "jpg": b"\xff\xd8\xff\xe0",
    "jpeg": b"\xff\xd8\xff\xe0", "png": b"\x89PNG\r\n\x1a\n", "tif": b"II*\x00", "tiff": b"MM\x00*",
    "zip": b"PK\x03\x04",
}


def _upload(name, content):
    return FileStorage(stream=io.BytesIO(content), filename=name)


def _refusal(app, upload) -> str:
    with app.test_request_context():
        with pytest.raises(Invalid) as refused:
            design_files.check(upload)
        assert refused.value.fields == {"design_file": refused.value.message}
        return str(refused.value.message)


@pytest.mark.parametrize("extension", sorted(design_files.SIGNATURES))
def test_every_allowed_type_passes_with_its_real_leading_bytes(app, extension):
    with app.test_request_context():
        checked = design_files.check(_upload(f"稿件.{extension.upper()}", GOOD_STARTS[extension] + b"..."))
    assert (checked.original_name, checked.extension) == (f"稿件.{extension.upper()}", extension)


WRONG_TYPE = "不支持的文件类型，只能上传 pdf、ai、psd、cdr、jpg、png、tif、zip 文件"


@pytest.mark.parametrize("name, content, message", [
    ("setup.exe", b"MZ\x90\x00", WRONG_TYPE),
    ("page.html", b"<html><script>", WRONG_TYPE),
    ("稿件.svg", b"<svg onload=alert(1)>", WRONG_TYPE),
    ("no_extension", b"%PDF-1.7", WRONG_TYPE),
    ("fake.png", b"<html><script>alert(1)</script>", "文件内容与扩展名 .png 不符，请上传真实的 png 文件"),
    ("fake.pdf", b"MZ\x90\x00", "文件内容与扩展名 .pdf 不符，请上传真实的 pdf 文件"),
    ("empty.jpg", b"", "上传的文件是空的"),
])
def test_a_wrong_type_is_refused_in_chinese(app, name, content, message):
    assert _refusal(app, _upload(name, content)) == message


def test_a_file_over_the_limit_is_refused_in_chinese(app):
    # The service checks the size itself, whatever the web server's request limit is.
    big = _upload("big.pdf", b"%PDF" + b"0" * design_files.MAX_BYTES)
    assert _refusal(app, big) == "文件不能超过 20 MB"


def test_a_request_over_the_limit_is_refused_before_it_is_read(app, client, login_as):
    login_as("maker")
    too_big = io.BytesIO(b"%PDF" + b"0" * app.config["MAX_CONTENT_LENGTH"])
    response = client.post("/workorders", data={"design_file": (too_big, "big.pdf")},
                           content_type="multipart/form-data", headers={"HX-Request": "true"})
    assert response.status_code == 413
    assert unquote(response.headers["X-Message"]) == "上传的文件太大"


def test_only_the_last_part_of_a_path_is_kept_as_the_name(app):
    with app.test_request_context():
        checked = design_files.check(_upload("..\\..\\windows\\稿件.pdf", b"%PDF-1.7"))
    assert checked.original_name == "稿件.pdf"


@pytest.mark.parametrize("stored", ["../secret_key", "design/../../etc/passwd", "/etc/passwd"])
def test_a_stored_path_outside_the_upload_folder_is_refused(app, stored):
    with app.test_request_context(), pytest.raises(Invalid) as refused:
        design_files.absolute_path(stored)
    assert str(refused.value.message) == "文件路径无效"
