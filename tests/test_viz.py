"""Library modules leave matplotlib's backend alone, so that figures show in a kernel."""

import subprocess
import sys

import pytest

MODULES = ["medgraph.viz", "medgraph.classification", "medgraph.graphcut", "medgraph.features"]


@pytest.mark.parametrize("module", MODULES)
def test_importing_the_library_keeps_the_backend(module):
    script = (
        "import matplotlib; matplotlib.use('svg'); "
        f"import {module}; import matplotlib.pyplot; print(matplotlib.get_backend())"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "svg"
