"""MTL Lab's entry point: page settings, the shared sidebar and the navigation. Run ``streamlit run app.py``."""

import streamlit as st

import mtl_core

st.set_page_config(page_title="MTL Lab", page_icon=":material/hub:", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
]

navigation = st.navigation(PAGES)
st.sidebar.caption(f"MTL Lab {mtl_core.__version__}: multi-task learning, interactively.")
navigation.run()
