"""The freeze-thaw GP's fast posterior against the naive joint GP over every observation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from metaopt.algo._ftgp import FreezeThawGP
from metaopt.algo._ftgp import Hyper
from metaopt.algo._ftgp import decay_kernel
from metaopt.algo._ftgp import fit
from metaopt.algo._ftgp import matern52
from metaopt.algo._ftgp import shape

HYPER = Hyper(
    (0.4, 0.7), amp_x=0.8, alpha=1.3, beta=0.9, amp_t=1.7, noise=0.01, mean=0.2, lead=0.7
)


def small_case(seed: int, n: int = 7, longest: int = 8):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 2))
    curves = []
    for i in range(n):
        length = int(rng.integers(1, longest + 1))
        start = 1 if i % 2 else int(rng.integers(1, 3))  # some curves share times, some not
        t = np.arange(start, start + length, dtype=float)
        y = 0.3 + x[i, 0] + np.exp(-0.4 * t) + 0.05 * rng.normal(size=length)
        curves.append((t, y))
    return x, curves


class JointGP:
    """Every observation and the asymptotes as one Gaussian vector: O((sum T)^3), by the book."""

    def __init__(self, hyper: Hyper, x, curves):
        self.hyper, self.x, self.curves = hyper, x, curves
        self.owner = np.concatenate([[n] * len(t) for n, (t, _) in enumerate(curves)])
        self.y = np.concatenate([y for _, y in curves])
        kx = matern52(x, x, hyper) + 1e-8 * np.eye(len(curves))
        self.kx = kx
        sigma = kx[self.owner][:, self.owner] + hyper.noise * np.eye(len(self.y))
        for n in range(len(curves)):
            rows = np.flatnonzero(self.owner == n)
            t = curves[n][0]
            sigma[np.ix_(rows, rows)] += decay_kernel(t, t, hyper)
        self.sigma = sigma
        times = np.concatenate([t for t, _ in curves])
        self.prior_mean = hyper.mean + hyper.lead * shape(times, hyper)
        self.resid = self.y - self.prior_mean

    def log_likelihood(self):
        return multivariate_normal(self.prior_mean, self.sigma).logpdf(self.y)

    def condition(self, cross, prior):
        """Posterior mean (less m) and covariance of latents with ``cross`` = Cov(latent, y)."""
        solved = np.linalg.solve(self.sigma, cross.T)
        return cross @ np.linalg.solve(self.sigma, self.resid), prior - cross @ solved

    def asymptotes(self):
        shift, cov = self.condition(self.kx[:, self.owner], self.kx)
        return self.hyper.mean + shift, cov

    def new_asymptote(self, xs):
        k = matern52(xs, self.x, self.hyper)
        shift, cov = self.condition(k[:, self.owner], matern52(xs, xs, self.hyper))
        return self.hyper.mean + shift, np.diag(cov)

    def continuation(self, n, times):
        cross = np.repeat(self.kx[n][self.owner][None, :], len(times), axis=0)
        rows = np.flatnonzero(self.owner == n)
        cross[:, rows] += decay_kernel(times, self.curves[n][0], self.hyper)
        prior = self.kx[n, n] + decay_kernel(times, times, self.hyper)
        shift, cov = self.condition(cross, prior)
        return self.hyper.mean + self.hyper.lead * shape(times, self.hyper) + shift, cov


@pytest.mark.parametrize("seed", range(5))
def test_posterior_equals_the_naive_joint_gp(seed):
    x, curves = small_case(seed)
    fast, naive = FreezeThawGP(HYPER, x, curves), JointGP(HYPER, x, curves)
    assert fast.log_likelihood == pytest.approx(naive.log_likelihood(), abs=1e-8)
    mu, cov = naive.asymptotes()
    np.testing.assert_allclose(fast.mu, mu, atol=1e-8)
    np.testing.assert_allclose(fast.cov, cov, atol=1e-8)
    xs = np.random.default_rng(seed + 100).random((4, 2))
    mean, var = naive.new_asymptote(xs)
    got_mean, got_var = fast.predict_asymptote(xs)
    np.testing.assert_allclose(got_mean, mean, atol=1e-8)
    np.testing.assert_allclose(got_var, var, atol=1e-8)
    for n in (0, len(curves) - 1):
        future = curves[n][0][-1] + np.array([1.0, 3.0, 20.0])
        mean, cov = naive.continuation(n, future)
        got_mean, got_cov = fast.predict_curve(n, future)
        np.testing.assert_allclose(got_mean, mean, atol=1e-8)
        np.testing.assert_allclose(got_cov, cov, atol=1e-8)


def test_all_curves_at_once_match_one_by_one():
    x, curves = small_case(8, n=9)
    model = FreezeThawGP(HYPER, x, curves)
    targets = np.array([t[-1] + 1.0 + (n % 3) for n, (t, _) in enumerate(curves)])
    mean, var = model.predict_at(targets)
    for n, target in enumerate(targets):
        one_mean, one_cov = model.predict_curve(n, np.array([target]))
        assert mean[n] == pytest.approx(one_mean[0], abs=1e-10)
        assert var[n] == pytest.approx(one_cov[0, 0], abs=1e-10)


def test_curves_act_on_asymptotes_as_pseudo_observations():
    # the asymptotes' posterior is plain heteroscedastic GP regression on (x_n, z_n, 1/lam_n)
    x, curves = small_case(11)
    model = FreezeThawGP(HYPER, x, curves)
    z, noise = model.pseudo_observations()
    kx = matern52(x, x, HYPER) + 1e-8 * np.eye(len(x))
    system = kx + np.diag(noise)
    np.testing.assert_allclose(
        model.mu, HYPER.mean + kx @ np.linalg.solve(system, z - HYPER.mean), atol=1e-8
    )
    np.testing.assert_allclose(model.cov, kx - kx @ np.linalg.solve(system, kx), atol=1e-8)


def test_a_long_curve_hands_over_to_its_asymptote():
    x, curves = small_case(3)
    model = FreezeThawGP(HYPER, x, curves)
    mean, cov = model.predict_curve(0, np.array([1e7]))
    assert mean[0] == pytest.approx(model.mu[0], abs=1e-3)
    assert cov[0, 0] == pytest.approx(model.cov[0, 0], abs=1e-3)
    at = np.array([curves[0][0][-1] + 1.0])
    near_mean, _ = model.predict_curve(0, at)
    assert abs(near_mean[0] - curves[0][1][-1]) < abs(model.mu[0] - curves[0][1][-1]) + 0.5


def test_new_curve_variance_adds_the_curve_kernel():
    x, curves = small_case(4)
    model = FreezeThawGP(HYPER, x, curves)
    xs = np.array([[0.5, 0.5]])
    asymptote_mean, asymptote_var = model.predict_asymptote(xs)
    mean, var = model.predict_new_curve(xs, 2.0)
    expected = HYPER.amp_t * (HYPER.beta / (4.0 + HYPER.beta)) ** HYPER.alpha
    assert var[0] - asymptote_var[0] == pytest.approx(expected)
    lead = HYPER.lead * (HYPER.beta / (2.0 + HYPER.beta)) ** HYPER.alpha
    assert mean[0] - asymptote_mean[0] == pytest.approx(lead)


def test_fit_finds_the_decay_of_curves_drawn_from_the_model():
    rng = np.random.default_rng(5)
    truth = Hyper(
        (0.3,), amp_x=1.0, alpha=2.0, beta=2.0, amp_t=4.0, noise=1e-3, mean=0.0, lead=2.0
    )
    x = rng.random((30, 1))
    t = np.arange(1.0, 16.0)
    fs = rng.multivariate_normal(np.zeros(30), matern52(x, x, truth) + 1e-8 * np.eye(30))
    kt = decay_kernel(t, t, truth) + truth.noise * np.eye(len(t))
    lead = truth.lead * shape(t, truth)
    curves = [(t, f + lead + rng.multivariate_normal(np.zeros(len(t)), kt)) for f in fs]
    start = Hyper.default(1, list(np.concatenate([y for _, y in curves])))
    fitted = fit(x, curves, restarts=1)
    assert fitted.log_likelihood > FreezeThawGP(start, x, curves).log_likelihood
    assert fitted.log_likelihood >= FreezeThawGP(truth, x, curves).log_likelihood - 5.0
    # what a thaw relies on: the fitted model places every curve's asymptote near its truth
    assert np.abs(fitted.mu - fs).mean() < 0.5 * np.abs(fs - fs.mean()).mean()
    assert math.isfinite(fitted.log_likelihood)


@pytest.mark.parametrize("seed", range(3))
def test_gradient_matches_finite_differences(seed):
    x, curves = small_case(seed, n=9)
    v = HYPER.vector()
    grad = FreezeThawGP(HYPER, x, curves).gradient()
    for j in range(len(v)):
        step = np.zeros_like(v)
        step[j] = 1e-6
        up = FreezeThawGP(Hyper.from_vector(v + step), x, curves).log_likelihood
        down = FreezeThawGP(Hyper.from_vector(v - step), x, curves).log_likelihood
        assert grad[j] == pytest.approx((up - down) / 2e-6, rel=1e-4, abs=1e-5), j
