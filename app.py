"""MTL Lab's entry point: page settings, the shared link and sidebar, and the navigation. ``streamlit run app.py``."""

import streamlit as st

import mtl_core
from pages._entry import entering
from pages._state import keep_alive, remember_owner, restore_link, show_link_warnings

# an emoji favicon is drawn by the browser itself; a ":material/..." name would be fetched from a font server
st.set_page_config(page_title="MTL Lab", page_icon="🧪", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/data.py", title="Data", icon=":material/table:"),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
    st.Page("pages/sweep.py", title="Sweep", icon=":material/tune:"),
    st.Page("pages/runs.py", title="Runs", icon=":material/history:"),
    st.Page("pages/insight.py", title="Insight", icon=":material/lightbulb:"),
]

navigation = st.navigation(PAGES)
restore_link()
show_link_warnings()
st.sidebar.caption(f"MTL Lab {mtl_core.__version__}: multi-task learning, interactively.")
remember_owner()
keep_alive()  # this browser's runs go on while one of its tabs is open, and stop once all are closed
with entering():
    try:
        navigation.run()
    finally:  # also when the page ends its run early (st.switch_page, st.rerun, st.stop)
        mtl_core.warm_up()  # after the page is drawn: the engine's imports would slow down its first run
