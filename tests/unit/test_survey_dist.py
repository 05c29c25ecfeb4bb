"""barometer.survey._dist gives what scipy.stats gives (issue 16: the survey
code no longer imports scipy.stats), on a grid with the edge cases."""

import numpy as np
import pytest
from scipy import stats

from barometer.survey import _dist

P = np.array([0.0, 1e-300, 1e-12, 0.001, 0.025, 0.3, 0.5, 0.7, 0.975, 1 - 1e-12, 1.0, np.nan, -0.1, 1.1])
X = np.array([-np.inf, -40.0, -3.0, -1e-9, 0.0, 1e-9, 0.5, 2.0, 7.5, 40.0, np.inf, np.nan])
DF = np.array([-1.0, 0.0, 0.3, 1.0, 2.0, 4.5, 30.0, 1e6, np.inf, np.nan])
SHAPE = np.array([-1.0, 0.0, 1e-3, 0.5, 1.0, 2.5, 40.0, 1e5, np.nan])


def same(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    fin = np.isfinite(b)
    np.testing.assert_array_equal(a[~fin & ~np.isnan(b)], b[~fin & ~np.isnan(b)])
    np.testing.assert_allclose(a[fin], b[fin], rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", ["cdf", "sf"])
def test_normal_cdf_sf(name):
    same(getattr(_dist, f"norm_{name}")(X), getattr(stats.norm, name)(X))


@pytest.mark.parametrize("name", ["ppf", "isf"])
def test_normal_quantiles(name):
    same(getattr(_dist, f"norm_{name}")(P), getattr(stats.norm, name)(P))


def test_student_t():
    x, df = np.meshgrid(X, DF)
    same(_dist.t_sf(x, df), stats.t.sf(x, df))
    q, df = np.meshgrid(P, DF)
    same(_dist.t_ppf(q, df), stats.t.ppf(q, df))


def test_f_and_chi_square():
    x, d1, d2 = np.meshgrid(X, DF, DF)
    same(_dist.f_sf(x, d1, d2), stats.f.sf(x, d1, d2))
    x, df = np.meshgrid(X, DF)
    same(_dist.chi2_sf(x, df), stats.chi2.sf(x, df))


@pytest.mark.parametrize("name", ["ppf", "isf"])
def test_beta_quantiles(name):
    q, a, b = np.meshgrid(P, SHAPE, SHAPE)
    same(getattr(_dist, f"beta_{name}")(q, a, b), getattr(stats.beta, name)(q, a, b))


def test_scalars_stay_scalars():
    assert isinstance(_dist.t_ppf(0.975, 10), float)
    assert isinstance(_dist.norm_ppf(0.975), float)
    assert np.asarray(_dist.norm_ppf([0.025, 0.975])).shape == (2,)
