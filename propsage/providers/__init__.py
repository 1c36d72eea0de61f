"""Sources of games and odds: the simulated market, The Odds API, and replay of captures."""

from propsage.providers.base import (
    BaseProvider,
    LiveDataProvider,
    ProviderError,
    ProviderHealth,
    TokenBucket,
    TTLCache,
)

__all__ = [
    "BaseProvider", "LiveDataProvider", "ProviderError", "ProviderHealth", "TokenBucket",
    "TTLCache", "make_provider",
]


def make_provider(settings):  # noqa: ANN001, ANN201 - Settings is imported lazily
    """Build the provider the settings name (``mock`` | ``theoddsapi`` | ``replay``)."""
    if settings.provider == "mock":
        from propsage.providers.mock import MockDataProvider

        return MockDataProvider.from_settings(settings)
    if settings.provider == "theoddsapi":
        from propsage.providers.theoddsapi import TheOddsAPIProvider

        return TheOddsAPIProvider.from_settings(settings)
    if settings.provider == "replay":
        from propsage.providers.replay import ReplayProvider

        return ReplayProvider.from_settings(settings)
    raise ValueError(f"unknown provider {settings.provider!r}")
