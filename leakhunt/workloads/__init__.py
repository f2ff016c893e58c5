"""Workloads: what a child repeats (custom FILE.py:FUNC factories, images and resizing).

May import: errors.
"""
