"""The CNN study's data: the synthetic shapes, and the switch to an
instructor's own images (a folder of class subfolders, or a prepared
tensorflow-datasets directory), each read from real files made here."""

import numpy as np
import pytest

from grader.data import images
from grader.data.images import (STUDY_DATA_ENV, STUDY_DATA_FILE, cnn_study_data, image_folder, shapes,
                                study_data_source, tfds_directory)


def test_shapes_are_deterministic_and_cover_every_class():
    x, y = shapes(300, seed=3)
    again, labels = shapes(300, seed=3)
    assert x.shape == (300, 20, 20, 1) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(x, again)
    np.testing.assert_array_equal(y, labels)
    assert set(y) == set(range(10))
    assert not np.array_equal(x, shapes(300, seed=4)[0])


def test_shape_classes_differ_beyond_the_noise():
    """Without noise or clutter, the mean image of each class is its own: a
    class whose mask were empty or a copy of another's would show here."""
    x, y = shapes(2000, noise=0.0, clutter=0, seed=0)
    means = np.stack([x[y == c].mean(axis=0).ravel() for c in range(10)])
    assert np.all(means.sum(axis=1) > 1.0)
    gaps = np.abs(means[:, None] - means[None]).sum(axis=-1)
    assert np.min(gaps[~np.eye(10, dtype=bool)]) > 1.0


def test_the_default_study_task_is_fixed(monkeypatch):
    monkeypatch.delenv(STUDY_DATA_ENV, raising=False)
    monkeypatch.setattr(images, "study_data_source", lambda data_dir=None: "shapes")
    task = cnn_study_data(train=200, test=100)
    again = cnn_study_data(train=200, test=100)
    assert task.x_train.shape == (200, 20, 20, 1) and task.x_test.shape == (100, 20, 20, 1)
    assert task.classes == images.SHAPE_NAMES
    np.testing.assert_array_equal(task.x_test, again.x_test)
    np.testing.assert_array_equal(task.y_train, again.y_train)


def _png_folder(root, colour=False):
    from PIL import Image

    rng = np.random.default_rng(0)
    for name, level in (("cat", 40), ("dog", 200)):
        (root / name).mkdir(parents=True)
        for i in range(3):
            pixels = np.clip(level + rng.integers(-10, 10, (12, 16)), 0, 255).astype(np.uint8)
            image = Image.fromarray(np.stack([pixels] * 3, axis=-1) if colour and i == 0 else pixels)
            image.save(root / name / f"{i}.png")
    (root / "notes.txt").write_text("not a class")
    return root


def test_an_image_folder_is_read_by_class_and_resized(tmp_path):
    x, y, classes = image_folder(_png_folder(tmp_path / "pets"), size=10)
    assert classes == ("cat", "dog")
    assert x.shape == (6, 10, 10, 1) and x.dtype == np.float32
    assert sorted(y.tolist()) == [0, 0, 0, 1, 1, 1]
    # Dark cats, bright dogs: the labels travel with their own images.
    assert x[y == 0].mean() < 0.25 < 0.7 < x[y == 1].mean()
    # A limit keeps every class: the classes are interleaved before the cut.
    assert sorted(image_folder(tmp_path / "pets", size=10, limit=2)[1].tolist()) == [0, 1]


def test_one_colour_image_makes_the_folder_rgb(tmp_path):
    x, _, _ = image_folder(_png_folder(tmp_path / "pets", colour=True), size=8)
    assert x.shape == (6, 8, 8, 3)


def test_the_switch_reads_an_environment_variable_or_a_file_in_the_data_directory(tmp_path, monkeypatch):
    folder = _png_folder(tmp_path / "pets")
    monkeypatch.setenv(STUDY_DATA_ENV, f"folder:{folder}")
    assert study_data_source() == f"folder:{folder}"
    task = cnn_study_data(train=4, test=2)
    assert task.x_train.shape == (4, 20, 20, 1) and task.classes == ("cat", "dog")
    assert sorted(np.concatenate([task.y_train, task.y_test]).tolist()) == [0, 0, 0, 1, 1, 1]
    # Fewer images than asked for: split two to one.
    small = cnn_study_data(train=2000, test=1000)
    assert (len(small.y_train), len(small.y_test)) == (4, 2)

    monkeypatch.delenv(STUDY_DATA_ENV)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    monkeypatch.setenv("DLKIT_DATA", str(data_dir))
    monkeypatch.setattr("pathlib.Path.home", lambda: tmp_path / "home")
    assert study_data_source() == "shapes"
    (data_dir / STUDY_DATA_FILE).write_text(f"\n  tfds:{tmp_path}/cifar10/3.0.2\n")
    assert study_data_source() == f"tfds:{tmp_path}/cifar10/3.0.2"


def test_a_relative_folder_in_the_file_is_a_folder_of_that_data_directory(tmp_path, monkeypatch):
    monkeypatch.delenv(STUDY_DATA_ENV, raising=False)
    data_dir = tmp_path / "data"
    _png_folder(data_dir / "pets")
    (data_dir / STUDY_DATA_FILE).write_text("folder:pets\n")
    assert study_data_source(data_dir) == f"folder:{data_dir / 'pets'}"
    assert cnn_study_data(train=4, test=2, data_dir=data_dir).classes == ("cat", "dog")


def test_the_study_files_carry_the_instructors_images_to_another_data_directory(tmp_path, monkeypatch):
    """What the grading sandbox gets: the same images, found through its own
    data directory alone, in the same split."""
    from grader.data import cnn_study_files

    monkeypatch.delenv(STUDY_DATA_ENV, raising=False)
    monkeypatch.setattr("pathlib.Path.home", lambda: tmp_path / "home")
    monkeypatch.setenv("DLKIT_DATA", str(tmp_path / "nothing"))
    assert cnn_study_files() == {}  # the synthetic shapes need nothing
    folder = _png_folder(tmp_path / "pets")
    monkeypatch.setenv(STUDY_DATA_ENV, f"folder:{folder}")
    files = cnn_study_files()
    assert files[STUDY_DATA_FILE] == b"folder:cnn-study\n"
    assert sorted(files) == sorted([STUDY_DATA_FILE] + [f"cnn-study/{p.relative_to(folder).as_posix()}"
                                                        for p in folder.rglob("*") if p.is_file()])
    here = cnn_study_data(train=4, test=2)
    elsewhere = tmp_path / "sandbox-data"
    for name, source in files.items():
        (elsewhere / name).parent.mkdir(parents=True, exist_ok=True)
        (elsewhere / name).write_bytes(source if isinstance(source, bytes) else source.read_bytes())
    monkeypatch.delenv(STUDY_DATA_ENV)
    there = cnn_study_data(train=4, test=2, data_dir=elsewhere)
    for a, b in zip(here, there):
        np.testing.assert_array_equal(a, b)
    monkeypatch.setenv(STUDY_DATA_ENV, f"folder:{tmp_path / 'gone'}")
    with pytest.raises(FileNotFoundError, match="gone is not a folder"):
        cnn_study_files()


@pytest.mark.parametrize("setting", ["mnist", "folder:", "tfds", "shapes:/x"])
def test_a_malformed_switch_says_what_it_expects(monkeypatch, setting):
    monkeypatch.setenv(STUDY_DATA_ENV, setting)
    with pytest.raises(ValueError, match="folder:/path/to/images"):
        cnn_study_data()


def test_a_prepared_tfds_directory_is_read_without_downloading(tmp_path, monkeypatch):
    tfds = pytest.importorskip("tensorflow_datasets")

    class TinyPets(tfds.core.GeneratorBasedBuilder, skip_registration=True):
        """Two classes of 12×12 RGB images, written here and read back."""

        VERSION = tfds.core.Version("1.0.0")

        def _info(self):
            return tfds.core.DatasetInfo(
                builder=self, features=tfds.features.FeaturesDict({
                    "image": tfds.features.Image(shape=(12, 12, 3)),
                    "label": tfds.features.ClassLabel(names=["cat", "dog"])}),
                supervised_keys=("image", "label"))

        def _split_generators(self, dl_manager):
            return {"train": self._generate_examples(4, 0), "test": self._generate_examples(2, 100)}

        def _generate_examples(self, n, start):
            for i in range(n):
                label = i % 2
                yield start + i, {"image": np.full((12, 12, 3), 30 + 200 * label, np.uint8), "label": label}

    builder = TinyPets(data_dir=str(tmp_path))
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(try_download_gcs=False))
    prepared = tmp_path / "tiny_pets" / "1.0.0"
    assert prepared.is_dir()

    x, y, classes = tfds_directory(prepared, size=6)
    assert classes == ("cat", "dog") and x.shape == (6, 6, 6, 3)
    assert sorted(y.tolist()) == [0, 0, 0, 1, 1, 1]
    assert x[y == 0].max() < 0.2 < 0.8 < x[y == 1].min()
    assert len(tfds_directory(prepared, size=6, limit=5)[1]) == 5

    monkeypatch.setenv(STUDY_DATA_ENV, f"tfds:{prepared}")
    task = cnn_study_data(train=4, test=2)
    assert task.x_train.shape == (4, 20, 20, 3) and task.classes == ("cat", "dog")
