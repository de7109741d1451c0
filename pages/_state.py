"""The keys the pages keep in ``st.session_state``, with typed accessors. Plain values only.

Widgets keep their own values under their ``"<page>.<setting>"`` keys; besides those, a session holds
nothing but what is declared here: never tensors, models or data frames. The experiment being
edited also lives in the address bar (``sync_link``), so the URL is always its share link.
"""

from __future__ import annotations

import re
import secrets
import sys
from collections.abc import Sequence
from typing import Any

import streamlit as st

from mtl_core.config import ExperimentConfig
from mtl_core.safe_text import message

CONFIG = "config"  # dict: the ExperimentConfig being edited, as ExperimentConfig.to_dict()
JOB_ID = "job_id"  # str: the training job the Train page shows
COMPARE_JOB_ID = "compare_job_id"  # str: the comparison job the Compare page shows
LINK_READ = "link_read"  # bool: this session has read the link it was opened with
LINK_WARNINGS = "link_warnings"  # list[str]: what was wrong with that link, shown until dismissed
COMPARE = "compare"  # dict: the comparison's own settings (ComparisonSettings), also carried by the link
LIVE_ROWS = "live_rows"  # (str, viz.EpochRows): the current job's epoch rows, converted once each while it runs
OWNER = "owner"  # str: this browser's id in the run store (its runs are its own), kept in a cookie
STORED_RUN = "stored_run"  # str: the stored run the Train page shows when no job of this session is current
JOB_RUN = "job_run"  # str: the run id in the store of the Train page's job (what a restarted server still knows)
RESTART_SHOWN = "restart_shown"  # bool: this session was told once that a restart stopped its browser's run
SWEEP_JOB_ID = "sweep_job_id"  # str: the sweep job the Sweep page shows
KEYS = (CONFIG, JOB_ID, COMPARE_JOB_ID, LINK_READ, LINK_WARNINGS, COMPARE, LIVE_ROWS, OWNER, STORED_RUN, JOB_RUN,
        RESTART_SHOWN, SWEEP_JOB_ID)

OWNER_COOKIE = "mtl_owner"
OWNER_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")
SET_COOKIE = """<script>
document.cookie = "NAME=VALUE; path=/; max-age=31536000; SameSite=Lax";
</script>"""

UPLOAD_NOTE = ("This setup trains on an uploaded file, which cannot travel in a link: whoever opens the link "
               "gets every other setting and must upload the same file on the Data page.")


def current_config() -> ExperimentConfig:
    """The config being edited in this session, or the defaults (diabetes, equal weighting)."""
    values = st.session_state.get(CONFIG)
    return ExperimentConfig.from_dict(values) if values is not None else ExperimentConfig()


def set_config(config: ExperimentConfig) -> None:
    """Remember the config as a plain dict, so a page left and opened again shows the same settings."""
    st.session_state[CONFIG] = config.to_dict()


def owner_id() -> str:
    """This browser's owner id in the run store: read from its cookie, or made now (``remember_owner`` keeps it).

    A reload or a new tab of the same browser is the same owner, so its stored runs show again; another
    browser is another owner and does not see them (unless given a run's read-only link).
    """
    value = st.session_state.get(OWNER)
    if value is None:
        cookie = str(st.context.cookies.get(OWNER_COOKIE) or "")
        value = cookie if OWNER_PATTERN.fullmatch(cookie) else secrets.token_urlsafe(18)
        st.session_state[OWNER] = value
    return str(value)


def remember_owner() -> None:
    """Write the owner id into the browser's cookie when the browser did not send it (a first visit)."""
    value = owner_id()
    if st.context.cookies.get(OWNER_COOKIE) != value:
        with st.sidebar:
            st.html(SET_COOKIE.replace("NAME", OWNER_COOKIE).replace("VALUE", value), unsafe_allow_javascript=True)


def job_id(key: str = JOB_ID) -> str | None:
    """The id of this session's current training (or, with ``COMPARE_JOB_ID``, comparison) job."""
    value = st.session_state.get(key)
    return str(value) if value is not None else None


def set_job_id(value: str | None, key: str = JOB_ID) -> None:
    """Make ``value`` this session's current job of that kind (None: no job)."""
    st.session_state[key] = value


def start_job(config: ExperimentConfig) -> bool:
    """Submit a training job for ``config`` and make it this session's job; a user error is shown instead."""
    from mtl_core.errors import MTLError
    from mtl_core.jobs import job_manager  # here: the jobs load PyTorch, which the Home page does without

    try:  # the settings are checked now; the data is loaded when the run starts (it may wait in the queue)
        manager = job_manager()
        set_job_id(manager.submit(config, owner=owner_id()))
        st.session_state[JOB_RUN] = manager.run_id(str(job_id()))
        st.session_state[STORED_RUN] = None
    except MTLError as error:
        st.error(message(error))
        return False
    return True


def heartbeat() -> bool:
    """Tell the job manager this browser's pages are still open; True when it has runs queued or training.

    Every script run and every poll of a live panel calls this: a browser unseen for longer than
    ``DISCONNECT_GRACE_S`` (its tabs closed) has its runs stopped. Without a job manager there are no jobs,
    and nothing is loaded for this (the Home page does without PyTorch).
    """
    # the manager as it is, never made here: none yet means no jobs (and the module may still be importing)
    manager = getattr(sys.modules.get("mtl_core.jobs"), "_manager", None)
    if manager is None:
        return False
    manager.touch(owner_id())
    return bool(manager.owns_active(owner_id()))


def keep_alive() -> None:
    """While this browser has runs queued or training, a silent fragment touches the heartbeat every few seconds,
    so a tab left open on any page (no live panel polling) keeps its runs."""
    from mtl_core.limits import DISCONNECT_GRACE_S

    if heartbeat():
        with st.sidebar:
            st.fragment(run_every=max(1.0, min(15.0, DISCONNECT_GRACE_S / 4)))(heartbeat)()


def live_rows(current: str, events: Sequence[Any]) -> list[dict[str, Any]]:
    """The epoch rows of job ``current``'s events; a refresh converts only the events that are new."""
    from mtl_core import viz  # here, not above: the figures import PyTorch, which the Home page does without

    kept = st.session_state.get(LIVE_ROWS)
    if kept is None or kept[0] != current:
        kept = (current, viz.EpochRows())
        st.session_state[LIVE_ROWS] = kept
    return kept[1].update(events)


def restore_link() -> None:
    """On a session's first run, take the settings from the link it was opened with (once).

    A bad parameter never stops the page: the engine picks the nearest valid setting and the
    warnings, each naming its parameter, are kept for ``show_link_warnings``.
    """
    if st.session_state.get(LINK_READ):
        return
    st.session_state[LINK_READ] = True
    params = {key: st.query_params.get_all(key) for key in st.query_params}
    if not params:
        return
    from mtl_core.compare.settings import settings_from_query  # only a link with settings needs the engine's checks
    from mtl_core.share import from_query

    setup = from_query(params)
    comparison, comparison_warnings = settings_from_query(params)
    set_config(setup.config)
    st.session_state[COMPARE] = comparison.model_dump(mode="json")
    st.session_state[LINK_WARNINGS] = [*setup.warnings, *comparison_warnings,
                                       *([UPLOAD_NOTE] if setup.uses_upload else [])]


def show_link_warnings() -> None:
    """The link's problems as warnings above the page, until the user dismisses them."""
    warnings: list[Any] = st.session_state.get(LINK_WARNINGS) or []
    if not warnings:
        return
    for text in warnings:
        st.warning(f"Shared link: {message(text)}", icon=":material/link_off:")
    if st.button("Dismiss", key="app.dismiss_link_warnings"):
        st.session_state[LINK_WARNINGS] = []
        st.rerun()


def comparison_settings() -> dict[str, Any]:
    """The comparison's settings in this session (strategies, seeds, points), or {} for the defaults."""
    return dict(st.session_state.get(COMPARE) or {})


def set_comparison_settings(values: dict[str, Any]) -> None:
    st.session_state[COMPARE] = values


def sync_link(config: ExperimentConfig) -> str:
    """Write the config (and the comparison's settings) into the address bar, only what differs from the
    defaults; returns the query string."""
    from urllib.parse import quote, urlencode

    from mtl_core.compare.settings import ComparisonSettings
    from mtl_core.share import to_query

    wanted = {**to_query(config), **ComparisonSettings(**comparison_settings()).to_query()}
    current = {key: st.query_params.get(key) for key in st.query_params}
    if current != wanted:
        st.query_params.from_dict(wanted)
    return urlencode(wanted, quote_via=quote, safe=",:")  # as mtl_core.share.query_string writes it
