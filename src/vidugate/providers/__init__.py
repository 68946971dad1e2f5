"""Providers: one adaptor module per vendor behind the Provider protocol of base.py."""
