"""The keys the pages keep in ``st.session_state``, with typed accessors. Plain values only.

Widgets keep their own values under their ``"<page>.<setting>"`` keys; besides those, a session holds
nothing but what is declared here: never tensors, models or data frames.
"""

from __future__ import annotations

import streamlit as st

from mtl_core.config import ExperimentConfig

CONFIG = "config"  # dict: the ExperimentConfig being edited, as ExperimentConfig.to_dict()
JOB_ID = "job_id"  # str: the training job the Train page shows
KEYS = (CONFIG, JOB_ID)


def current_config() -> ExperimentConfig:
    """The config being edited in this session, or the defaults (diabetes, equal weighting)."""
    values = st.session_state.get(CONFIG)
    return ExperimentConfig.from_dict(values) if values is not None else ExperimentConfig()


def set_config(config: ExperimentConfig) -> None:
    """Remember the config as a plain dict, so a page left and opened again shows the same settings."""
    st.session_state[CONFIG] = config.to_dict()


def job_id() -> str | None:
    """The id of this session's current training job, if it started one."""
    value = st.session_state.get(JOB_ID)
    return str(value) if value is not None else None


def set_job_id(value: str | None) -> None:
    """Make ``value`` this session's current training job (None: no job)."""
    st.session_state[JOB_ID] = value
