"""``propgroup serve | db | demo | worker``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import click

from propgroup.config import PROJECT_HOME, instance_path, require_redis_url
from propgroup.ops.context import control_engine
from propgroup.tenancy import service
from propgroup.tenancy.migrate import upgrade_control_plane
from propgroup.tenancy.templates import load_group

DEMO_FILE = PROJECT_HOME / "tenants" / "demo.toml"


@click.group()
def db() -> None:
    """Control-plane database."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Migrate the control plane (schema public) to head."""
    upgrade_control_plane(control_engine(migrated=False))
    click.echo("control plane at head")


@click.group()
def demo() -> None:
    """The demo group."""


@demo.command("load")
@click.option(
    "--file", "path", default=str(DEMO_FILE), type=click.Path(dir_okay=False), show_default=True
)
def demo_load(path: str) -> None:
    """Provision the group described by a group file, unless it exists already."""
    load_group_file(Path(path))


def load_group_file(path: Path) -> dict:
    group = load_group(path)
    engine = control_engine()
    slug = group["tenant"]["slug"]
    if service.find_tenant(engine, slug) is not None:
        click.echo(f"{slug} exists; kept as it is")
        return group
    service.provision_tenant(
        engine, slug=slug, name=group["tenant"]["name"], template=group["template"], group=group
    )
    click.echo(f"provisioned {slug} from {path}")
    return group


@click.command()
@click.option("--with-scheduler", is_flag=True, help="Also run RQ's scheduler for delayed jobs.")
def worker(with_scheduler: bool) -> None:
    """Run one RQ worker on the default queue."""
    from redis import Redis
    from rq import Worker

    control_engine(redis=True)
    connection = Redis.from_url(require_redis_url())
    Worker(["default"], connection=connection).work(with_scheduler=with_scheduler)


@click.command()
def relay() -> None:
    """Move outbox messages of every tenant to RQ, continuously."""
    from redis import Redis

    from propgroup.jobs.relay import relay_forever

    engine = control_engine(redis=True)
    relay_forever(engine, Redis.from_url(require_redis_url()))


@click.command()
def scheduler() -> None:
    """Enqueue the periodic jobs of jobs/periodic.py on their schedules (RQ's cron scheduler)."""
    from redis import Redis
    from rq.cron import CronScheduler

    from propgroup.jobs.periodic import fan_out, periodic_job_definitions

    control_engine(redis=True)
    cron = CronScheduler(connection=Redis.from_url(require_redis_url()), name="propgroup")
    for job in periodic_job_definitions():
        cron.register(
            fan_out,
            "default",
            args=(job.tenant_job,),
            cron=job.cron,
            interval=job.interval_seconds,
            name=job.name,
        )
    cron.start()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--web-workers", default=2, show_default=True, type=int)
def serve(host: str, port: int, web_workers: int) -> None:
    """Everything on one machine: services, migrations, demo group, web and one worker."""
    _refuse_taken_port(host, port)
    instance = instance_path()
    instance.mkdir(parents=True, exist_ok=True)
    engine = control_engine(redis=True, migrated=False)
    upgrade_control_plane(engine)
    group = load_group_file(DEMO_FILE)
    env = {**os.environ, "PROPGROUP_INSTANCE": str(instance)}
    children = [
        subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                str(PROJECT_HOME / "infra/gunicorn.conf.py"),
                "-b",
                f"{host}:{port}",
                "-w",
                str(web_workers),
                "wsgi:app",
            ],
            cwd=PROJECT_HOME,
            env=env,
        ),
        *(
            subprocess.Popen([sys.executable, "-m", "propgroup", *argv], cwd=PROJECT_HOME, env=env)  # noqa: S603
            for argv in (["worker", "--with-scheduler"], ["relay"], ["scheduler"])
        ),
    ]
    _print_welcome(f"http://{host}:{port}", group)
    _wait_then_stop(children)


def _refuse_taken_port(host: str, port: int) -> None:
    """Gunicorn's workers listen with SO_REUSEPORT, which would share the port with an earlier
    `make run` still running: refuse instead, as a plain bind does."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise click.ClickException(f"{host}:{port} is in use ({error.strerror})") from None


def _print_welcome(url: str, group: dict) -> None:
    slug = group["tenant"]["slug"]
    click.echo(f"\nPropGroup is up: {url}  (demo group: {url}/t/{slug}/)")
    click.echo(f"API docs: {url}/api/docs   health: {url}/readyz")
    click.echo(f"Demo logins (password {group['tenant']['demo_password']}):")
    for user in group["users"]:
        roles = ", ".join(f"{r['role']}@{r['unit']}" for r in user["roles"])
        click.echo(f"  {user['login']:<18} {user['display_name']:<8} {roles}")
    click.echo("Ctrl-C stops everything.\n")


def _wait_then_stop(children: list[subprocess.Popen]) -> None:
    """Run until Ctrl-C, SIGTERM or any child exiting; then stop every child cleanly."""
    stopped_by_signal = False

    def on_signal(_signum: int, _frame: object) -> None:
        nonlocal stopped_by_signal
        stopped_by_signal = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    while not stopped_by_signal and all(child.poll() is None for child in children):
        time.sleep(0.3)
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
    if not stopped_by_signal:
        sys.exit("a child process exited unexpectedly; everything was stopped")
    click.echo("stopped")
