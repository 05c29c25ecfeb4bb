"""The build engine for many parameterised reports.

- :mod:`.fanout`      ``python build.py --by ...``: plan, cache, run, index, assemble
- :mod:`.cache`       keys on everything a report depends on; dependencies recorded while it runs
- :mod:`.deps`        the recorder installed in each report's kernel
- :mod:`.executors`   warm local workers (``--jobs``) or a Dask cluster (``--executor dask``)
- :mod:`.worker`      a warm worker: heavy imports once, one fork per report
- :mod:`.forkserver`  the ``barometer`` papermill engine: kernels forked from a warm process
"""
