"""The forecast from the schedules: see engine.forecast_build."""

from .engine import first_night, forecast_build
from .result import Forecast

__all__ = ["Forecast", "first_night", "forecast_build"]
