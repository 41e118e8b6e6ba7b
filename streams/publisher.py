"""Publisher: a batch of readings → one columnar message per (domain topic, partition).

Each sensor always lands on the same partition of its domain's topic —
``murmur2(key) % partitions``, Kafka's own key hash, where the key is the sensor's
:func:`~config.city.registry.partition_key` (its own id, or the air station / hazard source /
water zone it is evaluated with) — so each engine worker of the consumer group owns a fixed set
of sensors and their state, whether the bus is in-process or Kafka, and the sensors a rule reads
together are in the same worker. Sensors unknown to the registry are not dropped silently: they
travel in their own messages on :data:`UNKNOWN_SENSOR_TOPIC` (same partition rule),
where the engine's validation dead-letters them with reason ``unknown_sensor``.

Messages carry at most ``max_readings`` readings (default 5 000, ≈ 150 kB), below
Kafka's default 1 MB message limit.

>>> from config.city.registry import Sensor, SensorRegistry
>>> from streams.bus.memory import MemoryBus
>>> from streams.messages import ReadingBatch
>>> from streams.topics import READINGS_TOPICS
>>> reg = SensorRegistry([Sensor("AIR-1", "air", "pm25", "ug/m3", 0, 0, "", "", 0.0, 999.0,
...                              "A", 60)])
>>> bus = MemoryBus(); bus.create_topics(READINGS_TOPICS, 4)
>>> pub = Publisher(bus, reg, 4)
>>> pub.publish(ReadingBatch.from_rows([("AIR-1", 3.0, 0), ("AIR-1", 4.0, 1)]))
1
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from config.city.registry import SensorRegistry, partition_key
from streams.bus.base import Bus, Producer
from streams.bus.partitioner import partition_for
from streams.codec import encode_batch
from streams.messages import DOMAINS, ReadingBatch
from streams.topics import READINGS_TOPICS, readings_topic

#: Readings of sensors missing from the registry go here, to be dead-lettered downstream.
UNKNOWN_SENSOR_TOPIC = READINGS_TOPICS[0]
#: Upper bound of readings per bus message.
MAX_READINGS = 5_000


class Publisher:
    """Split, encode and send reading batches with explicit partitions.

    Parameters
    ----------
    bus : where to send (a producer is created, or pass ``producer``).
    registry : the city's sensors (domain and partition of each id are precomputed).
    partitions : partitions per readings topic (``settings.partitions``).
    producer : reuse an existing producer instead of creating one.
    max_readings : readings per message at most.
    """

    def __init__(
        self,
        bus: Bus,
        registry: SensorRegistry,
        partitions: int,
        producer: Producer | None = None,
        max_readings: int = MAX_READINGS,
        unknown_topic: str = UNKNOWN_SENSOR_TOPIC,
    ) -> None:
        if partitions <= 0 or max_readings <= 0:
            raise ValueError("partitions and max_readings must be positive")
        self.registry = registry
        self.partitions = partitions
        self.max_readings = max_readings
        self.producer = producer if producer is not None else bus.producer()
        n_dom = len(DOMAINS)
        self._topics = [readings_topic(d) for d in DOMAINS] + [unknown_topic]
        # route = topic number × partitions + partition; unknown ids use topic number n_dom
        part = np.array(
            [partition_for(partition_key(s).encode(), partitions) for s in registry.sensors],
            np.int64,
        )
        self._route: npt.NDArray[np.int64] = (
            registry.domain_code.astype(np.int64) * partitions + part
        )
        self._unknown_base = n_dom * partitions
        self._unknown_part: dict[str, int] = {}
        #: readings and messages sent so far
        self.readings = 0
        self.messages = 0

    def routes(self, sensor_ids: tuple[str, ...]) -> npt.NDArray[np.int64]:
        """Route code per reading: ``topic_number * partitions + partition``."""
        idx = self.registry.indices(sensor_ids)
        if len(self._route):
            route = self._route[np.maximum(idx, 0)]  # a copy: unknown rows are overwritten
        else:
            route = np.zeros(len(idx), np.int64)
        unknown = np.flatnonzero(idx < 0)
        for i in unknown:
            sid = sensor_ids[int(i)]
            p = self._unknown_part.get(sid)
            if p is None:
                if len(self._unknown_part) > 100_000:  # a flood of junk ids: do not grow forever
                    self._unknown_part.clear()
                p = self._unknown_part[sid] = partition_for(sid.encode(), self.partitions)
            route[i] = self._unknown_base + p
        return route

    def publish(self, batch: ReadingBatch) -> int:
        """Send ``batch`` split by topic and partition (rows keep their order); message count.

        Does not wait for the bus: call :meth:`flush` before relying on delivery.
        """
        if not len(batch):
            return 0
        route = self.routes(batch.sensor_ids)
        order = np.argsort(route, kind="stable")
        sorted_route = route[order]
        cuts = np.flatnonzero(np.diff(sorted_route)) + 1
        starts = np.concatenate(([0], cuts))
        ends = np.concatenate((cuts, [len(order)]))
        sent = 0
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            code = int(sorted_route[s])
            topic = self._topics[code // self.partitions]
            partition = code % self.partitions
            for lo in range(s, e, self.max_readings):
                sub = batch.take(order[lo : min(e, lo + self.max_readings)])
                self.producer.send(topic, encode_batch(sub), partition=partition)
                sent += 1
        self.readings += len(batch)
        self.messages += sent
        return sent

    def flush(self) -> None:
        """Block until everything published is stored on the bus."""
        self.producer.flush()
