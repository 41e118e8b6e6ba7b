"""City definition: districts, grid, roads, assets and the sensor registry.

>>> from config.city import load_city
>>> load_city(scale=0.05).name
'fuzhou'
"""

from config.city.city import City, load_city, load_city_from_settings
from config.city.registry import Sensor, SensorRegistry
from config.city.spec import CitySpec

__all__ = ["City", "CitySpec", "Sensor", "SensorRegistry", "load_city", "load_city_from_settings"]
