"""Streaming forecasting engine: O(1)-per-reading exponential-smoothing bank, online
per-horizon model combination, quantile-tracked 80 % intervals and early warnings.

Public entry points: :class:`models.forecast.streaming.StreamingForecaster`,
:func:`models.forecast.batch.forecast_path`, :func:`models.forecast.warnings.early_warnings`
and the per-domain horizons in :mod:`models.forecast.config`.
"""
