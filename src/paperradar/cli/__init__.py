"""The `paperradar` command line."""
