"""The clinician pages in a real browser (Debian's Chromium driven by Playwright) on the demo.

Screenshots of each page, at 1280x800 and 768 px wide, are written to test-artifacts/
(or BACKTRACK_ARTIFACTS). Without Chromium the tests skip, except under CI, where they fail.
"""
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from server import create_app
from server.demo import DEMO_STAFF, seed_demo
from server.extensions import db
from tests.builders import TEST_SETTINGS, empty_tables, make_organization, make_patient, make_staff

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("BACKTRACK_ARTIFACTS", Path(__file__).parent.parent / "test-artifacts"))
ADMIN, CLINICIAN = DEMO_STAFF[0], DEMO_STAFF[1]
WIDTHS = (1280, 768)


@dataclass
class LiveDemo:
    """The demo clinic served over HTTP, with an API client for comparing what pages show."""

    app: object
    base: str
    stranger_patient_id: int

    def api(self, path, user=CLINICIAN):
        """A JSON API read as a demo staff member."""
        client = self.app.test_client()
        login = client.post("/api/v1/auth/login", json={"email": user[0], "password": user[1]})
        response = client.get(path, headers={"Authorization": f"Bearer {login.json['access_token']}"})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.json


@pytest.fixture(scope="module")
def live(database_url):
    """The demo seeded into the test database and served on a free port; emptied afterwards."""
    app = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        seed_demo()
        elsewhere = make_organization("Another Clinic")
        stranger = make_patient(elsewhere, care_team=[make_staff(elsewhere)])
        db.session.commit()
        stranger_id = stranger.id
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveDemo(app, f"http://127.0.0.1:{server.server_port}", stranger_id)
    server.shutdown()
    thread.join()
    with app.app_context():
        empty_tables()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium from the system, never a downloaded one."""
    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} is missing: apt-get install -y chromium"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live):
    """A fresh browser tab; the test fails on any console error or uncaught script error."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    tab = context.new_page()
    problems, refused_documents = [], set()

    def on_console(message):
        # Chromium logs a page answered with an error status; the tests check those statuses.
        if message.type == "error" and message.location.get("url") not in refused_documents:
            problems.append(message.text)

    def on_response(response):
        if response.request.is_navigation_request() and response.status >= 400:
            refused_documents.add(response.url)

    tab.on("response", on_response)
    tab.on("console", on_console)
    tab.on("pageerror", lambda error: problems.append(str(error)))
    yield tab
    context.close()
    assert problems == [], "console errors"


def sign_in(page, live, user=CLINICIAN):
    page.goto(f"{live.base}/clinic")
    page.fill("#email", user[0])
    page.fill("#password", user[1])
    page.click("button[type=submit]")
    page.wait_for_load_state()


def shoot(page, name):
    """Screenshots of the whole page at each width, as test artifacts."""
    ARTIFACTS.mkdir(exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        page.wait_for_timeout(100)
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} overflows"
    page.set_viewport_size({"width": 1280, "height": 800})


def canvas_is_drawn(page, selector):
    """True when the canvas has at least one painted pixel."""
    return page.eval_on_selector(
        selector,
        "c => c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some(v => v !== 0)",
    )


def test_a_wrong_password_is_refused(page, live):
    assert page.goto(f"{live.base}/clinic").status == 200
    shoot(page, "sign-in")
    page.fill("#email", CLINICIAN[0])
    page.fill("#password", "not the password")
    with page.expect_response(f"{live.base}/clinic/login") as answer:
        page.click("button[type=submit]")
    assert answer.value.status == 401
    assert page.locator("[role=alert]").inner_text() == "Unknown email or wrong password."


def test_a_form_post_without_a_csrf_token_is_400(page, live):
    response = page.request.post(
        f"{live.base}/clinic/login", form={"email": CLINICIAN[0], "password": CLINICIAN[1]}
    )
    assert response.status == 400


def test_the_worklist_lists_the_demo_patients_and_filters_by_flag(page, live):
    sign_in(page, live)
    everyone = live.api("/api/v1/worklist?per_page=25")
    rows = page.locator("table.worklist tbody tr")
    assert rows.count() == len(everyone["items"]) > 0
    assert page.locator("#worklist-count").inner_text().startswith(str(everyone["total"]))
    shoot(page, "worklist")
    page.select_option("select[name=flag]", "improving")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state()
    improving = live.api("/api/v1/worklist?flag=improving&per_page=25")
    flags = rows.evaluate_all("rows => rows.map(row => row.dataset.flags.split(' '))")
    assert len(flags) == len(improving["items"]) > 0
    assert all("improving" in row for row in flags)


def test_the_patient_page_draws_its_charts_and_its_table_matches_the_trends_api(page, live):
    worklist = live.api("/api/v1/worklist?per_page=100&sort=-odi_change")
    patient_id = next(row["patient_id"] for row in worklist["items"] if row["odi"])
    trends = live.api(f"/api/v1/patients/{patient_id}/trends")
    sign_in(page, live)
    response = page.goto(f"{live.base}/clinic/patients/{patient_id}")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    canvases = page.locator("canvas[data-chart]")
    assert canvases.count() > 0
    for index in range(canvases.count()):
        assert canvas_is_drawn(page, f"canvas[data-chart='{index}']"), index
    shown = 0
    for treatment in trends["treatments"]:
        for measure in treatment["measures"]:
            key = f"{measure['instrument']}.{measure['score_name']}"
            row = page.locator(
                f"article[data-measure='{key}'] tr[data-treatment-id='{treatment['treatment_id']}']"
            )
            cells = {field: row.locator(f"td[data-field={field}]").inner_text() for field in ("baseline", "latest", "change")}
            baseline = measure["baseline"]["value"] if measure["baseline"] else None
            latest = measure["latest"]["value"] if measure["latest"] else None
            assert cells == {
                "baseline": "–" if baseline is None else f"{baseline:.1f}",
                "latest": "–" if latest is None else f"{latest:.1f}",
                "change": "–" if measure["change"] is None else f"{measure['change']:+.1f}",
            }, key
            shown += 1
    assert shown > 0
    shoot(page, "patient")


def test_the_cohort_waterfall_has_one_bar_per_row_of_the_cohort_api(page, live):
    outcomes = live.api("/api/v1/cohort/outcomes?instrument=odi&timepoint=6m")
    sign_in(page, live)
    page.goto(f"{live.base}/clinic/cohort?instrument=odi&timepoint=6m")
    bars = page.eval_on_selector(
        "canvas[data-cohort=waterfall]", "c => Chart.getChart(c).data.datasets[0].data.length"
    )
    assert bars == len(outcomes["patients"]) > 0
    for name in ("waterfall", "rates", "trajectories", "survival"):
        assert canvas_is_drawn(page, f"canvas[data-cohort={name}]"), name
    shoot(page, "cohort")


def test_signed_out_a_patient_page_redirects_to_the_sign_in(page, live):
    page.goto(f"{live.base}/clinic/patients/1")
    assert page.url == f"{live.base}/clinic/login?next=/clinic/patients/1"
    assert page.locator("form[action='/clinic/login']").count() == 1


def test_another_organizations_patient_is_a_404_page(page, live):
    sign_in(page, live, ADMIN)
    response = page.goto(f"{live.base}/clinic/patients/{live.stranger_patient_id}")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "Not found"
    shoot(page, "not-found")


def test_the_worklist_works_with_the_keyboard(page, live):
    sign_in(page, live)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    first = page.locator("table.worklist tbody a").first
    first.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/clinic/patients/" in page.url


def test_the_patient_page_shades_comparable_patients_and_shows_percentiles(page, live):
    worklist = live.api("/api/v1/worklist?per_page=100")
    for row in worklist["items"]:
        trends = live.api(f"/api/v1/patients/{row['patient_id']}/trends")
        referenced = [
            (treatment, measure)
            for treatment in trends["treatments"][-1:]
            for measure in treatment["measures"]
            if any(reference for reference in measure["reference"].values())
        ]
        if referenced:
            break
    assert referenced, "no demo patient has ten comparable patients"
    treatment, measure = referenced[0]
    key = f"{measure['instrument']}.{measure['score_name']}"
    sign_in(page, live)
    page.goto(f"{live.base}/clinic/patients/{row['patient_id']}")
    labels = page.eval_on_selector(
        f"article[data-measure='{key}'] canvas",
        "c => Chart.getChart(c).data.datasets.map(d => d.label)",
    )
    assert labels[:4] == ["P90", "P10", "P75", "P25"]
    ranks = page.locator(f"article[data-measure='{key}'] tr[data-treatment-id='{treatment['treatment_id']}'] .rank")
    expected = [
        f"P{reference['percentile']['value']:.0f}"
        for reference in measure["reference"].values()
        if reference and reference["percentile"]["value"] is not None
    ]
    assert ranks.all_inner_texts() == expected


def test_the_cohort_page_shows_the_anchor_agreement(page, live):
    outcomes = live.api("/api/v1/cohort/outcomes?instrument=odi&timepoint=6m")
    sign_in(page, live)
    page.goto(f"{live.base}/clinic/cohort?instrument=odi&timepoint=6m")
    cells = page.locator("table.anchor td").all_inner_texts()
    anchor = outcomes["anchor"]
    assert cells == [
        str(anchor[name])
        for name in (
            "improved_both", "improved_by_mic_only", "improved_by_anchor_only", "improved_by_neither"
        )
    ]


def test_the_api_docs_render_the_openapi_31_document(page, live):
    # The browser asks for a favicon the docs page does not name; it is not what is tested.
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    page.goto(f"{live.base}/api/docs")
    page.locator("#operations-checkins-submitCheckIn").click()
    example = page.locator("#operations-checkins-submitCheckIn .body-param__example").first
    assert '"instrument": "nrs_pain"' in example.inner_text()
    assert page.locator("text=Unable to render this definition").count() == 0
    shoot(page, "api-docs")
