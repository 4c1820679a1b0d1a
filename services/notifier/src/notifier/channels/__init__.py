"""Delivery channels behind one small interface."""
