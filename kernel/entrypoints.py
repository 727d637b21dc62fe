"""nameko's entrypoints, with our errors declared as expected.

An expected error (bad input, conflict, not found...) is the caller's business: nameko logs
it without a traceback, and the caller gets the same exception class back.
"""
import functools
import inspect
import logging

import eventlet
from amqp.exceptions import ConnectionError as AMQPConnectionError
from kombu import Connection, Exchange, Queue
from kombu.exceptions import OperationalError as KombuOperationalError
from nameko.events import EventHandler
from nameko.exceptions import IncorrectSignature
from nameko.amqp.publish import Publisher
from nameko.constants import (
    AMQP_SSL_CONFIG_KEY, AMQP_URI_CONFIG_KEY, DEFAULT_SERIALIZER, LOGIN_METHOD_CONFIG_KEY,
    SERIALIZER_CONFIG_KEY,
)
from nameko.rpc import Responder, Rpc, RpcConsumer, get_rpc_exchange
from nameko.timer import Timer
from sqlalchemy.exc import DBAPIError

from kernel.errors import ChallengeError, ServiceUnavailable, load
from kernel.knobs import Knobs, knob
from kernel import metrics
from kernel.metrics import Metrics
from kernel.replay import ReplayIn, ReplayOut

log = logging.getLogger(__name__)

# what publishing raises while RabbitMQ cannot be reached (stopped, restarting, dropped)
BROKER_AWAY = (KombuOperationalError, AMQPConnectionError, ConnectionError)


class _ReplyPublisher(Publisher):
    use_confirms = False  # the caller's deadline covers a lost reply (TimedRpcProxy)


class _Responder(Responder):
    publisher_cls = _ReplyPublisher


class ReplyingConsumer(RpcConsumer):
    """nameko's RPC consumer, whose replies go without a publisher confirm.

    nameko publishes every reply with a confirm: the worker waits a round trip to the broker
    (16% of attempts' CPU per submit, docs/performance.md). The confirm bought nothing: a
    reply is not `mandatory`, so the broker confirms, and drops, a reply whose caller's queue
    has gone, and a caller whose reply is lost any way gives up at its deadline
    (RPC_TIMEOUT_SECONDS) with ServiceUnavailable and may ask again (a second submit answers
    the first result). Requests and events keep their confirms."""

    def handle_result(self, message, result, exc_info):
        config = self.container.config
        responder = _Responder(
            config[AMQP_URI_CONFIG_KEY], get_rpc_exchange(config),
            config.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER), message,
            ssl=config.get(AMQP_SSL_CONFIG_KEY), login_method=config.get(LOGIN_METHOD_CONFIG_KEY))
        result, exc_info = responder.send_response(result, exc_info)
        self.queue_consumer.ack_message(message)
        return result, exc_info


class ServiceRpc(Rpc):
    """nameko's RPC entrypoint; a call that failed because the service's database is away
    (refusing connections, restarting, its pool exhausted) answers ServiceUnavailable (503,
    "try again shortly") instead of a bare RemoteError (500). The transaction was rolled back
    with the failure, so nothing of the call was written; the error is still logged here with
    its traceback.

    A reply that cannot be sent because the broker went away (stopped, restarting, the
    connection dropped) is logged and dropped: nameko would let that error kill the whole
    container. The request was not acknowledged, so the broker delivers it again once it is
    back; our calls that change things answer a repeat from what was committed (a second
    submit returns the first result), and the caller has been told 503 meanwhile."""

    rpc_consumer = ReplyingConsumer()

    def handle_result(self, message, worker_ctx, result, exc_info):
        if exc_info is not None and _database_away(exc_info[1]):
            error = ServiceUnavailable(
                f"the {self.container.service_name} service cannot reach its database; "
                "try again shortly", reason="database_unavailable")
            exc_info = (ServiceUnavailable, error, exc_info[2])
        try:
            return super().handle_result(message, worker_ctx, result, exc_info)
        except BROKER_AWAY as exc:
            log.warning("%s: the reply could not be sent (%s); the broker will deliver the "
                        "request again", self.method_name, exc)
            return result, exc_info


def rpc(fn=None, *, args=None, result=None, **kwargs):
    """nameko's `@rpc`, with our errors expected. (A `functools.partial` would not do: nameko
    drops extra arguments when the decorator is used bare.)

    `args`: a marshmallow schema whose fields are the method's parameters; the call's
    arguments are loaded with it (a bad one is BadInput naming it) and the method receives
    what it loaded. `result`: a schema (class, or instance for `many=True`) the return value
    is dumped with, so what crosses the boundary is declared, as the gateway's routes are."""
    kwargs.setdefault("expected_exceptions", ChallengeError)
    decorator = ServiceRpc.decorator(**kwargs)

    def declare(method):
        if args is not None or result is not None:
            method = _with_schemas(method, args, result)
        return decorator(method)

    return declare if fn is None else declare(fn)


def _schema(declared):
    return declared() if isinstance(declared, type) else declared


def _with_schemas(method, args, result):
    signature = inspect.signature(method)
    # one instance each, made here: a schema made per call costs more than the dump itself
    args_schema = _schema(args) if args is not None else None
    result_schema = _schema(result) if result is not None else None

    @functools.wraps(method)
    def checked(self, *positional, **named):
        if args_schema is not None:
            try:  # positional arguments take their parameters' names
                given = dict(signature.bind_partial(self, *positional).arguments)
            except TypeError as exc:
                raise IncorrectSignature(str(exc)) from None
            given.pop(next(iter(signature.parameters)))  # self
            if set(given) & set(named):
                raise IncorrectSignature(f"{sorted(set(given) & set(named))} given twice")
            # an unknown name is the schema's to refuse (BadInput naming it)
            named = load(args_schema, given | named, "arguments")
            positional = ()
            try:
                signature.bind(self, **named)
            except TypeError as exc:
                raise IncorrectSignature(str(exc)) from None
        value = method(self, *positional, **named)
        return value if result_schema is None else result_schema.dump(value)

    checked.rpc_args, checked.rpc_result = args, result
    return checked

DEAD_LETTERS = Exchange("dead-letters", type="direct", durable=True)


class ReliableEventHandler(EventHandler):
    """nameko's event handler, with dead letters instead of lost events.

    nameko acks an event whose handler failed: for that consumer the event is gone, and a
    board built from it is silently wrong. Here each handler queue dead-letters to the
    `dead-letters` exchange, into `dead.<queue>`, where an operator can read and replay it:
    - a handler that fails for good (a bug, a poison message) rejects the message: dead letter;
    - a transient failure (the database away) puts it back after a pause, to try again.
    With EVENT_QUEUE_TYPE=quorum the handler queues are quorum queues whose broker also
    dead-letters a message redelivered more than EVENT_DELIVERY_LIMIT times.
    Queue arguments are fixed when a queue is first declared: choose the type before the
    first deployment (changing it later means new queues; see docs/decisions.md).
    """

    def setup(self):
        super().setup()
        config = self.container.config
        name = self.queue.name
        arguments = {"x-dead-letter-exchange": DEAD_LETTERS.name,
                     "x-dead-letter-routing-key": name}
        if knob(config, "EVENT_QUEUE_TYPE") == "quorum":
            arguments["x-queue-type"] = "quorum"
            arguments["x-delivery-limit"] = knob(config, "EVENT_DELIVERY_LIMIT")
        self.queue = Queue(name, exchange=self.queue.exchange, routing_key=self.event_type,
                           durable=True, auto_delete=self.queue.auto_delete,
                           exclusive=self.queue.exclusive, queue_arguments=arguments)
        self.dead_queue = Queue(f"dead.{name}", exchange=DEAD_LETTERS, routing_key=name,
                                durable=True)
        self.transient_pause = knob(config, "EVENT_RETRY_SECONDS")

    def start(self):
        amqp_uri = self.container.config["AMQP_URI"]
        if not amqp_uri.startswith("memory://"):
            with Connection(amqp_uri) as conn:
                self.dead_queue(conn.channel()).declare()
        super().start()

    def handle_message_processed(self, message, result=None, exc_info=None):
        if exc_info is None:
            self.queue_consumer.ack_message(message)
            return
        error = exc_info[1]
        if _transient(error):
            log.warning("%s: transient failure (%s); the event goes back to the queue",
                        self.method_name, error)
            eventlet.sleep(self.transient_pause)
            self.queue_consumer.requeue_message(message)
            return
        log.error("%s: the handler failed (%r); the event goes to %s", self.method_name,
                  error, self.dead_queue.name)
        metrics.DEAD_LETTERS.labels(self.container.service_name, self.event_type).inc()
        if message.channel.connection:
            message.reject(requeue=False)


class ConfigTimer(Timer):
    """nameko's timer with its interval read from the config (key, default seconds), so a
    deployment (or a test) can tune how often a periodic job looks for work."""

    def __init__(self, key, default, **kwargs):
        self.key = key
        super().__init__(interval=default, **kwargs)

    def setup(self):
        self.interval = knob(self.container.config, self.key)
        super().setup()

    def stop(self):
        # nameko stops a timer again when the runner is killed after a stop (Ctrl-C twice,
        # SIGTERM during shutdown): the second would raise from an eventlet Event
        if not self.should_stop.ready():
            super().stop()


def timer_from_config(key: str, default: float):
    return ConfigTimer.decorator(key, default)


def _database_away(error) -> bool:
    """The database refused, dropped or could not lend a connection (pool timeout)."""
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    return (isinstance(error, DBAPIError) and error.connection_invalidated
            or isinstance(error, (OperationalError, PoolTimeout)))


def _transient(error) -> bool:
    """Failures that say "not now" rather than "never": the database away or busy, a
    connection dropped, another service away or too slow to answer (TimedRpcProxy's
    ServiceUnavailable: awards granting a month while ranking restarts)."""
    return _database_away(error) or isinstance(
        error, (ConnectionError, TimeoutError, ServiceUnavailable))


event_handler = ReliableEventHandler.decorator


class Answers:
    """Mixed into every service: `ping` is how the gateway's /readyz knows it answers, and
    `knobs` checks every setting before the service starts (kernel/knobs.py), and `metrics`
    times every worker and serves the process's figures on METRICS_PORT (kernel/metrics.py).

    Subclass it as `entrypoints.Answers`, not a name imported into the service's module:
    `nameko run <module>` takes every class in the module that has entrypoints for a service.
    """

    knobs = Knobs()
    metrics = Metrics()

    @rpc
    def ping(self):
        return "pong"

    @rpc(args=ReplayIn, result=ReplayOut)
    def replay_events(self, since, queue, type=None, dry_run=False):
        """Republish this service's retained events since `since` (of `type`) into `queue`
        (kernel/replay.py): written once here for every producer."""
        from kernel.uow import relay_of

        return {"replayed": relay_of(self).replay(since, queue, type, dry_run)}
