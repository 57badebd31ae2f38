"""The clinician pages under /clinic: a second front end over the same services as the API."""
from flask import render_template, request
from flask_wtf.csrf import CSRFProtect

from server.vocabulary import DISPLAY_NAMES

csrf = CSRFProtect()

# Scripts and styles only from this server, none inline: charts read their data from JSON blocks.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
ERROR_TITLES = {
    400: "The request could not be read",
    401: "Sign in first",
    403: "Not allowed",
    404: "Not found",
    405: "Not here",
    409: "Conflict",
    413: "Too large",
    422: "Some values are not valid",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "Try again shortly",
}


def render_error_page(status, message):
    """The HTML page of an error under /clinic; a refused sign-in shows the form again."""
    if status == 401 and request.endpoint == "clinic.log_in":
        return render_template(
            "clinic/sign_in.html", error=message, email=request.form.get("email", "")
        )
    title = ERROR_TITLES.get(status, "Error")
    return render_template("clinic/error.html", status=status, title=title, message=message)


def label(value):
    """A vocabulary key in words: cell_therapy as Cell therapy, prp as PRP."""
    if value is None:
        return ""
    return DISPLAY_NAMES.get(value) or str(value).replace("_", " ").capitalize()


def register(app):
    """Mount the pages, their CSRF protection and their HTML error pages."""
    from server.web.pages import bp

    csrf.init_app(app)
    app.add_template_filter(label)
    app.add_template_global(DISPLAY_NAMES, "display_names")
    app.register_blueprint(bp)
    app.extensions["error_pages"][bp.url_prefix] = render_error_page
