"""Domain indices: pure functions turning readings into the figures operators read.

Modules (one job each):

* :mod:`~models.indices.aqi_china` / :mod:`~models.indices.aqi_china_tables` — HJ 633
  AQI, 2012 and 2026 editions, hourly and daily.
* :mod:`~models.indices.averaging` — 24-h / O₃ 8-h moving means, daily max 8-h.
* :mod:`~models.indices.aqi_us` — US EPA PM2.5 AQI (2024) and NowCast.
* :mod:`~models.indices.traffic` — GB/T 33171 traffic performance index, speed levels.
* :mod:`~models.indices.water` — network pressure compliance, GB 5749—2022 limits.
* :mod:`~models.indices.gas_alarm` — GB/T 50493 gas and O₂ alarm levels.
* :mod:`~models.indices.major_hazard` — GB 18218 major-hazard identification and grade.
* :mod:`~models.indices.levels` — emergency levels I–IV, names and colours.
* :mod:`~models.indices.labels` — bilingual :class:`Label` and :class:`Colour`.

All names shown to users are bilingual data (zh-CN + en). Nothing here uses numba: the work
is table look-ups that numpy already vectorises.
"""
