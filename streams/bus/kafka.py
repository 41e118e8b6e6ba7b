"""Kafka bus via kafka-python: the only module that talks to a broker.

Standard client settings, chosen for at-least-once:

* producer ``acks="all"`` (kafka-python's default idempotent producer), a few ms of
  ``linger_ms`` so the per-domain, per-partition batches of one tick share requests,
  and lz4 compression only when the ``lz4`` package is installed (else none);
* consumers never auto-commit (``enable_auto_commit=False``): the consumer loop
  commits after the outputs are flushed. Group timeouts are options — production keeps
  Kafka's defaults, tests use a few seconds (a group's first join waits for the
  rebalance timeout on some brokers, e.g. Tansu).

Every kafka-python error is turned into :class:`~streams.bus.base.BusError` (or
:class:`~streams.bus.base.CommitFailedError`) here; nothing above sees a Kafka type.

>>> KafkaOptions(session_timeout_ms=3000).session_timeout_ms
3000
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KafkaTopicPartition
from kafka.admin import NewTopic
from kafka.errors import CommitFailedError as KafkaCommitFailedError
from kafka.errors import KafkaError, TopicAlreadyExistsError
from kafka.structs import OffsetAndMetadata

from streams.bus.base import (
    Bus,
    BusError,
    CommitFailedError,
    Consumer,
    OffsetReset,
    Producer,
    Record,
    TopicPartition,
)


def _default_compression() -> str | None:
    return "lz4" if importlib.util.find_spec("lz4") is not None else None


@dataclass(frozen=True, slots=True)
class KafkaOptions:
    """Client settings (kafka-python names). Defaults are Kafka's production defaults."""

    client_id: str = "citycc"
    session_timeout_ms: int = 45_000
    heartbeat_interval_ms: int = 3_000
    max_poll_interval_ms: int = 300_000
    request_timeout_ms: int = 30_000
    #: how long a fetch waits on the broker for data: bounds poll latency when idle
    fetch_max_wait_ms: int = 100
    max_partition_fetch_bytes: int = 4 * 1024 * 1024
    linger_ms: int = 5
    batch_size: int = 512 * 1024
    max_request_size: int = 1_048_576
    #: "auto" = lz4 if the lz4 package is installed, else none; or "none" / "lz4"
    compression: str = "auto"
    #: -1 = the broker's default replication factor
    replication_factor: int = -1

    def compression_type(self) -> str | None:
        if self.compression == "auto":
            return _default_compression()
        if self.compression in ("none", ""):
            return None
        if self.compression == "lz4":
            return "lz4"
        raise ValueError(f"compression must be auto, none or lz4, not {self.compression!r}")


class KafkaBus(Bus):
    """A :class:`~streams.bus.base.Bus` on a Kafka cluster.

    Parameters
    ----------
    bootstrap : ``"host:port"`` or a comma-separated list.
    options : client settings; tests shorten the group timeouts.
    """

    def __init__(self, bootstrap: str, options: KafkaOptions | None = None) -> None:
        self.bootstrap = [s.strip() for s in bootstrap.split(",") if s.strip()]
        if not self.bootstrap:
            raise ValueError("empty bootstrap address")
        self.options = options or KafkaOptions()
        self._admin: KafkaAdminClient | None = None
        self._lock = threading.Lock()
        self._clients: list[KafkaProducerAdapter | KafkaConsumerAdapter] = []

    def _admin_client(self) -> KafkaAdminClient:
        with self._lock:
            if self._admin is None:
                try:
                    self._admin = KafkaAdminClient(
                        bootstrap_servers=self.bootstrap,
                        client_id=self.options.client_id + "-admin",
                        request_timeout_ms=self.options.request_timeout_ms,
                    )
                except KafkaError as e:
                    raise BusError(f"cannot reach Kafka at {self.bootstrap}: {e}") from e
            return self._admin

    def create_topics(self, names: Iterable[str], partitions: int) -> None:
        if partitions <= 0:
            raise ValueError("a topic has at least one partition")
        wanted = list(dict.fromkeys(names))
        admin = self._admin_client()
        try:
            existing = set(admin.list_topics())
            missing = [n for n in wanted if n not in existing]
            if missing:
                admin.create_topics(
                    [NewTopic(n, partitions, self.options.replication_factor) for n in missing]
                )
        except TopicAlreadyExistsError:
            pass  # another process created them meanwhile: what we wanted
        except KafkaError as e:
            raise BusError(f"cannot create topics {wanted}: {e}") from e

    def partitions_for(self, topic: str) -> int:
        try:
            (desc,) = self._admin_client().describe_topics([topic])
        except KafkaError as e:
            raise BusError(f"cannot describe topic {topic!r}: {e}") from e
        if desc.get("error_code", 0) != 0 or not desc.get("partitions"):
            raise BusError(f"unknown topic {topic!r}")
        return len(desc["partitions"])

    def producer(self) -> Producer:
        o = self.options
        try:
            p = KafkaProducer(
                bootstrap_servers=self.bootstrap,
                client_id=o.client_id,
                acks="all",
                linger_ms=o.linger_ms,
                batch_size=o.batch_size,
                max_request_size=o.max_request_size,
                compression_type=o.compression_type(),
                request_timeout_ms=o.request_timeout_ms,
            )
        except KafkaError as e:
            raise BusError(f"cannot create a producer for {self.bootstrap}: {e}") from e
        adapter = KafkaProducerAdapter(p)
        with self._lock:
            self._clients.append(adapter)
        return adapter

    def consumer(
        self,
        group_id: str,
        topics: Sequence[str],
        auto_offset_reset: OffsetReset = "earliest",
    ) -> Consumer:
        o = self.options
        try:
            c = KafkaConsumer(
                *topics,
                bootstrap_servers=self.bootstrap,
                client_id=o.client_id,
                group_id=group_id,
                enable_auto_commit=False,
                auto_offset_reset=auto_offset_reset,
                session_timeout_ms=o.session_timeout_ms,
                heartbeat_interval_ms=o.heartbeat_interval_ms,
                max_poll_interval_ms=o.max_poll_interval_ms,
                request_timeout_ms=o.request_timeout_ms,
                fetch_max_wait_ms=o.fetch_max_wait_ms,
                max_partition_fetch_bytes=o.max_partition_fetch_bytes,
            )
        except KafkaError as e:
            raise BusError(f"cannot create a consumer for {self.bootstrap}: {e}") from e
        adapter = KafkaConsumerAdapter(c)
        with self._lock:
            self._clients.append(adapter)
        return adapter

    def close(self) -> None:
        with self._lock:
            clients, self._clients = self._clients, []
            admin, self._admin = self._admin, None
        for client in clients:
            client.close()
        if admin is not None:
            admin.close()


class KafkaProducerAdapter(Producer):
    """kafka-python's producer behind :class:`~streams.bus.base.Producer`.

    Sends are asynchronous; a failed delivery is remembered by an errback and raised
    from the next :meth:`flush`, so "flush returned" means "acknowledged by all replicas".
    """

    def __init__(self, producer: KafkaProducer) -> None:
        self._p = producer
        self._errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._closed = False

    def _failed(self, exc: BaseException) -> None:
        with self._lock:
            self._errors.append(exc)

    def send(
        self, topic: str, value: bytes, key: bytes | None = None, partition: int | None = None
    ) -> None:
        try:
            fut = self._p.send(topic, value=value, key=key, partition=partition)
        except (KafkaError, ValueError) as e:  # ValueError: partition unknown to the metadata
            raise BusError(f"cannot send to {topic!r}: {e}") from e
        fut.add_errback(self._failed)

    def flush(self) -> None:
        try:
            self._p.flush()
        except KafkaError as e:
            raise BusError(f"flush failed: {e}") from e
        with self._lock:
            errors, self._errors = self._errors, []
        if errors:
            raise BusError(f"{len(errors)} message(s) not delivered: {errors[0]}") from errors[0]

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self.flush()
        finally:
            self._p.close()


def _ktp(tp: TopicPartition) -> KafkaTopicPartition:
    return KafkaTopicPartition(tp.topic, tp.partition)


class KafkaConsumerAdapter(Consumer):
    """kafka-python's group consumer behind :class:`~streams.bus.base.Consumer`."""

    def __init__(self, consumer: KafkaConsumer) -> None:
        self._c = consumer
        self._closed = False

    def poll(self, timeout_ms: int = 100, max_records: int = 500) -> list[Record]:
        try:
            batches: dict[Any, list[Any]] = self._c.poll(
                timeout_ms=timeout_ms, max_records=max_records
            )
        except KafkaError as e:
            raise BusError(f"poll failed: {e}") from e
        out: list[Record] = []
        for recs in batches.values():
            out.extend(
                Record(r.topic, r.partition, r.offset, r.key, r.value, r.timestamp) for r in recs
            )
        return out

    def commit(self, offsets: Mapping[TopicPartition, int] | None = None) -> None:
        try:
            if offsets is None:
                self._c.commit()
            else:
                self._c.commit(
                    {_ktp(tp): OffsetAndMetadata(int(off), "", -1) for tp, off in offsets.items()}
                )
        except KafkaCommitFailedError as e:
            raise CommitFailedError(f"commit refused after a rebalance: {e}") from e
        except KafkaError as e:
            raise BusError(f"commit failed: {e}") from e

    def _assigned(self, tp: TopicPartition) -> KafkaTopicPartition:
        ktp = _ktp(tp)
        if ktp not in self._c.assignment():
            raise BusError(f"{tp} is not assigned to this consumer")
        return ktp

    def seek(self, tp: TopicPartition, offset: int) -> None:
        if offset < 0:
            raise BusError(f"negative offset {offset}")
        ktp = self._assigned(tp)
        try:
            self._c.seek(ktp, offset)
        except KafkaError as e:
            raise BusError(f"seek failed: {e}") from e

    def position(self, tp: TopicPartition) -> int:
        ktp = self._assigned(tp)
        try:
            return int(self._c.position(ktp))
        except KafkaError as e:
            raise BusError(f"position failed: {e}") from e

    def committed(self, tp: TopicPartition) -> int | None:
        try:
            off = self._c.committed(_ktp(tp))
        except KafkaError as e:
            raise BusError(f"committed failed: {e}") from e
        return None if off is None else int(off)

    def assignment(self) -> set[TopicPartition]:
        return {TopicPartition(t.topic, t.partition) for t in self._c.assignment()}

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._c.close(autocommit=False)
        except KafkaError as e:
            raise BusError(f"close failed: {e}") from e
