"""WSGI entry point: ``gunicorn wsgi:app``."""

from propgroup.app import create_app

app = create_app()
