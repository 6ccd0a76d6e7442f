"""Gunicorn settings for propgroup.

Everything is overridable from the environment so one image serves every
deployment; command-line flags (e.g. `-b 127.0.0.1:8000` from `make run`)
still win because gunicorn applies them after this file.
"""

import os


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _available_cpus() -> int:
    # os.cpu_count() reports the host's cores, not the container's share;
    # sizing from it makes a pod with a 1-CPU limit on a 64-core node start
    # 129 workers and get throttled / OOM-killed.
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    try:
        with open("/sys/fs/cgroup/cpu.max") as f:
            quota, period = f.read().split()[:2]
        if quota != "max":
            cpus = min(cpus, max(1, int(quota) // int(period)))
    except (OSError, ValueError):
        pass
    return max(1, cpus)


# BIND wins over PORT so platforms that only inject PORT (Heroku-style) work
# without extra config.
bind = os.environ.get("BIND") or f"0.0.0.0:{os.environ.get('PORT', '8000')}"

# Each worker owns a SQLAlchemy pool, so the worker count multiplies
# connections against PgBouncer / max_connections; the cap keeps large hosts
# from exhausting the database. Scale out with more replicas instead.
workers = _int_env(
    "WEB_CONCURRENCY",
    min(2 * _available_cpus() + 1, _int_env("WEB_CONCURRENCY_MAX", 8)),
)

# Requests mostly wait on PostgreSQL, Redis and S3; threads overlap that I/O
# without paying a full process per concurrent request.
worker_class = "gthread"
threads = _int_env("GUNICORN_THREADS", 4)

# A listening socket per worker (SO_REUSEPORT): the kernel spreads new connections over the
# workers. With one shared socket a gthread worker keeps every keep-alive connection it wins, and
# a burst of them can land on one worker (one GIL) while the other idles: seen as half the
# throughput in one run of two in the API benchmark.
reuse_port = os.environ.get("GUNICORN_REUSE_PORT", "1") != "0"

# Long work belongs in RQ jobs; a request still running after this is wedged
# and the worker is better recycled than left holding a thread and DB
# connection.
timeout = _int_env("GUNICORN_TIMEOUT", 60)
# Shorter than the orchestrator's stop grace period (compose: 35s) so
# in-flight requests finish before SIGKILL.
graceful_timeout = _int_env("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Keep-alive sockets hold a gthread slot; behind a load balancer raise this
# above the LB's idle timeout to avoid spurious 502s.
keepalive = _int_env("GUNICORN_KEEPALIVE", 5)

# The heartbeat file must not live on the container's overlay filesystem,
# where fsync stalls can make the arbiter kill healthy workers.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# Containers ship logs from stdout/stderr; the request id ties an access line
# to the application's structured logs for the same request.
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
errorlog = os.environ.get("GUNICORN_ERRORLOG", "-")
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
access_log_format = (
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" '
    "%(D)sus request_id=%({x-request-id}o)s"
)

# Only trust X-Forwarded-* from the proxies we actually run behind; "*" lets
# any client spoof its scheme and address.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# DB engines and Redis clients must be created after fork(): sockets inherited
# by several workers interleave protocol traffic and corrupt the pool. Loading
# the app in each worker guarantees that whatever it does at import time.
preload_app = False
