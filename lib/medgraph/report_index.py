"""The index of a profile's reports: ``reports/<profile>/README.md``, rewritten by the runner.

It lists every complete report found in the profile's folder with its data, seeds and wall time,
our numbers beside the papers' (labelled as theirs), and every table and figure; a run whose
latest attempt failed is flagged, its previous complete report still shown.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from medgraph.reporting import atomic_write_text, describe_datasets, format_value

__all__ = ["write_index"]


def write_index(
    profile_dir: Path,
    profile: str,
    description: str,
    outcomes: Sequence[Any] = (),
    run_descriptions: Mapping[str, str] | None = None,
) -> Path:
    """Rewrite ``reports/<profile>/README.md`` from the complete runs found in ``profile_dir``.

    ``outcomes`` are the runner's :class:`medgraph.runs.RunOutcome` of this invocation (``spec``,
    ``ok``, ``seconds``, ``error``): runs that failed now are flagged.

    ``run_descriptions`` maps run names to their ``description`` in ``papermill_runs.yaml``. It
    tells apart runs of one notebook (whose titles are the same); the table shows it in place of
    the notebook's title, and each run's section starts with it.
    """
    failed_now = {o.spec.name: o for o in outcomes if not o.ok}
    run_descriptions = run_descriptions or {}
    lines = [
        f"# Reports: profile `{profile}`",
        "",
        description.strip(),
        "",
        "Regenerate with `make reports PROFILE=" + profile + "` "
        "(or `python -m medgraph.runs --profile " + profile + "`). Every number below comes from "
        "running the notebooks; the paper's published numbers stand beside ours in columns "
        "labelled as the paper's.",
        "",
        "| run | what it runs | data | seeds | wall time | status |",
        "|---|---|---|---|---|---|",
    ]
    runs = []
    for results in sorted(profile_dir.glob("*/results.json")):
        if results.parent.name.startswith((".", "_")):
            continue
        try:
            payload = json.loads(results.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if payload.get("status") != "complete":
            continue
        runs.append((results.parent, payload))
    for folder, payload in runs:
        data = describe_datasets(payload.get("datasets", []), "; ")
        status = "complete"
        if folder.name in failed_now:
            status = "**latest attempt failed**; showing the previous complete report"
        what = run_descriptions.get(folder.name) or payload.get("title", "")
        lines.append(
            f"| [{folder.name}]({folder.name}/) | {what} | {data} | "
            f"{payload.get('seeds')} | {payload.get('wall_time_s', 0):.0f} s | {status} |"
        )
    for name, outcome in failed_now.items():
        if not (profile_dir / name).exists():
            lines.append(
                f"| {name} | – | – | – | {outcome.seconds:.0f} s | **failed**, no report |"
            )
    for folder, payload in runs:
        lines += ["", f"## {folder.name}", ""]
        if run_descriptions.get(folder.name):
            lines += [f"Run: {run_descriptions[folder.name]}.", ""]
        if payload.get("title"):
            lines += [payload["title"], ""]
        rows = payload.get("paper_comparison") or []
        if rows:
            lines += [
                "| quantity | ours | paper's (published) | paper source | verdict | rule | note |",
                "|---|---|---|---|---|---|---|",
            ]
            for row in rows:
                lines.append(
                    f"| {row['quantity']} | {format_value(row['ours'])} | "
                    f"{format_value(row['paper'])} | {row['source']} | "
                    f"{row.get('verdict') or '–'} | {row.get('rule', '')} | {row.get('note', '')} |"
                )
            lines.append("")
        for table in payload.get("tables", []):
            lines.append(
                f"- table [{table['name']}]({folder.name}/{table['md']}): {table['caption']}"
            )
        for fig in payload.get("figures", []):
            lines.append(f"- figure [{fig['name']}]({folder.name}/{fig['file']}): {fig['caption']}")
    if failed_now:
        lines += ["", "## Failed in the latest invocation", ""]
        for name, outcome in failed_now.items():
            lines.append(f"- `{name}`: {outcome.error} (partial outputs in `_failed/{name}/`)")
    return atomic_write_text(profile_dir / "README.md", "\n".join(lines) + "\n")
