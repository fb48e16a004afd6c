"""The server's adapters: train one from an uploaded labelled set, list them, read their reports, make one the
server's active adapter (every result then carries its reading), delete them. `service` holds the logic as
plain functions the REST routes and the web UI share; `routes` is the REST API under /v1/adapters."""
