"""The record: its lifecycle, its documents and their contents, its medical profile."""
