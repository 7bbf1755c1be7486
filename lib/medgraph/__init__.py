"""medgraph: graph methods for medical image analysis, the library behind the workbook.

Data flows image → superpixels or patches → graph → model → prediction → metric → report;
each arrow is a small tested function in one of the submodules:

- :mod:`medgraph.data`         data-set registry, loaders of the published formats, phantoms
- :mod:`medgraph.superpixels`  SNIC, SLIC and the pixel↔node bridge (association matrix Q)
- :mod:`medgraph.reporting`    atomic figures, tables and results.json with run metadata
- :mod:`medgraph.runs`         the papermill runner over ``papermill_runs.yaml``
"""

__version__ = "0.1.0"
