"""Write binder/requirements.txt from requirements.txt: the same pins, torch's CPU build.

On Linux the default torch wheel is the multi-GB CUDA build; Binder's machines have no GPU,
so Binder installs torch from PyTorch's CPU wheel index. Run after changing a pin
(`make binder`); tests/test_product.py checks that the two files agree.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = """\
# The environment Binder and Thebe build (repo2docker reads this folder first).
# Generated from ../requirements.txt by scripts/sync_binder.py: the same pins, except that
# torch comes from PyTorch's CPU wheel index (the default Linux wheel is the multi-GB CUDA
# build, which Binder's CPU-only machines cannot use).
--extra-index-url https://download.pytorch.org/whl/cpu
"""


def main() -> None:
    pins = []
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("torch=="):
            line += "+cpu"
        pins.append(line)
    (ROOT / "binder" / "requirements.txt").write_text(HEADER + "\n".join(pins) + "\n")


if __name__ == "__main__":
    main()
