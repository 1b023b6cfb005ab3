"""Analyses of result tables (ours or a user's): fits and summaries that need no training."""
