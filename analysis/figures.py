"""Seaborn figures with one house theme."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

REGION_COLORS = {"east": "#1b6ca8", "central": "#e0a526", "west": "#6a9f58", "northeast": "#a05195"}


def set_theme() -> None:
    """The house theme: white grid, a readable size, colour-blind-safe region colours."""
    sns.set_theme(style="whitegrid", context="notebook", font_scale=0.95,
                  rc={"figure.dpi": 110, "savefig.dpi": 150, "axes.titleweight": "bold",
                      "axes.spines.top": False, "axes.spines.right": False})


def sample_by_province(comp: pd.DataFrame, *, synthetic: bool) -> plt.Figure:
    """Horizontal bars: respondents per province, coloured by region."""
    set_theme()
    df = comp.sort_values(["region", "respondents"], ascending=[True, False])
    fig, ax = plt.subplots(figsize=(7.5, 6.2))
    sns.barplot(data=df, y="province", x="respondents", hue="region", palette=REGION_COLORS,
                dodge=False, ax=ax)
    ax.set_xlabel("respondents (villager questionnaires)")
    ax.set_ylabel("")
    ax.legend(title="region", loc="lower right")
    if synthetic:
        ax.set_title("Sample by province — synthetic replica", loc="left")
    fig.tight_layout()
    return fig
