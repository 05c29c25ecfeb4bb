"""Design-based estimation for complex surveys, numerically equal to R's
``survey`` package (T. Lumley), version 4.x.

Design
------
``Design(data, ids, strata, weights, fpc, nest, lonely_psu)`` mirrors
``svydesign(id=, strata=, weights=, fpc=, nest=)``: ids of later stages are
interacted with earlier ones, strata of stage k > 1 are (stratum x unit of
stage k-1), ``fpc`` values > 1 are population counts, values <= 1 sampling
fractions (``as.fpc``), and PSUs must be nested in strata unless ``nest=True``.

Variance (``svyrecvar``)
------------------------
Every estimator is a smooth function of totals; its variance is that of the
total of an influence variable ``z_i`` (weighted, zero outside the domain)::

    V = sum_h  f_h n_h/(n_h-1) sum_{j in h} (z_hj - zbar_h)(z_hj - zbar_h)'
        + sum_{PSU} (n_h/N_h) * [same formula for stage 2 within the PSU] + ...

with ``z_hj`` the PSU totals, ``zbar_h`` their mean over the ``n_h`` PSUs
sampled in stratum h, ``f_h = (N_h - n_h)/N_h`` (1 without fpc).  Later stages
enter only with a fpc (R ``multistage``).  Single-PSU strata follow
``lonely_psu`` (R ``options(survey.lonely.psu)``).

Influence variables: mean ``w(y - ybar)/sum w``; total ``w y``; ratio
``w(y - R x)/T_x``; glm ``X r w (X'WX)^-1`` (working residuals and weights).

Domains
-------
``subset()`` keeps every PSU (R ``subset.survey.design``): out-of-domain rows
get weight 0, PSU counts per stratum stay those of the full sample.  Missing
values in analysis variables are dropped the same way (R with ``na.rm=TRUE``:
``design[nas == 0, ]``).  ``degf()`` counts PSUs with non-zero weight.

Model formulas (``_glm.parse_formula``)
--------------------------------------
R's formula algebra for ``glm``, ``calibrate`` and ``regterm_test``: ``+``,
``a*b`` (= ``a + b + a:b``), ``a:b``, parentheses, ``- term``, ``0``/``1``/``-1``.
Numeric columns enter as they are; ``C(col)`` and non-numeric columns are
factors (levels sorted; R's names: ``stypeH``, ``C(stype)H``).  Terms are
ordered by degree as R's ``terms()``; a factor in a term gets treatment
contrasts when the term without it is empty or in an earlier term, else
indicator columns (R's ``TermCode``); interaction columns are products, the
first variable varying fastest, named ``a:b`` (R ``model.matrix``).

Calibration (``Design.calibrate`` = ``calibrate``)
-------------------------------------------------
Population totals are named by the model-matrix columns of a one-sided
formula, as in R.  ``calfun="linear"`` (GREG, one solve), ``"raking"`` and
``"logit"`` (finite ``bounds``; bounded ``"linear"`` too) iterate as R's
``grake``.  Variance: influence values are replaced by their residuals from
the weighted regression on the calibration variables, ``w_c qr.resid(Q,
x/w_c)`` with ``w_c = g sqrt(w)`` (R ``svyrecvar`` with a ``greg_calibration``).
``rake`` and ``poststratify`` keep R's own residual steps for those designs.

Replicate weights (``ReplicateDesign`` = ``svrepdesign``; ``as_replicate`` = ``as.svrepdesign``)
----------------------------------------------------------------------------------------------
Types JK1, JKn, BRR, Fay (``rho``), bootstrap, other; ``scale``,
``rscales``, ``mse`` and the combined-weights checks as R.  ``as_replicate``
builds R's jackknife, BRR (R's Hadamard matrices: ``_hadamard``) and Fay
weights from the first-stage PSUs and strata, or a bootstrap (numpy's random
numbers, not R's).  Estimates are recomputed with every replicate's weights
(one matrix product for ``mean``/``total``/``ratio``/``by``; ``glm`` refits
per replicate from the full-sample coefficients, as ``svyglm.svyrep.design``;
``ciprop`` ``logit`` refits ``y ~ 1``) and ``V = scale sum_r rscales_r
(theta_r - c)^2`` (R ``svrVar``), ``c`` the replicate mean or, with
``mse=True``, the estimate.  ``degf()`` = rank of the replicate weights - 1
(R ``degf.svyrep.design``).

Not covered (R has them): PPS/Brewer designs, ``twophase``, calibration of
replicate designs, ``calibrate`` at later stages (``stage=``), ``aggregate.stage``
and ``trim``, ``as.svrepdesign`` types ``subbootstrap``/``mrbbootstrap`` and
``compress=FALSE``, ``svyciprop(method="likelihood")`` on replicate designs,
``regTermTest(method="LRT")``, ``options(survey.adjust.domain.lonely)`` and
``survey.ultimate.cluster``; a singular glm model matrix is an error rather
than R's NA coefficients; factor levels are those present in the fitted rows.  Of the descriptive statistics: nonlinear ``svycontrast``
(expressions, delta method), the replicate-weight quantile intervals,
``svytable(y ~ a)``, ``svyratio(deff=TRUE)``,
``svyby`` with ``deff`` for ratios or ``covmat`` for ``svyciprop``.

Other R counterparts: ``ciprop`` = ``svyciprop`` (logit, likelihood, asin,
beta, mean, xlogit, wilson), ``by`` = ``svyby``, ``chisq`` = ``svychisq`` (Rao-Scott F
and Chisq, Wald, adjWald), ``glm`` = ``svyglm`` + ``summary.svyglm``
(gaussian, quasibinomial, quasipoisson), ``regterm_test`` = ``regTermTest``
(Wald F on the model's residual df, or chi-square with ``df=inf``),
``poststratify`` = ``postStratify``, ``rake`` = ``rake``, ``calibrate`` =
``calibrate``, ``ReplicateDesign`` = ``svrepdesign``, ``as_replicate`` =
``as.svrepdesign``; on replicate designs ``mean``, ``total``, ``ratio``,
``ciprop``, ``by`` and ``glm`` are the ``svyrep.design`` methods.

Descriptive statistics and tests (issue 15; details in ``_describe``,
``_contrast``, ``_quantile``, ``_table``), all to 1e-8 of R survey 4.x:

* ``mean(y, factor=True)`` / ``total(y, factor=True)`` = ``svymean(~factor(y))``
  / ``svytotal``: an :class:`Estimates` (every level, with covariance);
* ``mean/total(y, deff=True | "replace")`` = R's ``deff=``: ``.deff`` and
  ``.deft`` (``sqrt(deff)``); R's default compares with simple random
  sampling without replacement from ``N = sum(w)``, ``"replace"`` with
  replacement, whether or not the design has a fpc; a constant gives NaN;
* ``cv(x)`` / ``.cv`` = ``cv()``: SE / estimate;
* ``by(..., covmat=True)`` = ``svyby(covmat=TRUE)`` (an :class:`Estimates`),
  ``by(..., deff=True)`` adds ``deff``/``deft`` columns;
* ``contrast(est, weights)`` = ``svycontrast`` (linear);
* ``difference(a, b, df="welch"|"min"|inf)`` and ``compare(design_a,
  design_b, y, statistic)``: independent samples, variances add, t on
  Welch-Satterthwaite (default) or min(df) degrees of freedom (R has no
  counterpart);
* ``table(*cols, Ntotal, round)`` / ``crosstab(a, b)`` = ``svytable``;
* ``ttest(y)`` / ``ttest(y, group)`` = ``svyttest(y ~ 0)`` / ``svyttest(y ~ group)``
  (a :class:`TestResult`: estimate, se, t, df, p, ci);
* ``var(y)`` = ``svyvar`` (n counts non-missing rows, as survey >= 4.2);
* ``quantile(y, quantiles, alpha, interval_type, qrule, ci, df)`` =
  ``svyquantile`` (4.x: ``qrule="math"`` and Woodruff's ``interval.type="mean"``
  by default, every ``qrule``, interval types mean/beta/xlogit/asin/score;
  ties decided as survey >= 4.2);
* ``ciprop(y, method="wilson")`` = ``svyciprop(method="wilson")`` (survey >= 4.5).
"""

from .design import Design
from ._results import CIProp, Estimate, GLMResult
from ._variance import LonelyPSUError
from ._glm import TermTest, regterm_test
from ._replicate import ReplicateDesign, as_replicate
from ._calibrate import calibrate

# issue 15: contrasts, differences, design effects, tables, tests, quantiles
from ._contrast import Estimates, TestResult, compare, contrast, cv, difference

__all__ = ["Design", "Estimate", "CIProp", "GLMResult", "LonelyPSUError",
           "Estimates", "TestResult", "contrast", "difference", "compare", "cv"]
__all__ += ["ReplicateDesign", "as_replicate", "calibrate", "regterm_test", "TermTest"]
