"""Home page: what multi-task learning is, in three sentences and one picture, and one-click presets."""

import streamlit as st

from mtl_core.config import ExperimentConfig
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
for index, item in enumerate(PRESETS):
    with st.container(border=True):
        text, button = st.columns([5, 1])
        text.markdown(f"**{item.title}**  \n{item.question}")
        if button.button("Open", key=f"home.preset.{item.key}", type="primary" if index == 0 else "secondary"):
            choose(item)
st.caption("Or pick a data set and its tasks on **Data**, then the model and the weighting on **Train**.")
