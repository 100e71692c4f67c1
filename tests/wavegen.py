"""Realistic test waves, written the way Chinese field teams deliver a wave.

A 2024 follow-up wave of 3,100 villagers in 25 provinces (Xinjiang, Hainan, Ningxia and Inner
Mongolia in; Shanghai, Beijing and Chongqing not surveyed), three provinces below ``min_cell``
(one of them a single village), unnormalised weights, four households with an income of 0, 48
township institutions — written in one of several forms:

* ``sav``: villagers as SPSS ``.sav`` with Chinese variable labels, value labels and 8/9 declared
  user-missing; institutions as XLSX with a title row above the header (``header_row: 2``);
* ``gbk``: the same data as GBK CSV with Chinese headers (codebook aliases), shuffled columns, extra
  columns, missing codes as text and blanks; institutions as UTF-8 CSV.

The microdata are synthetic (drawn from the replica's uncalibrated latent model) but the wave says
nothing of the kind: to ruralgov it is a real survey wave, which is what these tests need.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import yaml

from analysis.ingest.codebook import load_codebook
from analysis.ingest.provinces import resolve
from analysis.replica import generate

MOVE = {"上海": "新疆", "重庆": "宁夏"}
"""Whole provinces of the replica relabelled (Shanghai and Chongqing are not surveyed)."""
SPLIT = {"广东": "海南", "山西": "内蒙古", "河北": "天津"}
"""New provinces (25 in all), each given a copy of two villages of the first province (new ids)."""
SMALL = {"宁夏": (6, 1), "西藏": (9, 2), "甘肃": (8, 2)}
"""Provinces cut below min_cell: respondents kept and villages they come from."""


def frames(seed: int = 2024, n: int = 3100) -> dict[str, pd.DataFrame]:
    """The coded villager and institution frames of the realistic wave."""
    g = generate(seed=seed, n=n, calibrate=False)
    v = g["villagers"].copy()
    rng = np.random.default_rng(seed)
    v["province"] = v["province"].replace(MOVE)
    copies = []
    for src, dst in SPLIT.items():
        two = sorted(v.loc[v["province"] == src, "village_id"].unique())[:2]
        c = v[v["village_id"].isin(two)].copy()
        c["province"] = dst
        c["village_id"] = resolve(dst).code2 + "9" + c["village_id"].str[-2:]
        copies.append(c)
    v = pd.concat([v, *copies], ignore_index=True)
    keep = np.ones(len(v), bool)
    for prov, (k, n_vill) in SMALL.items():
        rows = v.index[v["province"] == prov]
        villages = sorted(v.loc[rows, "village_id"].unique())[:n_vill]
        chosen = [i for vil in villages for i in v.index[(v["village_id"] == vil)][: -(-k // n_vill)]][:k]
        keep[rows] = False
        keep[chosen] = True
    v = v[keep].reset_index(drop=True)
    v["weight"] = np.round(v["weight"] * 1000, 1)                # unnormalised (persons)
    v.loc[rng.choice(len(v), 4, replace=False), "hh_income"] = 0.0
    v["resp_id"] = [f"R24{i:05d}" for i in range(len(v))]
    inst = g["institutions"]
    extra = inst.sample(15, random_state=seed, replace=True)
    inst = pd.concat([inst, extra], ignore_index=True)
    inst["province"] = inst["province"].replace(MOVE)
    inst["inst_id"] = [f"T24{i:03d}" for i in range(len(inst))]
    return {"villagers": v, "institutions": inst}


def _write_spec(folder, spec: dict) -> None:  # type: ignore[no-untyped-def]
    """``folder``'s wave.yml holding ``spec`` (keys in their order, Chinese text as written)."""
    text = yaml.safe_dump(spec, allow_unicode=True, sort_keys=False)
    (folder / "wave.yml").write_text(text, encoding="utf-8")


def _wave_yml(folder, questionnaires: dict, **extra) -> None:  # type: ignore[no-untyped-def]
    spec = {"id": folder.name, "title": "Rural public service governance survey, 2024 follow-up",
            "year": 2024, "source": "field teams of the 2024 follow-up (test wave)",
            "questionnaires": questionnaires,
            "design": {"weight": "weight", "strata": "province", "psu": "village_id"}, "min_cell": 10, **extra}
    _write_spec(folder, spec)


def write(folder, form: str = "sav", seed: int = 2024):  # type: ignore[no-untyped-def]
    """Write the realistic wave into ``folder`` (named as its id) in the form ``sav`` or ``gbk``."""
    import pyreadstat

    folder.mkdir(parents=True, exist_ok=True)
    f = frames(seed)
    cb = load_codebook()
    v, inst = f["villagers"], f["institutions"]
    if form == "sav":
        sav = v.copy()
        sav["province"] = [resolve(p).name_zh_full for p in sav["province"]]
        labels = {it.id: {float(k): lab[0] for k, lab in it.values.items()}
                  for it in cb.items("villagers") if it.values and it.id in sav}
        missing = {it.id: [8, 9] for it in cb.items("villagers") if it.type == "likert5" and it.id in sav}
        pyreadstat.write_sav(sav, str(folder / "villagers.sav"),
                             column_labels=[cb.item("villagers", c).text_zh for c in sav.columns],
                             variable_value_labels=labels, missing_ranges=missing)
        title = pd.DataFrame([["2024年乡镇机构问卷（测试）"] + [None] * (inst.shape[1] - 1)])
        with pd.ExcelWriter(folder / "institutions.xlsx") as xw:
            title.to_excel(xw, index=False, header=False, startrow=0)
            inst.to_excel(xw, index=False, startrow=1)
        _wave_yml(folder, {"villagers": {"file": "villagers.sav"},
                           "institutions": {"file": "institutions.xlsx", "sheet": 0, "header_row": 2}})
    elif form == "gbk":
        csv = v.copy()
        rng = np.random.default_rng(seed)
        csv["interviewer"] = rng.choice(["张", "李", "王"], len(csv))
        csv["备注"] = ""
        zh = {it.id: (it.aliases[0] if it.aliases else it.text_zh) for it in cb.items("villagers")}
        cols = list(csv.columns)
        rng.shuffle(cols)
        text = csv[cols].rename(columns=zh)
        for c in text.columns:
            if pd.api.types.is_float_dtype(text[c]):
                text[c] = text[c].map(lambda x: "" if pd.isna(x) else (f"{int(x)}" if float(x).is_integer() else repr(float(x))))
        text.to_csv(folder / "villagers.csv", index=False, encoding="gbk")
        inst.to_csv(folder / "institutions.csv", index=False)
        _wave_yml(folder, {"villagers": {"file": "villagers.csv", "encoding": "auto"},
                           "institutions": {"file": "institutions.csv"}})
    else:
        raise ValueError(f"form {form!r}: sav or gbk")
    return folder


def provinces(folder, names: list[str], year: int = 2021):  # type: ignore[no-untyped-def]
    """A wave of some provinces only (a provincial follow-up), cut from the embedded replica's
    files and written into ``folder`` (named as its id) as the replica writes them."""
    from analysis import paths

    src = paths.WAVES / "2020-replica"
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("villagers.csv", "institutions.csv"):
        t = pd.read_csv(src / name, dtype=str, keep_default_na=False)
        t[t["province"].isin(names)].to_csv(folder / name, index=False)
    _wave_yml(folder, {"villagers": {"file": "villagers.csv"}, "institutions": {"file": "institutions.csv"}},
              year=year, title="A provincial follow-up (test wave)", min_cell=10)
    return folder


def replica_copy(folder, villagers=None, institutions=None):  # type: ignore[no-untyped-def]
    """The embedded replica's files (its wave.yml included: synthetic, calibrated) copied into
    ``folder``, whose name becomes the wave's id; ``villagers`` / ``institutions``, functions of
    that table (read as text, blanks kept), give the table written back in its place."""
    import shutil

    from analysis import paths

    shutil.copytree(paths.WAVES / paths.DEFAULT_WAVE, folder)
    spec = yaml.safe_load((folder / "wave.yml").read_text(encoding="utf-8"))
    spec["id"] = folder.name
    _write_spec(folder, spec)
    for name, change in (("villagers.csv", villagers), ("institutions.csv", institutions)):
        if change is not None:
            t = pd.read_csv(folder / name, dtype=str, keep_default_na=False)
            change(t).to_csv(folder / name, index=False)
    return folder
