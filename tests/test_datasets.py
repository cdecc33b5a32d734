"""Paper-scale data: the cache, the checksum, atomic writes, the offline error, and the
readers, on small files the tests make (nothing is downloaded)."""

import gzip
import io
import pickle
import tarfile

import numpy as np
import pytest

from overparam import datasets


def _idx(array: np.ndarray) -> bytes:
    header = (0x08 << 8 | array.ndim).to_bytes(4, "big")
    header += b"".join(int(s).to_bytes(4, "big") for s in array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def mirror(tmp_path):
    src = tmp_path / "mirror"
    src.mkdir()
    return src


def test_fetch_downloads_verifies_and_reuses(tmp_path, mirror):
    (mirror / "a.bin").write_bytes(b"hello")
    good = datasets.md5(mirror / "a.bin")
    dest = datasets.fetch("Demo", "a.bin", good, [mirror.as_uri() + "/"], tmp_path / "cache")
    assert dest.read_bytes() == b"hello"
    (mirror / "a.bin").unlink()  # now offline: the cached copy is used, nothing is fetched
    assert datasets.fetch("Demo", "a.bin", good, [mirror.as_uri() + "/"], tmp_path / "cache") == dest


def test_checksum_mismatch_keeps_nothing(tmp_path, mirror):
    (mirror / "a.bin").write_bytes(b"tampered")
    with pytest.raises(datasets.ChecksumError, match="Demo: .* expected 0+"):
        datasets.fetch("Demo", "a.bin", "0" * 32, [mirror.as_uri() + "/"], tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []  # no partial or wrong file left


def test_a_corrupt_cached_file_is_fetched_again(tmp_path, mirror):
    (mirror / "a.bin").write_bytes(b"hello")
    good = datasets.md5(mirror / "a.bin")
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "a.bin").write_bytes(b"hel")  # an interrupted copy from elsewhere
    dest = datasets.fetch("Demo", "a.bin", good, [mirror.as_uri() + "/"], tmp_path / "cache")
    assert dest.read_bytes() == b"hello"


def test_offline_error_names_dataset_path_and_scale(tmp_path, monkeypatch):
    monkeypatch.setenv("OVERPARAM_DATA", str(tmp_path / "data"))
    monkeypatch.setattr(datasets, "MNIST_MIRRORS", [(tmp_path / "nowhere").as_uri() + "/"])
    with pytest.raises(datasets.DatasetUnavailable) as info:
        datasets.mnist()
    message = str(info.value)
    assert "MNIST" in message and str(tmp_path / "data" / "mnist") in message
    assert "OVERPARAM_SCALE=book" in message


def test_mnist_reader_on_a_tiny_archive(tmp_path, mirror, monkeypatch):
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (5, 28, 28)),
        "train-labels-idx1-ubyte.gz": np.arange(5),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (3, 28, 28)),
        "t10k-labels-idx1-ubyte.gz": np.array([7, 8, 9]),
    }
    sums = {}
    for name, a in arrays.items():
        (mirror / name).write_bytes(_idx(a))
        sums[name] = datasets.md5(mirror / name)
    monkeypatch.setattr(datasets, "MNIST_MIRRORS", [mirror.as_uri() + "/"])
    monkeypatch.setattr(datasets, "MNIST_FILES", sums)
    split = datasets.mnist(tmp_path / "cache")
    assert split.x_train.shape == (5, 784) and split.x_test.shape == (3, 784)
    expect = arrays["train-images-idx3-ubyte.gz"][2].reshape(-1) / 255.0
    np.testing.assert_allclose(split.x_train[2].numpy(), expect, rtol=1e-6)
    assert split.y_test.tolist() == [7, 8, 9] and split.y_train.dtype.is_floating_point is False


def test_cifar10_reader_on_a_tiny_archive(tmp_path, mirror, monkeypatch):
    rng = np.random.default_rng(1)
    buf = io.BytesIO()
    batches = {}
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            entry = {"data": rng.integers(0, 256, (2, 3072), dtype=np.uint8), "labels": [1, 2]}
            batches[name] = entry
            blob = pickle.dumps(entry)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    (mirror / "cifar-10-python.tar.gz").write_bytes(buf.getvalue())
    monkeypatch.setattr(datasets, "CIFAR10_URLS", [mirror.as_uri() + "/"])
    monkeypatch.setattr(datasets, "CIFAR10_FILE",
                        ("cifar-10-python.tar.gz", datasets.md5(mirror / "cifar-10-python.tar.gz")))
    split = datasets.cifar10(tmp_path / "cache")
    assert split.x_train.shape == (10, 3, 32, 32) and split.x_test.shape == (2, 3, 32, 32)
    first = batches["data_batch_1"]["data"][0].reshape(3, 32, 32) / 255.0
    np.testing.assert_allclose(split.x_train[0].numpy(), first, rtol=1e-6)
    assert split.y_train.tolist() == [1, 2] * 5
