// The app's side of a patient's day, typed from the served OpenAPI document: enroll with a code,
// read the instruments, check in (and replay), post a batch, pull what changed with the cursor,
// void, read the assessments and one's own trends. Every step checks what the API answered.
//
//   BACKTRACK_URL=http://127.0.0.1:8000 ENROLLMENT_CODE=ABCD-EFGH node dist/src/flow.js
import { randomUUID } from "node:crypto";

import createClient from "openapi-fetch";

import type { components, paths } from "../generated/api.js";

type CheckInSubmit = components["schemas"]["CheckInSubmit"];

function setting(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") {
    throw new Error(`${name} is not set`);
  }
  return value;
}

function check(condition: boolean, what: string): void {
  if (!condition) {
    throw new Error(what);
  }
}

function present<T>(value: T | undefined, what: string): T {
  if (value === undefined) {
    throw new Error(`${what}: no body`);
  }
  return value;
}

function painScore(back: number, completedAt: Date): CheckInSubmit {
  return {
    id: randomUUID(),
    instrument: "nrs_pain",
    answers: { back: back, leg: 2 },
    completed_at: completedAt.toISOString(),
  };
}

async function main(): Promise<void> {
  const baseUrl = setting("BACKTRACK_URL");
  const anonymous = createClient<paths>({ baseUrl });

  const enrolled = await anonymous.POST("/api/v1/auth/enroll", {
    body: { code: setting("ENROLLMENT_CODE"), device_label: "TypeScript app" },
  });
  const device = present(enrolled.data, "enroll");
  check(enrolled.response.status === 201, `enroll answered ${enrolled.response.status}`);
  const token: string = device.access_token;
  const patientId: number = device.patient.id;
  const app = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });

  const instruments = present((await app.GET("/api/v1/instruments")).data, "instruments");
  const codes: string[] = instruments.map((instrument) => instrument.code);
  check(codes.includes("nrs_pain"), `instruments: ${codes.join(", ")}`);

  const first = painScore(7, new Date(Date.now() - 60_000));
  const created = await app.POST("/api/v1/me/checkins", { body: first });
  check(created.response.status === 201, `check-in answered ${created.response.status}`);
  const replayed = await app.POST("/api/v1/me/checkins", { body: first });
  check(replayed.response.status === 200, `replay answered ${replayed.response.status}`);
  const stored = present(replayed.data, "replay");
  const storedScore: number | null = stored.score;
  check(stored.id === first.id && storedScore === 7, "the replay answers the stored check-in");

  const start = present((await app.GET("/api/v1/me/checkins")).data, "changes");
  const cursor: string = start.next_cursor;
  const batch = [painScore(5, new Date(Date.now() - 30_000)), painScore(4, new Date())];
  const results = present(
    (await app.POST("/api/v1/me/checkins/batch", { body: { checkins: batch } })).data,
    "batch",
  );
  const statuses: string[] = results.results.map((result) => result.status);
  check(statuses.join() === "created,created", `batch: ${statuses.join()}`);

  const changed = present(
    (await app.GET("/api/v1/me/checkins", { params: { query: { since: cursor } } })).data,
    "changes since the cursor",
  );
  const moreToCome: boolean = changed.has_more;
  const pulled: string[] = changed.items.map((item) => item.id);
  check(!moreToCome && pulled.join() === batch.map((item) => item.id).join(), `pulled ${pulled.join()}`);

  const voided = await app.POST("/api/v1/me/checkins/{checkin_id}/void", {
    params: { path: { checkin_id: first.id } },
    body: { reason: "Entered by mistake" },
  });
  const isVoided: boolean = present(voided.data, "void").voided;
  check(isVoided, "the check-in is voided");

  const assessments = present(
    (await app.GET("/api/v1/me/assessments", { params: { query: { status: "completed" } } })).data,
    "assessments",
  );
  const timePoints: string[] = assessments.map((assessment) => assessment.time_point);
  const trends = present((await app.GET("/api/v1/me/trends")).data, "trends");
  const ownTrends: boolean = trends.patient_id === patientId;
  check(ownTrends, "one's own trends");

  process.stdout.write(
    JSON.stringify({ patientId, codes, statuses, pulled, timePoints, treatments: trends.treatments.length }) + "\n",
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
