"""Marshmallow schemas: each request and response body declared once."""
