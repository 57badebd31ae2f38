"""Headers every response carries, and cross-origin access for the configured origins only."""
from flask import request
from flask_cors import CORS

# Files that hold no patient data and may be cached: the pages' assets and Swagger UI's.
CACHEABLE_ENDPOINTS = {"clinic.static", "docs_assets.asset"}
HSTS = "max-age=31536000; includeSubDomains"


def secure_headers(response):
    """nosniff, a same-origin referrer, no caching of anything but static files, HSTS over HTTPS."""
    headers = response.headers
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    if request.endpoint not in CACHEABLE_ENDPOINTS:
        headers["Cache-Control"] = "no-store"
    if request.is_secure:
        headers["Strict-Transport-Security"] = HSTS
    return response


def register(app):
    """Add the headers to every response; allow CORS on the API for CORS_ORIGINS, if any."""
    app.after_request(secure_headers)
    origins = app.config["CORS_ORIGINS"]
    if origins:
        CORS(
            app,
            resources={r"/api/*": {"origins": origins}},
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=["Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining"],
            max_age=600,
        )
