"""Plotly figure builders and small widget groups shared by the pages (data in, figure out)."""
