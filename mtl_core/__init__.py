"""MTL Lab's engine: data, tasks, models, weighting strategies and a trainer that yields events.

Nothing here imports Streamlit; the dashboard and the CLI are consumers of the same functions.
"""

__version__ = "0.1.0"
