"""Background jobs (后台作业) on a NATS JetStream work queue: imports, model runs, reports.

An adapter package: it uses the store, ingest, models and reports, and never the API or CLI.
``haizhou jobs submit`` records and publishes a job; ``haizhou worker`` processes pull it, run
it, record the result and acknowledge it; a job whose worker dies is redelivered and takes
effect once (see :mod:`haizhou.jobs.worker`).
"""

from haizhou.jobs.handlers import HANDLERS, JobEnvironment
from haizhou.jobs.queue import QueueConfig
from haizhou.jobs.spec import KINDS, Job, JobError

__all__ = ["HANDLERS", "KINDS", "Job", "JobEnvironment", "JobError", "QueueConfig"]
