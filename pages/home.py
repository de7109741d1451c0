"""Home page: what MTL Lab does and which data sets come with it."""

import streamlit as st

from mtl_core.data import DATASETS

st.title("MTL Lab")
st.markdown(
    "An interactive laboratory for **multi-task learning**: one network learns several tasks from the same "
    "table, and you watch how the tasks help or hurt each other while it trains.\n\n"
    "Open **Train** in the sidebar to pick a data set and run an experiment in the background."
)
st.subheader("Built-in data sets")
for name in DATASETS.names():
    source = DATASETS.get(name)
    tasks = ", ".join(f"{task.name} ({task.kind})" for task in source.default_tasks)
    st.markdown(f"**{name}**: {source.description}  \nTasks: {tasks}")
