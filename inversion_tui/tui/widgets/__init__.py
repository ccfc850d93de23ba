"""Widgets of the workbench, one module per area of the screen."""
