"""The shared input checks: the finite check must be exact also where the quick sum overflows."""

import pytest
import torch

from core.tensor_checks import all_finite, check_tensor


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_all_finite_when_the_sum_of_finite_values_overflows(dtype):
    big = torch.finfo(dtype).max / 4
    values = torch.full((3000, 1000), big, dtype=torch.float64).to(dtype)  # their sum is inf
    assert all_finite(values)
    for bad in (float("nan"), float("inf"), -float("inf")):
        spoiled = values.clone()
        spoiled[2999, 999] = bad
        assert not all_finite(spoiled)


def test_check_tensor_names_a_non_finite_input():
    with pytest.raises(ValueError, match="latent holds NaN or infinite values"):
        check_tensor(torch.tensor([1.0, float("nan")]), "latent")
    check_tensor(torch.tensor([True, False]), "mask", allow_bool=True)  # bools are finite
