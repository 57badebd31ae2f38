"""Staff sign-in and sign-out, and device enrollment."""
from flask import Response, current_app
from flask.views import MethodView
from server.api.blueprint import Blueprint

from schemas.auth import (
    EnrollResponseSchema,
    EnrollSchema,
    LoginResponseSchema,
    LoginSchema,
)
from server.api.contract import answers, public
from server.api.guards import (
    current_principal,
    limit_failed_enrollments,
    limit_failed_sign_ins,
    signed_in,
)
from server.extensions import client_ip
from server.services import auth, enrollment

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Sign-in and enrollment")


@blp.route("/login")
class Login(MethodView):
    @public
    @answers(401)
    @limit_failed_sign_ins
    @blp.arguments(LoginSchema())
    @blp.response(200, LoginResponseSchema)
    @blp.doc(operationId="signIn")
    def post(self, data):
        """Sign in with email and password for a staff bearer token."""
        plaintext, token = auth.login(data["email"], data["password"], client_ip())
        return {
            "access_token": plaintext,
            "token_type": "Bearer",
            "expires_at": token.expires_at,
            "idle_timeout_seconds": int(current_app.config["STAFF_TOKEN_IDLE"].total_seconds()),
            "user": token.user,
        }


@blp.route("/logout")
class Logout(MethodView):
    @signed_in
    @blp.response(204)
    @blp.doc(operationId="signOut")
    def post(self):
        """Revoke the bearer token presented with this request."""
        auth.logout(current_principal())
        return Response(status=204)  # no body, so no Content-Type either


@blp.route("/enroll")
class Enroll(MethodView):
    @public
    @answers(401, 410)
    @limit_failed_enrollments
    @blp.arguments(EnrollSchema())
    @blp.response(201, EnrollResponseSchema)
    @blp.doc(operationId="enrollDevice")
    def post(self, data):
        """Exchange a one-time enrollment code for a long-lived device token."""
        plaintext, token, patient = enrollment.exchange_code(
            data["code"], data["device_label"], client_ip()
        )
        return {
            "access_token": plaintext,
            "token_type": "Bearer",
            "expires_at": token.expires_at,
            "patient": patient,
        }

