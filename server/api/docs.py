"""Swagger UI assets served locally, so the docs work without a CDN."""
import swagger_ui_bundle
from flask import Blueprint, send_from_directory

bp = Blueprint("docs_assets", __name__)


@bp.get("/api/docs/assets/<path:filename>")
def asset(filename):
    """One Swagger UI file."""
    return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=86400)
