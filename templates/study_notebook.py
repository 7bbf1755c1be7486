# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # NN · Title of the study
#
# *Reproduces §… (Table …, Fig …) of Author et al., "Title", Venue Year.*
#
# What the study claims, in two or three sentences, and what this notebook measures. Write the
# equations it implements next to the calls that compute them, and say for every figure what to
# look at. Numbers in the text are computed in the run, never typed in.
#
# Copy this file to `notebooks/NN_name.py`, pair it (`jupytext --sync notebooks/NN_name.py`),
# write its study module from `templates/study_module.py`, and follow the README's section
# "Adding a study".

# %% tags=["parameters"]
dataset = "wbc1"  # a registered data set (`medgraph data list`)
data_source = "auto"  # "real", "phantom", or "auto"
data_root = None
n_phantoms = 20
seed = 0  # seeds the data (phantoms), the split and training
epochs = 2
config = {}  # hyperparameter overrides (and RunOptions keys such as progress)
result_cache = None  # None, "auto" (.cache/runs; trained/ is read too) or a folder
device = "auto"
profile = "interactive"
run_name = "NN_name"
output_dir = None

# %%
import pandas as pd

from medgraph.options import RunOptions, split_settings
from medgraph.reporting import Report
from medgraph.store import resolve_result_cache
from medgraph.training import select_device

# from medgraph.studies.NAME import STUDY

report = Report(
    output_dir,
    run_name=run_name,
    profile=profile,
    seeds=[seed],
    parameters=dict(dataset=dataset, data_source=data_source, epochs=epochs, config=config),
    title=f"What this run reproduces, on {dataset}",
)
device = select_device(device)
options = RunOptions(
    device=str(device), result_cache=resolve_result_cache(result_cache), **split_settings(config)[1]
)

# %% [markdown]
# ## 1 · Data
#
# Say which data, which split, and why.

# %%
# params = dict(dataset=dataset, data_source=data_source, data_root=data_root,
#               n_phantoms=n_phantoms, seed=seed)
# data, splits = STUDY.data_and_splits(params)
# report.add_dataset(data.describe())

# %% [markdown]
# ## 2 · The method, its equations next to the calls
#
# Every run goes through the store, so that the `paper` profile regenerates from `trained/`:
# `medgraph.store.obtain(recipe, STUDY.name, request, options)` (for segmentation,
# `medgraph.segmentation.train_or_load`).

# %%
results = pd.DataFrame({"quantity": ["example"], "ours": [float("nan")]})
report.table("results", results, "What the table holds, on which data, with which seeds")

# %% [markdown]
# ## 3 · Ours beside the paper's
#
# The paper's numbers come from `medgraph.published`, labelled as the paper's, with a verdict by a
# stated rule.

# %%
report.compare("example quantity", None, None, "Table … of the paper")
print(report.finish())
