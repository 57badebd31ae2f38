"""Demo data: a clinic whose 300 patients were followed for up to two years after treatment.

people.py says who is in the clinic, course.py how each patient fares and what they answer,
seeding.py stores it all through the same services as the API.
"""
from server.demo.people import DEMO_COLLEAGUES, DEMO_PATIENTS, DEMO_STAFF
from server.demo.seeding import seed_demo

__all__ = ["DEMO_COLLEAGUES", "DEMO_PATIENTS", "DEMO_STAFF", "seed_demo"]
