"""Providers: one adaptor module per vendor behind the Provider protocol of base.py."""

# Every id registry.build_providers can make; `vidugate serve` checks VIDUGATE_PROVIDER
# against it before it imports any provider.
PROVIDER_IDS = ("sandbox", "vidu")
