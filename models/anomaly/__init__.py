"""Anomaly detection: univariate streaming detector (per sensor) and batch file scoring."""

from models.anomaly.batch import detect_path
from models.anomaly.config import DetectorConfig
from models.anomaly.univariate import UnivariateDetector

__all__ = ["DetectorConfig", "UnivariateDetector", "detect_path"]
