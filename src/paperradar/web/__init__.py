"""The static web archive of past picks: a pipeline stage, its pages and its server."""
