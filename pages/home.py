"""Home page: what multi-task learning is, in three sentences and one picture, and one-click presets."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import streamlit as st

import mtl_core
from mtl_core.config import ExperimentConfig
from mtl_core.errors import DataError
from mtl_core.presets import PRESETS, Preset
from pages._state import set_config
from pages._entry import through_entry

through_entry()  # a deep link on a fresh server: run the entry file, which runs this page

PICTURE = """
digraph mtl {
  rankdir=LR; bgcolor="transparent"; node [shape=box, style="rounded,filled", fontname="sans-serif", fontsize=14];
  x [label="input\\n(a table row or an image)", fillcolor="#e8eef9"];
  trunk [label="shared layers\\n(learn from every task)", fillcolor="#cfdcf5"];
  a [label="head: quality\\n(regression)", fillcolor="#fdebd3"]; b [label="head: good?\\n(classification)", fillcolor="#dff3e4"];
  la [label="loss A", shape=ellipse, fillcolor="#fff"]; lb [label="loss B", shape=ellipse, fillcolor="#fff"];
  total [label="w_A·A + w_B·B\\n(the weighting strategy)", shape=ellipse, fillcolor="#f2f5fa"];
  x -> trunk; trunk -> a; trunk -> b; a -> la; b -> lb; la -> total; lb -> total;
  total -> trunk [style=dashed, label="one gradient\\nfor the shared layers", fontsize=9];
}
"""


WINE_COLOURS = {"wine": ("red", "white"), "wine-red": ("red",), "wine-white": ("white",)}  # data sets from UCI


def wine_files() -> ModuleType:
    """The engine's lookup of the UCI files (``mtl_core.data.uci``), loaded alone when the data package is not
    loaded yet: the package imports PyTorch, and Home is drawn before it loads."""
    loaded = sys.modules.get("mtl_core.data.uci")
    if loaded is not None:
        return loaded
    spec = importlib.util.spec_from_file_location("_home_wine_files", Path(mtl_core.__file__).parent / "data" / "uci.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def needs_download(item: Preset) -> bool:
    """Whether the preset's data set must first be downloaded (neither in MTL_DATA_DIR nor in the cache)."""
    colours = WINE_COLOURS.get(str(item.values.get("data", {}).get("dataset", "")), ())
    lookup = wine_files() if colours else None
    for colour in colours:
        try:
            lookup.wine_file(colour, download=False)  # type: ignore[union-attr]
        except DataError:
            return True
    return False


def choose(item: Preset) -> None:
    """Fill every setting from the preset and go to Train."""
    set_config(ExperimentConfig.from_dict(item.config()))
    st.switch_page("pages/train.py")


st.title("MTL Lab")
st.markdown(
    "**Multi-task learning** trains one network on several tasks at once: the layers they share learn "
    "from every task's examples, and each task keeps a small head of its own. When the tasks are related, "
    "sharing acts as extra data and a regulariser; when they pull in different directions, one task's "
    "gradient can undo another's, and how the losses are weighted decides who wins. MTL Lab lets you train "
    "such models live, watch every task's curve and weight, and check honestly against training each task alone."
)
st.graphviz_chart(PICTURE, width="stretch")

st.subheader("Start from a preset")
download = {item.key: needs_download(item) for item in PRESETS}
for index, item in enumerate(sorted(PRESETS, key=lambda preset: download[preset.key])):  # ready ones first
    with st.container(border=True):
        text, button = st.columns([5, 1])
        note = ("  \n:orange-badge[⬇ needs a one-time download] of the UCI Wine Quality files, made when it "
                "first trains" if download[item.key] else "")
        text.markdown(f"**{item.title}**  \n{item.question}{note}")
        if button.button("Open", key=f"home.preset.{item.key}", type="primary" if index == 0 else "secondary"):
            choose(item)
st.caption("Or bring your own table: on **Data**, choose the file, pick the columns to predict and press "
           "**Train now**. The model and the weighting are set on **Train**.")
