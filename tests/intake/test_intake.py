"""Submissions as TAs get them (grader.intake): folders, .py, notebooks, zips
from students and LMS exports, and archives that try to escape, explode or
confuse. No grading here: fast. (Rosters: test_roster.py.)"""

import io
import json
import zipfile

import pytest

from grader.intake import IntakeLimits, notebook_to_script, safe_id, stage_submissions

GOOD = "def conv_output_size(n, f, stride=1, padding=0):\n    return (n + 2 * padding - f) // stride + 1\n"


def make_zip(path, entries, *, raw_names=None):
    """Write a zip; ``raw_names`` maps an ASCII placeholder name to the raw
    bytes the name must have (zipfile itself always writes UTF-8 names)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            if isinstance(data, zipfile.ZipInfo):
                zf.writestr(data, name)
            else:
                zf.writestr(name, data)
    data = buffer.getvalue()
    for placeholder, raw in (raw_names or {}).items():
        assert len(placeholder.encode()) == len(raw)
        data = data.replace(placeholder.encode(), raw)
    path.write_bytes(data)
    return path


def notebook(*cells):
    return json.dumps({"cells": [{"cell_type": kind, "metadata": {}, "source": src, "outputs": []}
                                 for kind, src in cells], "nbformat": 4, "nbformat_minor": 5})


def by_id(subs):
    return {s.id: s for s in subs}


def test_folder_py_notebook_and_zip_per_student(tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "alice" / "lab1").mkdir(parents=True)
    (inbox / "alice" / "lab1" / "cnn.py").write_text(GOOD)
    (inbox / "alice" / "lab1" / "helper.py").write_text("X = 1\n")
    (inbox / "bob.py").write_text(GOOD)
    (inbox / "carol.ipynb").write_text(notebook(("markdown", "# hi"), ("code", "%matplotlib inline\n" + GOOD)))
    make_zip(inbox / "dave.zip", {"dave/cnn.py": GOOD, "__MACOSX/dave/._cnn.py": "junk"})
    (inbox / "notes.txt").write_text("not a submission")
    subs = by_id(stage_submissions([inbox], "cnn", tmp_path / "staging"))
    assert set(subs) == {"alice", "bob", "carol", "dave"}
    for sub in subs.values():
        assert sub.ok, sub.error
        assert (sub.path / "cnn.py").is_file() and sub.fingerprint
    assert (subs["alice"].path / "helper.py").is_file()
    assert "found cnn.py in lab1/" in subs["alice"].notes
    assert any("%matplotlib" in n for n in subs["carol"].notes)
    compile((subs["carol"].path / "cnn.py").read_text(), "cnn.py", "exec")


def test_same_names_get_unique_ids(tmp_path):
    for parent in ("solutions", "starter"):
        (tmp_path / parent / "cnn").mkdir(parents=True)
        (tmp_path / parent / "cnn" / "cnn.py").write_text(GOOD)
    subs = stage_submissions([tmp_path / "solutions" / "cnn", tmp_path / "starter" / "cnn"], "cnn", tmp_path / "s")
    assert [s.id for s in subs] == ["solutions-cnn", "starter-cnn"]


def test_a_folder_without_the_lab_file_is_an_error_row(tmp_path):
    (tmp_path / "class" / "erin").mkdir(parents=True)
    (tmp_path / "class" / "erin" / "a.py").write_text("x = 1")
    (tmp_path / "class" / "erin" / "b.py").write_text("y = 2")
    (tmp_path / "class" / "frank.rar").write_bytes(b"Rar!")
    (tmp_path / "class" / "gina.py").write_text(GOOD)
    subs = by_id(stage_submissions([tmp_path / "class", tmp_path / "nobody"], "cnn", tmp_path / "s"))
    assert "several candidates" in subs["erin"].error
    assert "only .zip" in subs["frank"].error
    assert "does not exist" in subs["nobody"].error
    assert subs["gina"].ok


def test_notebook_magics_and_shell_escapes_are_dropped():
    source, notes = notebook_to_script(notebook(
        ("code", ["import numpy as np\n", "!pip install tensorflow\n", "files = !ls\n", "np.mean?\n"]),
        ("code", ["%%bash\n", "rm -rf /\n"]),
        ("code", ["%%time\n", "def f(x):\n", "    %timeit x\n", "    return x + 1\n"]),
        ("code", ["get_ipython().run_line_magic('pwd', '')\n"]),
    ).encode(), "hw.ipynb")
    namespace = {}
    exec(compile(source, "hw", "exec"), namespace)
    assert namespace["f"](1) == 2
    assert "rm -rf" not in source and "pip install" not in source.replace("# dropped: !pip install", "")
    assert any("%%bash" in n for n in notes) and any("!pip install tensorflow" in n for n in notes)


def test_unreadable_notebook_is_an_error(tmp_path):
    (tmp_path / "x.ipynb").write_text("{not json")
    (sub,) = stage_submissions([tmp_path / "x.ipynb"], "cnn", tmp_path / "s")
    assert "not a readable notebook" in sub.error


def test_zip_slip_and_absolute_paths_are_refused(tmp_path):
    make_zip(tmp_path / "slip.zip", {"cnn.py": GOOD, "../../outside.py": "x"})
    make_zip(tmp_path / "abs.zip", {"cnn.py": GOOD, "/etc/cron.d/evil": "x"})
    subs = by_id(stage_submissions([tmp_path / "slip.zip", tmp_path / "abs.zip"], "cnn", tmp_path / "s"))
    assert "escapes its folder" in subs["slip"].error
    assert "absolute path" in subs["abs"].error
    assert not (tmp_path / "outside.py").exists() and not list(tmp_path.rglob("evil"))


def test_symlinks_are_skipped_and_nested_zips_not_opened(tmp_path):
    link = zipfile.ZipInfo("cnn_link.py")
    link.create_system, link.external_attr = 3, 0o120777 << 16
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("more.py", "x = 1")
    make_zip(tmp_path / "s1.zip", {"cnn.py": GOOD, "/etc/passwd": link, "deeper.zip": inner.getvalue()})
    (sub,) = stage_submissions([tmp_path / "s1.zip"], "cnn", tmp_path / "s")
    assert sub.ok
    assert not (sub.path / "cnn_link.py").exists() and not (sub.path / "more.py").exists()
    assert any("symbolic link" in n for n in sub.notes) and any("deeper.zip" in n for n in sub.notes)


def test_zip_bombs_are_refused(tmp_path):
    make_zip(tmp_path / "bomb.zip", {"cnn.py": GOOD, "zeros.bin": b"\0" * (30 << 20)})
    make_zip(tmp_path / "big.zip", {"cnn.py": GOOD, **{f"d{i}.bin": bytes(range(256)) * 2048 for i in range(4)}})
    subs = by_id(stage_submissions([tmp_path / "bomb.zip", tmp_path / "big.zip"], "cnn", tmp_path / "s",
                         limits=IntakeLimits(max_total=1 << 20)))
    assert "zip bomb" in subs["bomb"].error
    assert "more than 1 MB" in subs["big"].error


def test_non_utf8_names_and_sources(tmp_path):
    name = "学生作业"  # 8 bytes in GBK
    make_zip(tmp_path / "wang.zip", {"XXXXXXXX/cnn.py": GOOD + "# 注释\n".encode("gbk").decode("latin-1")},
             raw_names={"XXXXXXXX": name.encode("gbk")})
    (tmp_path / "li.py").write_bytes((GOOD + "# 中文注释\n").encode("gbk"))
    subs = by_id(stage_submissions([tmp_path / "wang.zip", tmp_path / "li.py"], "cnn", tmp_path / "s"))
    assert f"found cnn.py in {name}/" in subs["wang"].notes
    assert "中文注释" in (subs["li"].path / "cnn.py").read_text(encoding="utf-8")
    assert any("GBK" in n for n in subs["li"].notes)


def test_gradescope_export(tmp_path):
    meta = ("submission_101:\n  :submitters:\n  - :name: Alice Zhang\n    :sid: 'PB21000001'\n"
            "    :email: alice@mail.ustc.edu.cn\nsubmission_102:\n  :submitters:\n  - :name: Bob Li\n"
            "    :sid: 'PB21000002'\n  - :name: Carol Wu\n    :sid: 'PB21000003'\n")
    make_zip(tmp_path / "export.zip", {
        "assignment_1_export/submission_metadata.yml": meta,
        "assignment_1_export/submission_101/cnn.py": GOOD,
        "assignment_1_export/submission_102/lab/cnn.ipynb": notebook(("code", GOOD)),
    })
    subs = by_id(stage_submissions([tmp_path / "export.zip"], "cnn", tmp_path / "s"))
    assert set(subs) == {"PB21000001", "PB21000002"}
    assert subs["PB21000001"].name == "Alice Zhang" and subs["PB21000001"].ok
    assert subs["PB21000002"].ok and any("Carol Wu" in n for n in subs["PB21000002"].notes)


def test_canvas_and_moodle_exports(tmp_path):
    make_zip(tmp_path / "canvas.zip", {"zhangsan_101_9001_cnn.py": GOOD, "zhangsan_101_9001_utils.py": "A = 1",
                                       "lisi_late_102_9002_cnn-1.py": GOOD})
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("lab3/cnn.py", GOOD)
    make_zip(tmp_path / "moodle.zip", {"Wang Wu_5501_assignsubmission_file_/cnn.py": GOOD,
                                       "Zhao Liu_5502_assignsubmission_file_/lab3.zip": inner.getvalue()})
    subs = by_id(stage_submissions([tmp_path / "canvas.zip", tmp_path / "moodle.zip"], "cnn", tmp_path / "s"))
    assert set(subs) == {"zhangsan", "lisi", "Wang_Wu_5501", "Zhao_Liu_5502"}
    assert all(s.ok for s in subs.values()), {k: s.error for k, s in subs.items()}
    assert (subs["zhangsan"].path / "utils.py").is_file()
    assert subs["Zhao_Liu_5502"].name == "Zhao Liu"


def test_export_of_student_zips(tmp_path):
    alice, bob = io.BytesIO(), io.BytesIO()
    with zipfile.ZipFile(alice, "w") as zf:
        zf.writestr("cnn.py", GOOD)
    bob.write(b"garbage")
    make_zip(tmp_path / "all.zip", {"alice.zip": alice.getvalue(), "bob.zip": bob.getvalue(), "carol.py": GOOD})
    subs = by_id(stage_submissions([tmp_path / "all.zip"], "cnn", tmp_path / "s"))
    assert subs["alice"].ok and subs["carol"].ok
    assert "not a readable zip" in subs["bob"].error


def test_broken_zip_is_a_row_not_a_crash(tmp_path):
    (tmp_path / "eve.zip").write_bytes(b"PK\x03\x04garbage")
    (sub,) = stage_submissions([tmp_path / "eve.zip"], "cnn", tmp_path / "s")
    assert sub.id == "eve" and "not a readable zip" in sub.error


@pytest.mark.parametrize("text,expected", [("Alice Zhang", "Alice_Zhang"), ("../../etc", "etc"), ("张三", "张三"),
                                           ("", "submission"), ("a/b\\c", "a_b_c")])
def test_safe_ids(text, expected):
    assert safe_id(text) == expected


def test_corrupt_member_data_is_a_row(tmp_path):
    good = tmp_path / "ok.zip"
    make_zip(good, {"cnn.py": GOOD * 50})
    data = bytearray(good.read_bytes())
    start = data.index(b"cnn.py") + len("cnn.py")  # the local header's name, then the deflated bytes
    data[start + 10:start + 40] = b"\xff" * 30
    (tmp_path / "corrupt.zip").write_bytes(bytes(data))
    (sub,) = stage_submissions([tmp_path / "corrupt.zip"], "cnn", tmp_path / "s")
    assert "could not read the submission (error: Error -3 while decompressing" in sub.error  # zlib.error
