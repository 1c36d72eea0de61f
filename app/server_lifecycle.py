"""Start PropSage's process-wide runtime (store, ingest scheduler) when the server starts,
so the board is filling before the first browser connects (atexit stops it)."""

from propsage.runtime import get_runtime


def on_server_loaded(server_context):  # noqa: ANN001, ANN201 - bokeh's hook signature
    get_runtime()


