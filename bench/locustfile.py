"""Load for bench_fhir: authorised DocumentReference searches, MHD document bundles, profile Observations
(a body weight written, a patient's Observations searched), and the hello-world floor.

Run by bench/bench_fhir.py, which sets CARNET_BENCH_TOKEN and CARNET_BENCH_PATIENTS (comma-separated ids).
"""

from __future__ import annotations

import os
import random

from locust import HttpUser, constant, tag, task
from tests.fhir.documents import bundle

from bench.observations import body_weight

TOKEN = os.environ.get("CARNET_BENCH_TOKEN", "")
PATIENTS = [p for p in os.environ.get("CARNET_BENCH_PATIENTS", "").split(",") if p]
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/fhir+json"}


class Software(HttpUser):
    """A practice's software: no think time, so the figures are the server's capacity."""

    wait_time = constant(0)

    @tag("search")
    @task
    def search_documents(self) -> None:
        patient = random.choice(PATIENTS)
        self.client.get(f"/fhir/DocumentReference?patient={patient}&_count=20", headers=HEADERS, name="search")

    @tag("bundle")
    @task
    def provide_bundle(self) -> None:
        body = bundle(random.choice(PATIENTS), count=1)
        headers = {**HEADERS, "Content-Type": "application/fhir+json"}
        with self.client.post("/fhir", json=body, headers=headers, name="bundle", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}: {response.text[:200]}")

    @tag("profile-search")
    @task
    def search_observations(self) -> None:
        patient = random.choice(PATIENTS)
        url = f"/fhir/Observation?patient={patient}&_count=20"
        with self.client.get(url, headers=HEADERS, name="profile-search", catch_response=True) as response:
            if response.status_code != 200 or not response.json().get("entry"):
                response.failure(f"{response.status_code}: {response.text[:200]}")

    @tag("profile-write")
    @task
    def write_observation(self) -> None:
        body = body_weight(random.choice(PATIENTS))
        headers = {**HEADERS, "Content-Type": "application/fhir+json"}
        with self.client.post(
            "/fhir/Observation", json=body, headers=headers, name="profile-write", catch_response=True
        ) as response:
            if response.status_code != 201:
                response.failure(f"{response.status_code}: {response.text[:200]}")

    @tag("hello")
    @task
    def hello(self) -> None:
        self.client.get("/hello", name="hello")
