"""The advisor console: a single page, its JSON API and its live WebSocket, under ``/console``."""
