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

Not covered (R has them): replicate-weight designs, PPS/Brewer designs,
``twophase``, ``calibrate()`` (GREG), ``options(survey.adjust.domain.lonely)``
and ``survey.ultimate.cluster``; a singular glm model matrix is an error
rather than R's NA coefficients; ``C(col)`` levels are those present in the
fitted rows.

Other R counterparts: ``ciprop`` = ``svyciprop`` (logit, likelihood, asin,
beta, mean, xlogit), ``by`` = ``svyby``, ``chisq`` = ``svychisq`` (Rao-Scott F
and Chisq, Wald, adjWald), ``glm`` = ``svyglm`` + ``summary.svyglm``,
``poststratify`` = ``postStratify``, ``rake`` = ``rake``.
"""

from .design import CIProp, Design, Estimate, GLMResult
from ._variance import LonelyPSUError
from ._glm import TermTest, regterm_test
from ._replicate import ReplicateDesign, as_replicate
from ._calibrate import calibrate

__all__ = ["Design", "Estimate", "CIProp", "GLMResult", "LonelyPSUError"]
__all__ += ["ReplicateDesign", "as_replicate", "calibrate", "regterm_test", "TermTest"]
