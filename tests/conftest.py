import pytest
import torch


@pytest.fixture(autouse=True)
def _float64_default():
    """Tests compute in float64 unless they say otherwise; restore the default afterwards."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)
