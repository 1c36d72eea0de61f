"""The dashboard's building blocks: a session data store (no UI) and Viewer components."""
