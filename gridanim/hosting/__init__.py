"""Hosting and web: the app's per-run files and text, keys, saved grids, the shared-app policy and quota, deploy."""
