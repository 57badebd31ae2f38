"""The clinician pages: sign-in, worklist, a patient's course and the cohort's spread."""
from flask import Blueprint, redirect, render_template, request, session, url_for
from marshmallow import EXCLUDE, ValidationError

from schemas.trends import FOLLOW_UP_LABELS, GROUP_BY, CohortArgs
from schemas.worklist import WORKLIST_SORTS, WorklistArgs
from server.api.guards import limit_failed_sign_ins
from server.clinical.protocols import in_time_order
from server.clinical.trends import MEASURES, find_measure
from server.errors import Invalid, NotFound
from server.extensions import client_ip
from server.services import (
    access,
    adverse_events,
    auth,
    charts,
    cohort,
    notifications,
    references,
    schedules,
    survival,
    trends,
    worklist,
)
from server.vocabulary import CONDITIONS, PATIENT_FLAGS, TREATMENT_KINDS
from server.web import CONTENT_SECURITY_POLICY, csrf
from server.web.session import clinic_principal, safe_next, signed_in_page

bp = Blueprint(
    "clinic",
    __name__,
    url_prefix="/clinic",
    template_folder="templates",
    static_folder="../static",
    static_url_path="/static",
)
COHORT_DEFAULTS = {"instrument": "odi", "timepoint": "6m"}


@bp.before_request
def _protect_forms():
    csrf.protect()


@bp.after_request
def _page_headers(response):
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


@bp.context_processor
def _signed_in_user():
    principal = clinic_principal()
    return {"user": principal.user if principal else None}


def _loaded(schema, defaults=None):
    """The page's query arguments through the API's own schema; bad ones are a 422 page.

    A filter form sends the fields left empty as empty strings: those mean "any".
    """
    given = {name: value for name, value in request.args.items() if value != ""}
    try:
        return schema.load({**(defaults or {}), **given}, unknown=EXCLUDE)
    except ValidationError as exc:
        raise Invalid("Some filters are not valid.", {"query": exc.messages}) from exc


@bp.get("", strict_slashes=False)
def worklist_page():
    """The worklist, or the sign-in form for a visitor who is signed out."""
    principal = clinic_principal()
    if principal is None:
        return render_template("clinic/sign_in.html", next=None, email="")
    args = _loaded(WorklistArgs())
    result = worklist.worklist(principal, args)
    pages = max(1, -(-result["total"] // result["per_page"]))
    return render_template(
        "clinic/worklist.html",
        result=result,
        args=args,
        pages=pages,
        flags=PATIENT_FLAGS,
        kinds=TREATMENT_KINDS,
        sorts=WORKLIST_SORTS,
    )


@bp.get("/login")
def sign_in():
    """The sign-in form."""
    if clinic_principal() is not None:
        return redirect(safe_next(request.args.get("next")))
    return render_template("clinic/sign_in.html", next=request.args.get("next"), email="")


@bp.post("/login")
@limit_failed_sign_ins
def log_in():
    """Check the staff credentials and keep the new token in the session cookie."""
    email = request.form.get("email", "")[:254]
    password = request.form.get("password", "")[:1024]
    plaintext, _ = auth.login(email, password, client_ip())
    session.clear()
    session["token"] = plaintext
    return redirect(safe_next(request.form.get("next")))


@bp.post("/logout")
def log_out():
    """Revoke the session's token and forget it."""
    principal = clinic_principal()
    if principal is not None:
        auth.logout(principal)
    session.clear()
    return redirect(url_for("clinic.sign_in"))


@bp.get("/patients/<id:patient_id>")
@signed_in_page
def patient_page(patient_id):
    """One patient's course: charts and figures per measure, schedule, reminders, events."""
    principal = clinic_principal()
    patient = access.patient_for(principal, patient_id, "clinic.patient.read")
    course = references.add_references(principal, patient, trends.trends_of(patient))
    return render_template(
        "clinic/patient.html",
        patient=patient,
        charts=charts.patient_charts(patient.treatments, course),
        assessments=schedules.assessments_of(patient.id),
        notifications=notifications.notifications_of(patient.id),
        adverse_events=adverse_events.events_of(patient.id),
    )


@bp.get("/cohort")
@signed_in_page
def cohort_page():
    """The spread of one measure's change across the patients you may see."""
    principal = clinic_principal()
    args = _loaded(CohortArgs(), COHORT_DEFAULTS)
    measure = find_measure(args["instrument"], args.get("score_name"))
    result = cohort.outcomes(principal, args)
    surgery_free = survival.time_to_event(principal, {**args, "event": "surgery"})
    return render_template(
        "clinic/cohort.html",
        args=args,
        result=result,
        surgery_free=surgery_free,
        measure=measure,
        chart_data={
            "waterfall": _waterfall_rows(result),
            "groups": _group_rows(result),
            "trajectories": cohort.trajectories(principal, measure, args),
            "survival": [g for g in surgery_free["groups"] if g["cell_source"] is None],
        },
        measures=MEASURES,
        timepoints=["latest", *(label for label, _ in in_time_order(dict.fromkeys(FOLLOW_UP_LABELS)))],
        kinds=TREATMENT_KINDS,
        conditions=CONDITIONS,
        groupings=GROUP_BY,
    )


def _group_rows(result):
    """Each group's summary, or the whole cohort as one group when ungrouped."""
    if "groups" in result:
        return result["groups"]
    return [{"group": None, **{key: value for key, value in result.items() if key != "patients"}}]


def _waterfall_rows(result):
    """Every (patient, treatment) bar, in the API's order (group by group when grouped)."""
    if "groups" in result:
        return [row for group in result["groups"] for row in group["patients"]]
    return result["patients"]


@bp.get("/<path:unknown>")
def not_found(unknown):
    """Anything else under /clinic is a 404 page."""
    raise NotFound("There is no page here.")
