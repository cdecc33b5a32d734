"""Real image data sets for the paper scale: MNIST and CIFAR-10, downloaded once, checked.

The test and book scales never call this module (their data is generated locally by
:mod:`overparam.data`). At paper scale a chapter asks for :func:`mnist` or :func:`cifar10`;
the official archives are downloaded into a cache folder (``$OVERPARAM_DATA``, default
``~/.cache/overparam``), each verified against its published MD5 checksum (the ones
torchvision checks) and moved into place atomically, so an interrupted download never
leaves a file that looks complete. The archives are read directly with numpy, so neither
torchvision nor PIL is needed. Offline, the error names the data set, the cache path and
the scale that needs no download.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import shutil
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import torch

from overparam.data import Split

ENV_VAR = "OVERPARAM_DATA"

MNIST_MIRRORS = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
MNIST_FILES = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
CIFAR10_URLS = ["https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"]
CIFAR10_FILE = ("cifar-10-python.tar.gz", "c58f30108f718f92721af3b95e74349a")


class DatasetUnavailable(RuntimeError):
    """The data set is not in the cache and could not be downloaded."""


class ChecksumError(RuntimeError):
    """A downloaded file does not match its published checksum (it was not kept)."""


def cache_dir() -> Path:
    """Where archives are kept: ``$OVERPARAM_DATA``, else ``~/.cache/overparam``."""
    return Path(os.environ.get(ENV_VAR) or Path.home() / ".cache" / "overparam")


def md5(path: Path) -> str:
    h = hashlib.md5()  # noqa: S324 (the published checksums are MD5; integrity, not security)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch(dataset: str, filename: str, checksum: str, urls: list[str], folder: Path) -> Path:
    """``folder/filename``, downloaded from the first URL that answers when missing.

    The file is written to a temporary name, verified against ``checksum`` (MD5) and only
    then renamed into place. Raises :class:`ChecksumError` on a mismatch (nothing kept) and
    :class:`DatasetUnavailable` when no URL answers.
    """
    dest = Path(folder) / filename
    if dest.is_file() and md5(dest) == checksum:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{filename}.{os.getpid()}.part")
    errors = []
    for base in urls:
        url = base + filename if base.endswith("/") else base
        try:
            with urllib.request.urlopen(url, timeout=60) as response, open(tmp, "wb") as out:
                shutil.copyfileobj(response, out)
        except (urllib.error.URLError, OSError, ValueError) as err:
            errors.append(f"{url}: {err}")
            tmp.unlink(missing_ok=True)
            continue
        got = md5(tmp)
        if got != checksum:
            tmp.unlink(missing_ok=True)
            raise ChecksumError(f"{dataset}: {url} gave a file with MD5 {got}, expected {checksum}; nothing kept")
        tmp.replace(dest)  # atomic on one file system
        return dest
    raise DatasetUnavailable(
        f"{dataset}: {filename} is not in the cache at {dest} and could not be downloaded "
        f"({'; '.join(errors)}). Copy the file there by hand (or set ${ENV_VAR} to a folder "
        f"that has it), or run at OVERPARAM_SCALE=book, which generates its data locally."
    )


def _read_idx(path: Path) -> np.ndarray:
    """An IDX file (MNIST's format): a magic number giving the dimensions, then unsigned bytes."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[:4], "big")
    if magic >> 8 != 0x08:  # 0x08: unsigned byte entries
        raise ValueError(f"{path.name}: not an unsigned-byte IDX file (magic {magic:#x})")
    ndim = magic & 0xFF
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def mnist(folder: str | os.PathLike | None = None) -> Split:
    """MNIST (LeCun et al. 1998): 60 000 training and 10 000 test images.

    Returns:
        ``Split`` with x of shape (n, 784) float32 in [0, 1] and y int64 in 0..9.
    """
    root = Path(folder) if folder is not None else cache_dir() / "mnist"
    paths = {name: fetch("MNIST", name, sum_, MNIST_MIRRORS, root) for name, sum_ in MNIST_FILES.items()}
    arrays = {name: _read_idx(p) for name, p in paths.items()}

    def images(name):
        a = arrays[name]
        return torch.from_numpy(a.reshape(a.shape[0], -1).astype(np.float32) / 255.0)

    def labels(name):
        return torch.from_numpy(arrays[name].astype(np.int64))

    return Split(
        images("train-images-idx3-ubyte.gz"),
        labels("train-labels-idx1-ubyte.gz"),
        images("t10k-images-idx3-ubyte.gz"),
        labels("t10k-labels-idx1-ubyte.gz"),
    )


def _read_cifar_batches(archive: Path, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    with tarfile.open(archive, "r:gz") as tar:
        for name in names:
            member = tar.extractfile(f"cifar-10-batches-py/{name}")
            if member is None:
                raise ValueError(f"{archive.name}: no batch {name}")
            entry = pickle.load(member, encoding="latin1")  # noqa: S301 (checksummed archive)
            xs.append(np.asarray(entry["data"], dtype=np.uint8))
            ys.append(np.asarray(entry["labels"], dtype=np.int64))
    return np.concatenate(xs), np.concatenate(ys)


def cifar10(folder: str | os.PathLike | None = None) -> Split:
    """CIFAR-10 (Krizhevsky 2009): 50 000 training and 10 000 test colour images.

    Returns:
        ``Split`` with x of shape (n, 3, 32, 32) float32 in [0, 1] and y int64 in 0..9.
    """
    root = Path(folder) if folder is not None else cache_dir() / "cifar10"
    archive = fetch("CIFAR-10", *CIFAR10_FILE, CIFAR10_URLS, root)
    x_tr, y_tr = _read_cifar_batches(archive, [f"data_batch_{i}" for i in range(1, 6)])
    x_te, y_te = _read_cifar_batches(archive, ["test_batch"])

    def images(a):
        return torch.from_numpy(a.reshape(-1, 3, 32, 32).astype(np.float32) / 255.0)

    return Split(images(x_tr), torch.from_numpy(y_tr), images(x_te), torch.from_numpy(y_te))
